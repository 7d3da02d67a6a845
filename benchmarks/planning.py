"""Planning speed per vendor: events/s of building the bodies of an event list, in one process.

    python benchmarks/planning.py [--events N] [--batch-events M] [--repeat R] [--only VENDOR...]
                                  [--profile VENDOR]

What ``coupon-emulator run`` does before anything is stored or sent, measured alone: for each
vendor, ``simple_plan`` of N events of one type (the plain event list ``run`` accepts, each event
about a fresh coupon), then each body encoded to its wire bytes as the run driver does; and fabric
``batch_size: 100``: M events planned, packed 100 a request by the vendor's ``batch`` and encoded.
Each figure is the best of R runs; every run starts from empty fake-data pools, as a run does (the
first, untimed, pays the imports and Faker's locale data once). ``--profile VENDOR`` prints a
cProfile of one vendor's planning (or ``fabric-batch``) instead. Figures vary with the machine.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import platform
import pstats
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulator.core import catalogue  # noqa: E402
from emulator.core.plan import simple_plan  # noqa: E402
from emulator.core.values import EPOCH  # noqa: E402
from emulator.core.vendor import encode  # noqa: E402

# The event type each vendor's list is made of: an issuance, the commonest first event.
TYPES = {
    "komo": "CouponIssued",
    "fabric": "offers:coupon:created",
    "rebilly": "coupon-issued",
    "punchh": "coupon-issuance-unlock",
}
BATCH = 100


def plan_and_encode(slug: str, events: int) -> int:
    items = [(slug, TYPES[slug], events, 0.0)]
    return sum(len(encode(e.body)) for e in simple_plan(items, 1, EPOCH))


def plan_batched(events: int) -> int:
    fabric = catalogue.vendor("fabric")
    planned = simple_plan([("fabric", TYPES["fabric"], events, 0.0)], 2, EPOCH)
    size, bodies = 0, []
    # owned=True as the run's envelopes pass it: the planned bodies go nowhere else, so the batch
    # holds them rather than copies.
    for event in planned:
        bodies.append(event.body)
        if len(bodies) == BATCH:
            size += len(encode(fabric.batch(bodies, owned=True)))
            bodies = []
    if bodies:
        size += len(encode(fabric.batch(bodies, owned=True)))
    return size


def best(repeat: int, run: Callable[[], object]) -> tuple[float, float]:
    """The shortest of ``repeat`` runs: (wall, CPU) seconds, the cyclic collector off as the CLI
    runs. CPU seconds are what to compare on a machine that other work shares."""
    walls, cpus = [], []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            wall, cpu = time.perf_counter(), time.process_time()
            run()
            cpus.append(time.process_time() - cpu)
            walls.append(time.perf_counter() - wall)
        finally:
            gc.enable()
    return min(walls), min(cpus)


def jobs(events: int, batch_events: int) -> dict[str, Callable[[], object]]:
    out: dict[str, Callable[[], object]] = {
        slug: (lambda slug=slug: plan_and_encode(slug, events)) for slug in TYPES
    }
    out["fabric-batch"] = lambda: plan_batched(batch_events)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per vendor")
    parser.add_argument("--batch-events", type=int, default=100_000, metavar="M")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=(*TYPES, "fabric-batch"), nargs="+", metavar="VENDOR")
    parser.add_argument("--profile", choices=(*TYPES, "fabric-batch"), metavar="VENDOR")
    args = parser.parse_args()
    work = jobs(args.events, args.batch_events)
    if args.only:
        work = {name: run for name, run in work.items() if name in args.only}
    if args.profile:
        work[args.profile]()  # imports and Faker's locale data, once per process
        profiler = cProfile.Profile()
        profiler.runcall(work[args.profile])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return 0
    print(f"planning alone: Python {platform.python_version()}, {os.cpu_count()} CPUs, one process")
    print(f"{'':34} {'events':>8} {'wall s':>7} {'CPU s':>7} {'events/s':>9} {'per CPU s':>9}")
    for name, run in work.items():
        run()  # imports and Faker's locale data, once per process
        wall, cpu = best(args.repeat, run)
        count = args.batch_events if name == "fabric-batch" else args.events
        what = f"{name} {TYPES.get(name, f'batch_size: {BATCH}')}"
        print(
            f"{what:34} {count:>8,} {wall:>7.3f} {cpu:>7.3f} {count / wall:>9,.0f} "
            f"{count / cpu:>9,.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
