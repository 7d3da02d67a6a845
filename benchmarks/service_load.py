"""The service under a busy CI farm: many clients, mixed requests, against a real ``serve``.

    python benchmarks/service_load.py [--threads 50] [--requests 100] [--nofile 20000]

Starts ``coupon-emulator serve`` (a real process on loopback, a fresh outbox), then ``--threads``
clients each send ``--requests`` requests: 40% ``POST /api/events``, 10% small ``POST /api/runs``
(an event list of 3 events), the rest ``GET /api/runs`` and ``GET /api/deliveries``. A separate
thread polls ``/healthz`` every 50 ms. Prints requests per second, latency percentiles, the answers
by status, the slowest ``/healthz``, whether the process is alive, whether every accepted (202) run
and delivery is in the db, and the lines of the service's log. ``--nofile`` raises the open-file
limit of this script and of the service. Goal: process alive, only 2xx/429/503, every 202 stored,
/healthz under 1 s throughout, for 50 x 100 and for 100 x 100 (``--nofile 20000``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVENT_LIST = "events:\n  - {vendor: komo, event: CouponIssued, count: 3}\n"


def call(port: int, method: str, path: str, body: object = None) -> tuple[int, object]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        conn.request(method, path, body=data, headers=headers)
        answer = conn.getresponse()
        raw = answer.read()
        return answer.status, json.loads(raw) if raw else None
    finally:
        conn.close()


def mixed_request(rng: random.Random) -> tuple[str, str, object]:
    """One request of the mix: (method, path, JSON body or None); the service tests send it too."""
    roll = rng.random()
    if roll < 0.4:
        return ("POST", "/api/events", {"vendor": "komo", "event_type": "CouponIssued"})
    if roll < 0.5:
        return ("POST", "/api/runs", {"yaml": EVENT_LIST, "time_scale": 0.001})
    if roll < 0.75:
        return ("GET", "/api/runs?limit=20", None)
    return ("GET", "/api/deliveries?limit=50", None)


def client(port: int, seed: int, requests: int, out: list, lock: threading.Lock) -> None:
    rng = random.Random(seed)
    for _ in range(requests):
        req = mixed_request(rng)
        started = time.perf_counter()
        try:
            status, body = call(port, *req)
        except OSError as exc:
            status, body = None, str(exc)
        with lock:
            out.append((req[1], status, body, time.perf_counter() - started))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=50)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--nofile", type=int, default=0, help="raise the open-file limit to this")
    args = parser.parse_args()
    if args.nofile:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(args.nofile, hard), hard))

    with tempfile.TemporaryDirectory() as tmp:
        db, log = Path(tmp) / "load.db", Path(tmp) / "serve.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "serve", "--port", "0", "--db", str(db)],
            stdout=subprocess.PIPE, stderr=log.open("w"), text=True, cwd=ROOT,
        )  # fmt: skip
        line = process.stdout.readline()
        port = int(line.split("serving on http://127.0.0.1:", 1)[1].split(" ", 1)[0])
        answers: list = []
        health: list[float] = []
        lock, done = threading.Lock(), threading.Event()

        def poll() -> None:
            while not done.is_set():
                started = time.perf_counter()
                try:
                    status, _ = call(port, "GET", "/healthz")
                except OSError:
                    status = None
                health.append(time.perf_counter() - started if status == 200 else float("inf"))
                time.sleep(0.05)

        poller = threading.Thread(target=poll)
        poller.start()
        started = time.perf_counter()
        clients = [
            threading.Thread(target=client, args=(port, i, args.requests, answers, lock))
            for i in range(args.threads)
        ]
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        elapsed = time.perf_counter() - started
        done.set()
        poller.join()

        alive = process.poll() is None
        latencies = sorted(a[3] for a in answers)
        statuses = Counter(a[1] for a in answers)
        runs = {b["run"]["id"] for _, s, b, _ in answers if s == 202 and isinstance(b, dict)}
        deliveries = {
            b["delivery"]["id"] for p, s, b, _ in answers if s == 202 and p == "/api/events"
        }
        with sqlite3.connect(db) as conn:
            stored_runs = {r[0] for r in conn.execute("SELECT id FROM runs")}
            stored = {r[0] for r in conn.execute("SELECT id FROM deliveries")}
        if alive:
            process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)
        log_lines = log.read_text().splitlines()

    def pct(p: float) -> float:
        return latencies[min(int(len(latencies) * p), len(latencies) - 1)]

    print(f"{args.threads} threads x {args.requests} requests: {len(answers)} answered in "
          f"{elapsed:.1f} s, {len(answers) / elapsed:,.0f} req/s; p50 {pct(0.5):.3f} s, "
          f"p99 {pct(0.99):.3f} s, max {latencies[-1]:.3f} s")  # fmt: skip
    print(f"answers by status: {dict(sorted(statuses.items(), key=str))}")
    print(f"/healthz: {len(health)} polls, slowest {max(health):.3f} s")
    print(f"process alive at the end: {alive}; exit code after SIGTERM {process.returncode}")
    print(f"every 202 stored: runs {runs <= stored_runs}, deliveries {deliveries <= stored}")
    print(f"service log: {len(log_lines)} lines")
    for entry in log_lines[:10]:
        print("  " + entry)
    bad = [s for s in statuses if s is None or not (200 <= s < 300 or s in (429, 503))]
    ok = alive and not bad and runs <= stored_runs and deliveries <= stored and max(health) < 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
