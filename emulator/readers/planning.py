"""Planning on several processes: flows split across workers, their lines merged back by (due,
flow), which is the order one process gives, so the bytes are the same whatever the job count.

Building bodies is pure Python and takes one core; flows are independent (each draws from its
own seeds), so a scenario of several flows plans on as many cores as it has flows.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import multiprocessing
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from emulator.core import catalogue
from emulator.core.scenario import Scenario, plan
from emulator.core.vendor import DEFAULT_LINKS_BASE

CHUNK = 2000  # lines per message from a worker
PARALLEL_FROM = 20_000  # expected events: below this one process is quicker than starting more


def can_fork() -> bool:
    """Workers are forked (no re-import, no pickling); macOS and Windows plan in one process."""
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


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
    split = groups(scenario, jobs) if jobs > 1 and can_fork() else []
    if len(split) <= 1:
        yield from map(line, plan(scenario, **options))
        return
    context = multiprocessing.get_context("fork")
    workers = []
    try:
        for group in split:
            receive, send = context.Pipe(duplex=False)
            process = context.Process(
                target=_work, args=(send, scenario, group, options, line), daemon=True
            )
            process.start()
            send.close()
            workers.append((process, receive))
        for _, _, _, text in heapq.merge(*(_received(r) for _, r in workers)):
            yield text
    finally:
        for process, receive in workers:  # stopped early (--limit, a closed pipe) or done
            if process.is_alive():
                process.terminate()
            receive.close()
            process.join()


def _received(receive: Any) -> Iterator[tuple[float, int, int, str]]:
    while True:
        message = receive.recv()
        if message is None:
            return
        if isinstance(message, str):
            raise RuntimeError(f"a planning worker failed:\n{message}")
        yield from message


def _work(send: Any, scenario: Scenario, group: Sequence[int], options: dict, line: Any) -> None:
    try:
        gc.disable()  # no reference cycles here (see scenario_commands.no_cyclic_gc)
        index = {flow.name: i for i, flow in enumerate(scenario.flows)}
        chunk: list[tuple[float, int, int, str]] = []
        for n, event in enumerate(plan(scenario, only=set(group), **options)):
            chunk.append((event.due, index[event.coupon_key.rpartition(":")[0]], n, line(event)))
            if len(chunk) >= CHUNK:
                send.send(chunk)
                chunk = []
        if chunk:
            send.send(chunk)
        send.send(None)
    except BaseException:  # reported by the parent, which owns the exit code
        with contextlib.suppress(OSError):  # unless the parent is gone
            send.send(traceback.format_exc())
    finally:
        send.close()
