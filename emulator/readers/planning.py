"""Planning on several processes: flows split across workers, their events (or lines) merged back
by (due, flow), which is the order one process gives, so the bytes are the same whatever the job
count. ``plan --jobs`` writes the lines; ``run`` and ``resume`` store the events.

Building bodies is pure Python and takes one core; flows are independent (each draws from its
own seeds), so a scenario of several flows plans on as many cores as it has flows.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from emulator.core import catalogue
from emulator.core.plan import PlannedEvent
from emulator.core.scenario import Scenario, plan
from emulator.core.vendor import DEFAULT_LINKS_BASE
from emulator.readers import forked

CHUNK = 2000  # lines per message from a worker
PARALLEL_FROM = 20_000  # expected events: below this one process is quicker than starting more


def groups(scenario: Scenario, jobs: int) -> list[list[int]]:
    """Flow indices per worker, the costliest flows first, each to the least loaded worker."""
    jobs = max(1, min(jobs, len(scenario.flows)))
    loads: list[tuple[float, int]] = [(0.0, i) for i in range(jobs)]
    out: list[list[int]] = [[] for _ in range(jobs)]
    # Each vendor's relative cost of one event (Vendor.planning_cost) balances the workers.
    costs = sorted(
        (
            (f.expected_events() * catalogue.vendor(f.vendor).planning_cost, i)
            for i, f in enumerate(scenario.flows)
        ),
        reverse=True,
    )
    for cost, index in costs:
        load, worker = heapq.heappop(loads)
        out[worker].append(index)
        heapq.heappush(loads, (load + cost, worker))
    return [sorted(g) for g in out if g]


def lines(
    scenario: Scenario,
    line: Any,
    *,
    seed: int | None = None,
    start: datetime | None = None,
    links_base: str = DEFAULT_LINKS_BASE,
    extras: Mapping[str, Any] | None = None,
    jobs: int = 1,
) -> Iterator[str]:
    """``line(event)`` for every event of the plan, in plan order, planned by up to ``jobs``
    processes; the same lines whatever ``jobs`` is."""
    options = {"seed": seed, "start": start, "links_base": links_base, "extras": extras}
    return _merged(scenario, line, options, _split(scenario, jobs))


def events(
    scenario: Scenario,
    *,
    seed: int | None = None,
    start: datetime | None = None,
    links_base: str = DEFAULT_LINKS_BASE,
    extras: Mapping[str, Any] | None = None,
    jobs: int = 1,
) -> Iterator[PlannedEvent]:
    """The plan's events in plan order, planned by up to ``jobs`` processes (``core.scenario.plan``
    of the same arguments, event for event, whatever ``jobs`` is)."""
    options = {"seed": seed, "start": start, "links_base": links_base, "extras": extras}
    split = _split(scenario, jobs)
    if len(split) <= 1:  # one process: the events themselves, never a row and back
        return plan(scenario, **options)
    return (PlannedEvent(*row) for row in _merged(scenario, _row, options, split))


# An event's fields in order, ``PlannedEvent(*_row(event))`` again: what crosses a pipe.
_row = operator.attrgetter(*(f.name for f in dataclasses.fields(PlannedEvent)))


def _split(scenario: Scenario, jobs: int) -> list[list[int]]:
    return groups(scenario, jobs) if jobs > 1 and forked.available() else []


def _merged(
    scenario: Scenario, convert: Any, options: dict, split: list[list[int]]
) -> Iterator[Any]:
    if len(split) <= 1:
        yield from map(convert, plan(scenario, **options))
        return
    tasks = [_task(scenario, group, options, convert) for group in split]
    with forked.workers(tasks) as received:
        chunks = (itertools.chain.from_iterable(r) for r in received)
        for _, _, _, item in heapq.merge(*chunks):
            yield item


def _task(
    scenario: Scenario, group: Sequence[int], options: dict, convert: Any
) -> Callable[[], Iterator[list[tuple[float, int, int, Any]]]]:
    def chunks() -> Iterator[list[tuple[float, int, int, Any]]]:
        index = {flow.name: i for i, flow in enumerate(scenario.flows)}
        chunk: list[tuple[float, int, int, Any]] = []
        for n, event in enumerate(plan(scenario, only=set(group), **options)):
            flow = index[event.coupon_key.rpartition(":")[0]]
            chunk.append((event.due, flow, n, convert(event)))
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    return chunks
