"""Delivery throughput beside baselines measured in the same run, on the same local consumer.

    python benchmarks/delivery.py [--events 20000] [--batch-events 100000] [--repeat 3]

Ours, two ways: (1) the engine alone: events planned beforehand, then stored in the SQLite outbox,
signed at send time (Punchh HMAC-SHA256), delivered over keep-alive connections and every attempt
logged; (2) the whole ``coupon-emulator run`` process on a 20,000-event list, as users run it:
start-up (from bytecode, as installed), planning (on Linux in child processes beside the
delivery), storing and delivery, every attempt logged. Baselines, posting the same pre-built bodies: (a) a loop
of ``requests.post``, what a user writes by hand; (b) a keep-alive ``http.client`` loop, the
single-core Python floor; (c) ``wrk`` with one connection, when installed (Debian: ``apt-get
install wrk``).

The consumer must cost nothing, or it is what gets measured: nginx answering 200, when installed
(Debian: ``apt-get install nginx-light``; it runs as a child of this script on a free loopback
port); otherwise the Python consumer in benchmarks/consumer.py, which the output then names, since
it is the bottleneck and overstates our ratios. Figures vary with the machine; the ratios are what
to compare.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
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


NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    keepalive_requests 10000000;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 ""; }}
        location = /nginx-status {{ stub_status; }}  # its request count (benchmarks/load.py)
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_consumer(tmp: str) -> tuple[subprocess.Popen, int, str]:
    """nginx answering 200 if installed, else the Python consumer; (process, port, its name)."""
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx:
        port = free_port()
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=port))
        proc = subprocess.Popen([nginx, "-c", str(conf), "-e", f"{tmp}/error.log"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return proc, port, "nginx (return 200)"
            except OSError:
                time.sleep(0.05)
        proc.kill()
        raise SystemExit(f"nginx did not listen on {port}: {Path(tmp, 'error.log').read_text()}")
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "consumer.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    port = int(proc.stdout.readline())
    return proc, port, "benchmarks/consumer.py (Python; the bottleneck: install nginx-light)"


def wrk_rate(url: str, body: bytes, seconds: int = 5) -> float | None:
    """Requests/s of wrk with one connection and one thread posting ``body``, if wrk is installed."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        lua_body = body.decode().replace("\\", "\\\\").replace('"', '\\"')
        script.write_text(
            'wrk.method = "POST"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.body = "{lua_body}"\n'
        )
        out = subprocess.run(
            [wrk, "-t1", "-c1", f"-d{seconds}s", "-s", str(script), url],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    match = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    return float(match.group(1)) if match else None


def whole_run(url: str, vendor: str, event: str, count: int, extra: str) -> float:
    """Events/s of the whole ``coupon-emulator run`` process on an event list, planning included."""
    with tempfile.TemporaryDirectory() as tmp:
        plan = Path(tmp) / "events.yaml"
        plan.write_text(
            f"seed: 1\nvendors:\n  {vendor}: {{target: {url}, {extra}}}\n"
            f'events:\n  - {{vendor: {vendor}, event: "{event}", count: {count}}}\n'
        )
        command = [sys.executable, "-m", "emulator", "run", str(plan), "--db", f"{tmp}/run.db"]
        t0 = time.perf_counter()
        done = subprocess.run([*command, "--quiet"], capture_output=True, text=True, env=INSTALLED)
        elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"coupon-emulator run failed: {done.stderr[-2000:]}")
    return count / elapsed


# As installed: pip compiles the bytecode of what it installs, so the process does not compile its
# modules at every start (which PYTHONDONTWRITEBYTECODE, set in some CI images, would make it do).
INSTALLED = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def warm() -> None:
    """Compile the package's bytecode, as an install does (an editable one does not)."""
    package = Path(__file__).resolve().parents[1] / "emulator"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


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

    tmp = tempfile.mkdtemp(prefix="coupon-bench-")
    proc, port, consumer = start_consumer(tmp)
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
        c = wrk_rate(url, bodies[0])
        warm()
        auth = "auth: {type: hmac-sha256, client: bench, secret: bench-secret}"
        whole = best(
            args.repeat,
            lambda: whole_run(url, "punchh", "coupon-issuance-unlock", args.events, auth),
        )
        fabric_auth = "auth: {type: api-key, value: k}, batch_size: 100"
        whole_fb = best(
            args.repeat,
            lambda: whole_run(
                url, "fabric", "offers:coupon:created", args.batch_events, fabric_auth
            ),
        )
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    rows = [
        ("(a) requests.post loop, pre-built bodies", a),
        ("(b) http.client keep-alive loop, pre-built bodies", b),
        *([("(c) wrk, one connection", c)] if c else []),
        ("engine: stored, HMAC-signed, logged", us),
        ("engine: fabric batch_size 100", fb),
        (f"whole run process, {args.events:,}-event list", whole),
        (f"whole run process, fabric batch_size 100, {args.batch_events:,}", whole_fb),
    ]
    if c is None:
        print("wrk is not installed (apt-get install wrk): no wrk baseline", file=sys.stderr)
    print(f"\ndelivery to {consumer} ({Path(sys.executable).name}, best of {args.repeat})")
    print(f"{'':52} {'events/s':>10} {'vs (a)':>8} {'vs (b)':>8}")
    for name, rate in rows:
        print(f"{name:52} {rate:>10,.0f} {rate / a:>7.2f}x {rate / b:>7.2f}x")
    print()
    checks = [
        ("whole process, unbatched >= 1.0x http.client", whole >= b),
        ("whole process, fabric batch_size 100 >= 50,000 events/s", whole_fb >= 50_000),
        ("engine, unbatched >= 5x requests.post", us >= 5 * a),
    ]
    for name, ok in checks:
        print(f"  {'ok  ' if ok else 'MISS'} {name}")


if __name__ == "__main__":
    main()
