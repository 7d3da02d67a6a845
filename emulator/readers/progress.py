"""How far long work has got: counters, the one line that tells it, and when to tell it again.

Planning, delivery, load and the contract suite report through ``Step`` (one counted thing: events
planned, deliveries delivered, cases verified); the command line draws steps as a bar on a terminal
or as these lines on a pipe (``emulator.cli.progress``), Locust's processes log the lines. Nothing
here reads a clock of its own: the time comes in as an argument, so the pace is tested without
waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

EVERY = 5.0  # seconds between lines on a pipe


@dataclass(frozen=True)
class Step:
    """One counted part of long work: ``done`` of ``total`` (None: not known yet) ``unit``, with
    notes such as ``"12 failed"``. ``about``: the total is an estimate (a scenario's events are
    drawn by chance), so the share is shown as one."""

    verb: str  # "planned", "delivered", "verified"
    done: int
    total: int | None = None
    unit: str = ""
    about: bool = False
    finished: bool = False  # nothing more will be counted: the total is the count
    notes: tuple[str, ...] = ()

    @property
    def fraction(self) -> float | None:
        """How much is done, 0 to 1; never 1 against an estimate before it is finished (chance
        may plan more than the average)."""
        if self.finished:
            return 1.0
        if not self.total:
            return None
        return min(self.done / self.total, 0.99 if self.about else 1.0)

    def line(self, rate: float | None = None) -> str:
        """``planned 120,000/~1,000,000 events (12%), 45,000/s``."""
        total = self.done if self.finished else self.total
        text = f"{self.verb} {self.done:,}"
        if total is not None:
            text += f"/{'~' if self.about and not self.finished else ''}{total:,}"
        if self.unit:
            text += f" {self.unit}"
        share = self.fraction
        if share is not None and total:
            text += f" ({share:.0%})"
        parts = [text, *self.notes]
        if rate is not None and not self.finished:
            parts.append(f"{rate:,.0f}/s")
        return ", ".join(parts)


def line(steps: Sequence[Step], rates: Sequence[float | None] = ()) -> str:
    """Every step on one line, ``; `` between them."""
    rated = list(rates) + [None] * (len(steps) - len(rates))
    return "; ".join(step.line(rate) for step, rate in zip(steps, rated, strict=True))


@dataclass
class Pace:
    """Says when a pipe gets its next line: at most one every ``every`` seconds of ``now``s given."""

    every: float = EVERY
    last: float | None = None
    shown: int = 0  # lines said due so far

    def due(self, now: float) -> bool:
        if self.last is None:
            self.last = now  # the first line waits a whole interval: short work prints none
            return False
        if now - self.last >= self.every:
            self.last = now
            self.shown += 1
            return True
        return False


@dataclass
class Rates:
    """Counts per second of each step since it was first seen, from the ``now``s given."""

    since: dict[str, tuple[float, int]] = field(default_factory=dict)

    def of(self, steps: Sequence[Step], now: float) -> list[float | None]:
        rates: list[float | None] = []
        for step in steps:
            first = self.since.setdefault(step.verb, (now, step.done))
            elapsed = now - first[0]
            rates.append((step.done - first[1]) / elapsed if elapsed > 0 else None)
        return rates


@dataclass
class Planning:
    """Events planned so far, of about ``expected``; moved by whoever stores the plan (a run: from
    its driver's progress, which also counts what a planning child made)."""

    expected: int | None = None
    about: bool = True
    planned: int = 0
    finished: bool = False

    def step(self) -> Step:
        return Step("planned", self.planned, self.expected, "events", self.about, self.finished)
