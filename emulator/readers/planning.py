"""Planning on several processes: flows split across workers, their lines merged back by (due,
flow), which is the order one process gives, so the bytes are the same whatever the job count.

Building bodies is pure Python and takes one core; flows are independent (each draws from its
own seeds), so a scenario of several flows plans on as many cores as it has flows.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from emulator.core import catalogue
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
    split = groups(scenario, jobs) if jobs > 1 and forked.available() else []
    if len(split) <= 1:
        yield from map(line, plan(scenario, **options))
        return
    tasks = [_task(scenario, group, options, line) for group in split]
    with forked.workers(tasks) as received:
        chunks = (itertools.chain.from_iterable(r) for r in received)
        for _, _, _, text in heapq.merge(*chunks):
            yield text


def _task(
    scenario: Scenario, group: Sequence[int], options: dict, line: Any
) -> Callable[[], Iterator[list[tuple[float, int, int, str]]]]:
    def chunks() -> Iterator[list[tuple[float, int, int, str]]]:
        index = {flow.name: i for i, flow in enumerate(scenario.flows)}
        chunk: list[tuple[float, int, int, str]] = []
        for n, event in enumerate(plan(scenario, only=set(group), **options)):
            chunk.append((event.due, index[event.coupon_key.rpartition(":")[0]], n, line(event)))
            if len(chunk) >= CHUNK:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    return chunks
