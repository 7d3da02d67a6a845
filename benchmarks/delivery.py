"""Delivery throughput beside two baselines measured in the same run, on the same local consumer.

    python benchmarks/delivery.py [--events 20000] [--batch-events 100000] [--repeat 3]

Ours: events planned beforehand, then stored in the SQLite outbox, signed at send time
(Punchh HMAC-SHA256), delivered over keep-alive connections and every attempt logged.
Baselines, posting the same pre-built bodies: (a) a plain loop of ``requests.post``, what a user
writes by hand; (b) a keep-alive ``http.client`` loop, the single-core Python floor.
The consumer (benchmarks/consumer.py) runs in its own process and answers 200 at once.
Figures vary with the machine; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import http.client
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from emulator.core.plan import simple_plan
from emulator.core.vendor import encode
from emulator.delivery.outbox import Outbox
from emulator.delivery.runner import run_plan
from emulator.readers import config

HERE = Path(__file__).parent
PUNCHH = {"type": "hmac-sha256", "client": "bench", "secret": "bench-secret"}


def start_consumer() -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "consumer.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    port = int(proc.stdout.readline())
    return proc, port


def best(repeat: int, measure) -> float:
    return max(measure() for _ in range(repeat))


def requests_loop(url: str, bodies: list[bytes]) -> float:
    headers = {"Content-Type": "application/json"}
    t0 = time.perf_counter()
    for body in bodies:
        requests.post(url, data=body, headers=headers, timeout=15)
    return len(bodies) / (time.perf_counter() - t0)


def http_client_loop(port: int, bodies: list[bytes]) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    headers = {"Content-Type": "application/json"}
    t0 = time.perf_counter()
    for body in bodies:
        conn.request("POST", "/hooks", body=body, headers=headers)
        conn.getresponse().read()
    rate = len(bodies) / (time.perf_counter() - t0)
    conn.close()
    return rate


def ours(raw: dict, planned: list, events: int) -> float:
    settings = config.parse(raw, source="benchmark")
    with tempfile.TemporaryDirectory() as tmp, Outbox(Path(tmp) / "bench.db") as outbox:
        t0 = time.perf_counter()
        result = run_plan(outbox, settings, raw, planned)  # default workers, as the CLI
        elapsed = time.perf_counter() - t0
    if not result.ok:
        raise SystemExit(f"benchmark run did not deliver everything: {dict(result.counts)}")
    return events / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events for the unbatched runs")
    parser.add_argument(
        "--baseline-events", type=int, default=3_000, help="events for requests.post"
    )
    parser.add_argument(
        "--batch-events", type=int, default=100_000, help="events for fabric batch_size 100"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each measure; the best counts"
    )
    args = parser.parse_args()

    proc, port = start_consumer()
    try:
        url = f"http://127.0.0.1:{port}/hooks"
        start = datetime.now(UTC)
        print(
            f"planning {args.events:,} punchh and {args.batch_events:,} fabric events ...",
            file=sys.stderr,
        )
        planned = list(
            simple_plan([("punchh", "coupon-issuance-unlock", args.events, 0.0)], 1, start)
        )
        bodies = [encode(e.body) for e in planned]
        fabric = list(
            simple_plan([("fabric", "offers:coupon:created", args.batch_events, 0.0)], 2, start)
        )

        a = best(args.repeat, lambda: requests_loop(url, bodies[: args.baseline_events]))
        b = best(args.repeat, lambda: http_client_loop(port, bodies))
        punchh = {"vendors": {"punchh": {"target": url, "auth": PUNCHH}}}
        us = best(args.repeat, lambda: ours(punchh, planned, len(planned)))
        batched = {
            "vendors": {
                "fabric": {
                    "target": url,
                    "auth": {"type": "api-key", "value": "k"},
                    "batch_size": 100,
                }
            }
        }
        fb = best(args.repeat, lambda: ours(batched, fabric, len(fabric)))
    finally:
        proc.terminate()
        proc.wait()

    rows = [
        ("(a) requests.post loop, pre-built bodies", a),
        ("(b) http.client keep-alive loop, pre-built bodies", b),
        ("coupon-emulator: stored, HMAC-signed, logged", us),
        ("coupon-emulator: fabric batch_size 100", fb),
    ]
    print(f"\ndelivery to a local consumer ({Path(sys.executable).name}, best of {args.repeat})")
    print(f"{'':52} {'events/s':>10} {'vs (a)':>8} {'vs (b)':>8}")
    for name, rate in rows:
        print(f"{name:52} {rate:>10,.0f} {rate / a:>7.2f}x {rate / b:>7.2f}x")
    print()
    checks = [
        ("unbatched >= 5x requests.post", us >= 5 * a),
        ("unbatched >= 0.6x http.client", us >= 0.6 * b),
        ("fabric batch_size 100 >= 50,000 events/s", fb >= 50_000),
    ]
    for name, ok in checks:
        print(f"  {'ok  ' if ok else 'MISS'} {name}")


if __name__ == "__main__":
    main()
