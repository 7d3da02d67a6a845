"""How soon ``coupon-emulator serve`` answers /healthz, beside ``python -c pass`` measured in the same run.

    python benchmarks/startup.py [--repeat 7]

Each sample starts a fresh process: for serve, the time from spawning it to the first 200 on
/healthz (polled every 2 ms, port chosen by the system, outbox in a fresh temporary folder);
for the baseline, the time from spawning the interpreter to its exit. The difference is what
the service itself costs. Figures vary with the machine; compare the two columns.
"""

from __future__ import annotations

import argparse
import http.client
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def python_pass() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - t0


def serve_healthz() -> float:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "outbox.db"
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "emulator", "serve", "--port", "0", "--db", str(db)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=folder,
        )
        try:
            line = proc.stdout.readline()
            port = int(line.split("serving on http://127.0.0.1:", 1)[1].split(" ", 1)[0])
            deadline = t0 + 30
            while time.perf_counter() < deadline:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        return time.perf_counter() - t0
                except OSError:
                    pass
                finally:
                    conn.close()
                time.sleep(0.002)
            raise RuntimeError("serve never answered /healthz within 30 s")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="samples of each (default 7)")
    args = parser.parse_args()
    rows = []
    for name, measure in (
        ("python -c pass", python_pass),
        ("serve -> /healthz 200", serve_healthz),
    ):
        measure()  # warm the file cache
        samples = [measure() for _ in range(args.repeat)]
        rows.append((name, min(samples), statistics.median(samples), max(samples)))
    print(f"{'':24} {'min':>8} {'median':>8} {'max':>8}   ({args.repeat} runs each)")
    for name, low, mid, high in rows:
        print(f"{name:24} {low * 1000:7.0f}ms {mid * 1000:7.0f}ms {high * 1000:7.0f}ms")
    print(f"the service's own start: {(rows[1][2] - rows[0][2]) * 1000:.0f} ms (medians)")


if __name__ == "__main__":
    main()
