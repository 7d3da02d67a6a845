"""Events per second of ``load`` with one worker and with two, beside ``run``, on one plan.

    python benchmarks/load.py [--events 20000] [--vendor fabric] [--users 16] [--repeat 1]
    python -m benchmarks.load --scale-out [--run-time 60] [--users 16]

``--scale-out``: ``load scenarios/load.yaml`` (1,000,000 events), alone, then as a master with 1
and with 2 worker processes, each beside a plain Locust ``FastHttpUser`` posting the same pre-built
bodies (the plan's first requests) with the same processes, users and ``--run-time``. For each:
the time from starting the commands to the consumer's first request, the peak RSS of each sending
Locust process, and requests/s at the consumer while sending. The consumer is nginx answering 200
(benchmarks/delivery.py starts it) when installed, else benchmarks/consumer.py.

Each command runs as a user runs it (its own processes) against benchmarks/consumer.py, a local
consumer in its own process that answers 200 at once and counts requests. "Sending" is measured
at the consumer, from the first request it received to the last; "end to end" is the command's
wall time (start-up, planning, sending, shutdown). Locust runs a master plus 1 or 2 worker
processes, all on this machine: on a machine with few cores they compete with the consumer and
with each other, so the figures show the cost per request of each sender, not the scaling a
cluster of machines gives.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).parent
DEADLINE = 600  # seconds for one measure
AUTH = {
    "fabric": {"type": "api-key", "value": "bench"},
    "punchh": {"type": "hmac-sha256", "client": "bench", "secret": "bench-secret"},
    "komo": {"type": "none"},
    "rebilly": {"type": "basic", "username": "bench", "password": "bench"},
}
EVENT = {
    "fabric": "offers:coupon:created",
    "punchh": "coupon-issuance-unlock",
    "komo": "CouponIssued",
    "rebilly": "coupon-issued",
}


# Locust's own ceiling on this machine: its fast client posting one fixed body, nothing else.
BARE_LOCUSTFILE = """
import gevent
from locust import FastHttpUser, constant, task
from locust.exception import StopUser

BODY = open({body!r}, "rb").read()
SENT = [0]


class Bare(FastHttpUser):
    wait_time = constant(0)
    host = {host!r}

    @task
    def post(self):
        if SENT[0] >= {events}:
            gevent.spawn(self.environment.runner.quit)  # not from a user, which quit() kills
            raise StopUser()
        SENT[0] += 1
        self.client.post("/hooks", data=BODY, headers={{"Content-Type": "application/json"}})
"""


def start_consumer() -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "consumer.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    return proc, int(proc.stdout.readline())


def consumer_count(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/count", timeout=5) as response:
        return json.load(response)["requests"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(commands: list[list[str]], port: int, events: int, workdir: str) -> tuple[float, float]:
    """(events/s while sending, events/s end to end) of the commands run together."""
    before = consumer_count(port)
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            c, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True,  # so that a kill reaches the Locust process `load` starts
        )
        for c in commands
    ]  # fmt: skip
    deadline = time.monotonic() + DEADLINE
    first = last = None
    first_count = before
    try:
        while any(p.poll() is None for p in procs):
            if time.monotonic() > deadline:
                raise SystemExit(f"{' '.join(commands[0][:6])} ... did not end within {DEADLINE}s")
            count = consumer_count(port)
            now = time.perf_counter()
            if first is None and count > before:
                first, first_count = now, count
            if count >= before + events and last is None:
                last = now
            time.sleep(0.01)  # sampling the consumer's counter, not waiting for an outcome
        elapsed = time.perf_counter() - started
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(p.args[:6])} ... exited {p.returncode}:\n{err[-2000:]}")
    final = consumer_count(port)
    if final - before != events:
        raise SystemExit(f"the consumer received {final - before} requests, expected {events}")
    last = last or time.perf_counter()
    sending = (before + events - first_count) / max(last - first, 1e-6)
    return sending, events / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--vendor", choices=sorted(EVENT), default="fabric")
    parser.add_argument("--users", type=int, default=16, help="Locust users over the cluster")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each; the best counts")
    parser.add_argument(
        "--scale-out", action="store_true",
        help="load scenarios/load.yaml with 1 and 2 workers beside plain Locust (see above)",
    )  # fmt: skip
    parser.add_argument("--run-time", type=int, default=60, help="--scale-out: seconds of each")
    args = parser.parse_args()
    if args.scale_out:
        from benchmarks.load_scale import scale_out

        scale_out(args.users, args.run_time)
        return

    consumer, port = start_consumer()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            plan = Path(tmp) / "plan.yaml"
            target = {"target": f"http://127.0.0.1:{port}/hooks", "auth": AUTH[args.vendor]}
            document = {
                "seed": 1,
                "vendors": {args.vendor: target},
                "events": [
                    {"vendor": args.vendor, "event": EVENT[args.vendor], "count": args.events}
                ],
            }
            plan.write_text(json.dumps(document))
            emulator = [sys.executable, "-m", "emulator"]

            def run_cmd() -> list[list[str]]:
                db = Path(tmp) / f"run-{time.monotonic_ns()}.db"
                return [[*emulator, "run", str(plan), "--db", str(db), "--quiet"]]

            def cluster(workers: int) -> list[list[str]]:
                p = str(free_port())
                master = [*emulator, "load", str(plan), "--master", "--expect-workers", str(workers),
                          "--users", str(args.users), "--master-port", p, "--locust=--only-summary"]  # fmt: skip
                worker = [*emulator, "load", str(plan), "--worker", "--master-port", p]
                return [master] + [worker] * workers

            def bare() -> list[list[str]]:
                from emulator.core.vendor import encode
                from emulator.loadgen.source import load_plan

                body = Path(tmp) / "body.json"
                body.write_bytes(encode(next(load_plan(str(plan)).events).body))
                locustfile = Path(tmp) / "bare.py"
                host = f"http://127.0.0.1:{port}"
                locustfile.write_text(BARE_LOCUSTFILE.format(body=str(body), host=host, events=args.events))  # fmt: skip
                return [[sys.executable, "-m", "locust", "-f", str(locustfile), "--headless",
                         "--users", str(args.users), "--spawn-rate", str(args.users), "--only-summary"]]  # fmt: skip

            def local() -> list[list[str]]:
                return [[*emulator, "load", str(plan), "--users", str(args.users), "--locust=--only-summary"]]  # fmt: skip

            rows = []
            for name, commands in [
                ("(ref) bare Locust FastHttpUser, one body", bare),
                ("coupon-emulator run (8 in flight)", run_cmd),
                ("coupon-emulator load, one process", local),
                ("coupon-emulator load, master + 1 worker", lambda: cluster(1)),
                ("coupon-emulator load, master + 2 workers", lambda: cluster(2)),
            ]:
                print(f"measuring {name} ...", file=sys.stderr)
                results = [measure(commands(), port, args.events, tmp) for _ in range(args.repeat)]
                rows.append((name, max(r[0] for r in results), max(r[1] for r in results)))
    finally:
        consumer.terminate()
        consumer.wait()

    print(
        f"\n{args.events:,} {args.vendor} {EVENT[args.vendor]} events ({AUTH[args.vendor]['type']}, "
        f"one per request), {args.users} Locust users, {os.cpu_count()} cores, best of {args.repeat}"
    )
    print(f"{'':44} {'sending ev/s':>13} {'end to end ev/s':>16}")
    for name, sending, overall in rows:
        print(f"{name:44} {sending:>13,.0f} {overall:>16,.0f}")


if __name__ == "__main__":
    main()
