"""A plan made on several processes at once, and read back in plan order.

Each block of an event list draws from a random stream of its own, and no batch holds events of
two blocks (``core.plan.BLOCK``): so process ``b % count`` can plan block ``b`` and make its
requests (``envelopes``), and the blocks read back a process at a time, in turn, are the
deliveries one process makes of the plan, byte for byte. What reads them keeps the digest and
feeds the outbox as before (``emulator.delivery.feed``). The processes are forked
(``emulator.readers.forked``) on the first delivery asked for (in a run, by its planning child);
a full pipe holds a planner back.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from emulator.core.plan import Parts, PlannedEvent, Share
from emulator.delivery.envelopes import envelopes
from emulator.delivery.records import NewDelivery
from emulator.readers import forked

MAX_PLANNERS = 4  # past this, the one reader of their blocks is what limits


def cores() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def count(parts: Parts) -> int:
    """How many processes plan ``parts``: one a core this process may use, at most one a block."""
    return max(1, min(cores(), MAX_PLANNERS, parts.blocks))


def planned(
    events: Iterable[PlannedEvent],
    settings: Any,
    start: float,
    *,
    parts: Parts | None = None,
    spread: Callable[[int], Iterator[PlannedEvent]] | None = None,
) -> Iterator[NewDelivery]:
    """A plan's deliveries (``envelopes`` of ``events``), planned on the cores this process may
    use where the plan allows: an event list's blocks by planners (``parts``), a scenario's flows
    by workers whose events are merged back in plan order (``spread(processes)``). The same
    deliveries, byte for byte, every way."""
    processes = min(cores(), MAX_PLANNERS)
    if parts is not None and count(parts) > 1:
        return deliveries(parts, settings, start, count(parts))
    if spread is not None and processes > 1:
        return envelopes(spread(processes), settings, start)
    return envelopes(events, settings, start)


def deliveries(parts: Parts, settings: Any, start: float, processes: int) -> Iterator[NewDelivery]:
    """``envelopes`` of the plan, its blocks planned by ``processes`` forked processes in turn.

    Forks on the first delivery asked for; a process that cannot fork (or ``processes`` 1) plans
    them itself. Closing the iterator early ends the planners.
    """
    # Planners only plan (no lock another thread may hold): forking beside threads is safe.
    if processes < 2 or not forked.available():
        for block in parts.plan((0, 1)):
            yield from envelopes(block, settings, start)
        return
    tasks = [_task(parts, (index, processes), settings, start) for index in range(processes)]
    with forked.workers(tasks) as blocks:
        for number in range(parts.blocks):
            rows = next(blocks[number % processes], None)
            if rows is None:
                raise RuntimeError(f"planner {number % processes} ended before block {number}")
            yield from (NewDelivery(*row) for row in rows)


def _task(parts: Parts, part: Share, settings: Any, start: float) -> forked.Task:
    def rows() -> Iterator[list[tuple]]:
        for block in parts.plan(part):
            yield [d.row() for d in envelopes(block, settings, start)]

    return rows
