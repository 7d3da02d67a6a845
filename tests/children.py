"""Whether this process has children left: forked workers end, and are reaped, when their work
ends early or not."""

from __future__ import annotations

import os


def no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False
