"""Argument types shared by every command: numbers with bounds, ports, instants.

Each is an argparse ``type=``: it returns the parsed value or raises ``ArgumentTypeError``, which
argparse turns into a usage error (exit 2) naming the flag.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from emulator.readers import bounds


def number(
    kind: type,
    minimum: float,
    *,
    inclusive: bool = True,
    maximum: float | None = None,
    what: str = "",
) -> Callable[[str], Any]:
    """A ``kind`` (int or float) at least (or, not ``inclusive``, above) ``minimum``."""
    noun = what or ("an integer" if kind is int else "a number")
    bound = f"{'at least' if inclusive else 'greater than'} {minimum:g}"
    if maximum is not None:
        bound = f"{noun} from {minimum:g} to {maximum:g}"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
        too_small = value < minimum or (not inclusive and value == minimum)
        if not math.isfinite(value) or too_small or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"{text!r} must be {bound}")
        return value

    return parse


positive = number(float, 0, inclusive=False)
count = number(int, 1)
seconds = number(float, 0, what="a number of seconds")
port = number(int, 0, maximum=65535, what="a port number")  # 0: let the system pick one
remote_port = number(int, 1, maximum=65535, what="a port number")


def instant(text: str) -> datetime:
    """An ISO 8601 time with a zone (``2026-01-15T09:30:00Z``)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time; expected e.g. 2026-01-15T09:30:00Z"
        ) from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone; add Z or +00:00")
    if problem := bounds.instant_problem(value):
        raise argparse.ArgumentTypeError(problem)
    return value
