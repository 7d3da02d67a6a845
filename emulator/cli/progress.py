"""Progress of long commands on standard error: a live bar on a terminal, a line every few seconds
on a pipe (CI logs), nothing with ``--quiet``. Standard output is never touched.

The work reports ``Step``s (``emulator.readers.progress``) to ``Display.update``, from any thread;
``close`` shows the last state. The clock is an argument, so the pace of the lines is tested with
a fake one.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from emulator.readers.progress import EVERY, Pace, Rates, Step, line

QUIET, TERMINAL, PIPE = "quiet", "terminal", "pipe"


def mode_of(stream: TextIO, quiet: bool) -> str:
    if quiet:
        return QUIET
    try:
        return TERMINAL if stream.isatty() else PIPE
    except (AttributeError, ValueError):  # no isatty, or closed
        return PIPE


class Display:
    """Where a command's ``Step``s are shown; ``mode`` is chosen from ``stream`` unless given."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        quiet: bool = False,
        mode: str | None = None,
        every: float = EVERY,
        clock: Callable[[], float] = time.monotonic,
        console: Any = None,
        last_line: bool = True,
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.mode = mode or mode_of(self.stream, quiet)
        self.last_line = last_line  # on a pipe, a line at the end even when none came before
        self.clock = clock
        self.pace = Pace(every)
        self.rates = Rates()
        self._console = console  # a rich Console (tests pass one that writes to a StringIO)
        self._bar: Any = None
        self._tasks: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._closed = False
        self.last: Sequence[Step] = ()

    def update(self, steps: Sequence[Step]) -> None:
        """Show ``steps`` now (terminal), when a line is due (pipe), or not at all (quiet)."""
        if self.mode == QUIET:
            return
        with self._lock:
            if self._closed:
                return
            now = self.clock()
            rates = self.rates.of(steps, now)
            self.last = steps
            if self.mode == TERMINAL:
                self._draw(steps, rates)
            elif self.pace.due(now):
                self._write(line(steps, rates))

    def close(self, steps: Sequence[Step] | None = None) -> None:
        """The last state: the bar drawn once more and left on screen, or one last line."""
        if self.mode == QUIET:
            return
        with self._lock:
            if self._closed:
                return
            self._closed = True
            steps = self.last if steps is None else steps
            if self.mode == TERMINAL:
                if steps:
                    self._draw(steps, [None] * len(steps))
                if self._bar is not None:
                    self._bar.stop()
            elif steps and (self.last_line or self.pace.shown):
                self._write(line(steps))

    def __enter__(self) -> Display:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # standard error went away: progress is not worth a failure
            pass

    def _draw(self, steps: Sequence[Step], rates: Sequence[float | None]) -> None:
        bar = self._bar or self._start()
        for step, rate in zip(steps, rates, strict=True):
            task = self._tasks.get(step.verb)
            if task is None:
                task = self._tasks[step.verb] = bar.add_task(step.verb, total=None, detail="")
            total = step.done if step.finished else step.total
            detail = step.line(rate).removeprefix(step.verb + " ")
            bar.update(task, completed=step.done, total=total, detail=detail)

    def _start(self) -> Any:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        console = self._console or Console(file=self.stream)
        self._bar = Progress(
            TextColumn("{task.description:>9}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            refresh_per_second=4,
        )
        self._bar.start()
        return self._bar


def delivery_step(progress: Any, *, total_known: bool = True, finished: bool = False) -> Step:
    """The dispatcher's counters (``emulator.delivery.judging.Progress``) as a ``Step``: deliveries
    made final, of those submitted (unknown while the plan is still being read)."""
    statuses = progress.statuses
    notes = [f"{statuses['delivered']:,} delivered"]
    notes += [f"{statuses[s]:,} {s}" for s in ("failed", "exhausted") if statuses[s]]
    if progress.retries:
        notes.append(f"{progress.retries:,} retries")
    notes += [f"{vendor} webhook {state}" for vendor, state in progress.breakers.items()]
    return Step(
        "finished",
        progress.done,
        progress.submitted if total_known else None,
        "deliveries",
        finished=finished,
        notes=tuple(notes),
    )
