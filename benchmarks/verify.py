"""How long `coupon-emulator verify` takes for all four vendors, as in CI: the reference consumer in
its own process, verify as a command, both on loopback, every vendor with the auth it documents.

Run: python benchmarks/verify.py [--runs 3] [--seed 11]
Prints the wall-clock seconds of each run and the median (the target: under 15 s on 2 cores).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SETTINGS = """\
vendors:
  komo:    {target: http://127.0.0.1:9/komo, auth: {type: bearer, token: t0ken}}
  fabric:  {target: http://127.0.0.1:9/fabric, auth: {type: api-key, value: k3y}, batch_size: 25}
  rebilly: {target: http://127.0.0.1:9/rebilly, auth: {type: digest, username: merchant, password: pa55}}
  punchh:  {target: http://127.0.0.1:9/punchh, auth: {type: hmac-sha256, client: acme_pos, secret: s3cret}}
"""


def once(settings: str, seed: int) -> tuple[float, str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "contracts.reference_consumer", "--port", "0", "--config", settings],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base = server.stdout.readline().split()[2].removesuffix("/<vendor>")  # type: ignore[union-attr]
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "emulator", "verify", "--consumer", base, "--config", settings,
             "--probe", base + "/probe", "--seed", str(seed)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout else done.stderr
    if done.returncode != 0:
        raise SystemExit(f"verify exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return elapsed, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = str(Path(folder) / "settings.yaml")
        Path(settings).write_text(SETTINGS)
        times = []
        for run in range(args.runs):
            elapsed, summary = once(settings, args.seed + run)
            times.append(elapsed)
            print(f"run {run + 1}: {elapsed:.1f} s  ({summary})", flush=True)
    print(
        f"verify, all four vendors: median {statistics.median(times):.1f} s over {args.runs} runs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
