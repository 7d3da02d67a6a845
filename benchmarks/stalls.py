"""How long healthy vendors take when other vendors' consumers stall, against their time alone.

    python benchmarks/stalls.py [--events 2000] [--workers 8]

Fabric and rebilly deliver ``--events`` events each to a consumer answering 200 (nginx when
installed, else benchmarks/consumer.py; see benchmarks/delivery.py), first alone, then beside a
komo target that listens and never accepts and a punchh https target that accepts and never does
its TLS handshake (both with a 15 s timeout and no retries). It prints the healthy vendors' time in
both runs and the ratio: the goal is at most 1.5x. The stalled deliveries are left pending: the run
is stopped as soon as the healthy ones are final.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.delivery import start_consumer
from emulator.core.plan import simple_plan
from emulator.core.policy import DELIVERED
from emulator.delivery.dispatcher import Dispatcher
from emulator.delivery.outbox import Outbox
from emulator.delivery.runner import envelopes
from emulator.readers import config

HEALTHY = [("fabric", "offers:coupon:created"), ("rebilly", "coupon-issued")]
STALLED = [("komo", "CouponIssued"), ("punchh", "coupon-redemption")]


def timed(tmp: str, raw: dict, plan: list, healthy: int, workers: int) -> float:
    """Seconds until ``healthy`` deliveries are delivered."""
    settings = config.parse(raw, source="bench")
    planned = simple_plan([(v, e, n, 0.0) for v, e, n in plan], 1, datetime.now(UTC))
    with Outbox(Path(tmp) / f"stalls-{time.monotonic_ns()}.db") as outbox:
        run_id = outbox.create_run("bench", raw)
        stored = outbox.enqueue(run_id, list(envelopes(planned, settings, time.time())))
        started = time.perf_counter()
        dispatcher = Dispatcher(outbox, settings, workers=workers).start()
        dispatcher.submit(stored)
        while dispatcher.progress.statuses[DELIVERED] < healthy:
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        dispatcher.stop()
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, port, name = start_consumer(tmp)
        hole = socket.socket()
        hole.bind(("127.0.0.1", 0))
        hole.listen(0)  # never accepted: the backlog fills, later connections hang
        mute = socket.create_server(("127.0.0.1", 0))
        held: list[socket.socket] = []
        threading.Thread(target=lambda: held.extend(iter(lambda: mute.accept()[0], None)),
                         daemon=True).start()  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            base = {
                "fabric": {"target": f"{url}/f", "auth": {"type": "api-key", "value": "k"}},
                "rebilly": {"target": f"{url}/r"},
            }
            stalls = {
                "komo": {"target": f"http://127.0.0.1:{hole.getsockname()[1]}/k",
                         "timeout": 15, "retry": "none"},
                "punchh": {"target": f"https://127.0.0.1:{mute.getsockname()[1]}/p",
                           "timeout": 15, "retry": "none"},
            }  # fmt: skip
            plan = [(v, e, args.events) for v, e in HEALTHY]
            stalled_plan = plan + [(v, e, args.events) for v, e in STALLED]
            healthy = len(HEALTHY) * args.events
            alone = timed(tmp, {"vendors": base}, plan, healthy, args.workers)
            beside = timed(tmp, {"vendors": {**base, **stalls}}, stalled_plan, healthy,
                           args.workers)  # fmt: skip
        finally:
            proc.terminate()
            proc.wait()
            hole.close()
            mute.close()
    print(f"consumer: {name}; {healthy:,} healthy deliveries, --workers {args.workers}")
    print(f"healthy vendors alone:                   {alone:7.2f} s")
    print(f"beside a black hole and a mute https:    {beside:7.2f} s   {beside / alone:.2f}x")
    print(("  ok" if beside / alone <= 1.5 else "  MISS") + "  at most 1.5x their healthy time")


if __name__ == "__main__":
    main()
