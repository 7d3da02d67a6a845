"""How soon ``POST /api/runs`` answers for the shipped 1,000,000-event scenario, and the service's
memory while that run proceeds.

    python benchmarks/api_runs.py [--seconds 30] [--scenario load]

Starts ``coupon-emulator serve`` (a real process on loopback, a free port, the outbox in a fresh
temporary folder), posts ``{"scenario": "load"}`` (``scenarios/load.yaml``: its targets default to
the service's built-in sink), prints the time to the 202 answer, then samples the service's RSS
(VmRSS) for ``--seconds`` while the run proceeds and prints its peak (and the kernel's VmHWM) with
the deliveries stored and delivered by then. Then it stops the service with SIGTERM.
Goal: 202 in under 1 s and RSS under 300 MB while the run proceeds.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def request(port: int, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        data = None if body is None else json.dumps(body)
        conn.request(method, path, data, {"Content-Type": "application/json"} if data else {})
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read() or b"null")
    finally:
        conn.close()


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def wait_healthy(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError("serve never answered /healthz")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to watch the run")
    parser.add_argument("--scenario", default="load", help="a shipped scenario's name")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", "serve", "--port", "0",
             "--db", str(Path(folder) / "outbox.db"), "--scenarios", str(ROOT / "scenarios")],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=folder,
        )  # fmt: skip
        try:
            line = proc.stdout.readline()
            port = int(line.split("serving on http://127.0.0.1:", 1)[1].split(" ", 1)[0])
            wait_healthy(port, time.monotonic() + 30)
            idle = status_kib(proc.pid, "VmRSS")
            t0 = time.perf_counter()
            status, accepted = request(port, "POST", "/api/runs", {"scenario": args.scenario})
            answered = time.perf_counter() - t0
            if status != 202:
                raise RuntimeError(f"POST /api/runs answered {status}: {accepted}")
            run = f"/api/runs/{accepted['run']['id']}"
            peak = idle
            end = time.monotonic() + args.seconds
            while time.monotonic() < end:
                peak = max(peak, status_kib(proc.pid, "VmRSS"))
                time.sleep(0.1)
            hwm = status_kib(proc.pid, "VmHWM")
            _, progress = request(port, "GET", run)
            p = progress["progress"]
            print(f"POST /api/runs {args.scenario}: 202 in {answered * 1000:.0f} ms")
            print(
                f"RSS over {args.seconds:g} s of the run: idle {idle / 1024:.0f} MB, "
                f"peak sampled {peak / 1024:.0f} MB, VmHWM {hwm / 1024:.0f} MB"
            )
            print(
                f"after {args.seconds:g} s: {p['total']:,} deliveries stored, "
                f"{p['delivered']:,} delivered, {p['pending']:,} pending, state {progress['state']}"
            )
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=60)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
