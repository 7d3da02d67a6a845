"""The dispatcher's sense of time: the system clock, or a virtual one that tests drive.

Every due time, retry delay, request deadline and circuit-breaker ping is read from a ``Clock``, so
a test can run hours of vendor schedule in a moment. Sockets stay real: the loop still waits on them
with ``select``, only for no longer than the clock allows (``select_timeout``), and tells the clock
when that wait found nothing (``idled``), which is when a virtual clock jumps ahead.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

IDLE_TICK = 0.01  # the longest real wait: the loop also looks for newly submitted work


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch, as due times are stored."""
        ...

    def select_timeout(self, wait: float | None) -> float:
        """How long to wait on sockets, in real seconds, when the next timer is ``wait`` away."""
        ...

    def idled(self, wait: float | None) -> None:
        """The wait found no socket ready; ``wait`` was the time to the next timer."""
        ...


class SystemClock:
    """Real time."""

    def now(self) -> float:
        return time.time()

    def select_timeout(self, wait: float | None) -> float:
        return IDLE_TICK if wait is None else min(IDLE_TICK, max(wait, 0.0))

    def idled(self, wait: float | None) -> None:
        return None


SYSTEM = SystemClock()


class VirtualClock:
    """Time that stands still while anything happens and jumps to the next timer once the sockets
    have been quiet for ``quiet`` real seconds (so a local consumer, answering in real time, is
    never overtaken by a jump). ``advance`` moves it by hand."""

    def __init__(self, start: float | None = None, quiet: float = 0.1) -> None:
        self._now = time.time() if start is None else start
        self.quiet = quiet
        self.jumps = 0
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def select_timeout(self, wait: float | None) -> float:
        return self.quiet if wait is None or wait > 0 else 0.0

    def idled(self, wait: float | None) -> None:
        if wait is not None and wait > 0:
            self.advance(wait)
            self.jumps += 1
