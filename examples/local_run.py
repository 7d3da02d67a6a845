"""Start a local consumer, run ``coupon-emulator run examples/events.yaml`` against it, stop it.

python examples/local_run.py [extra run flags, e.g. --report report.json]
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    consumer = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "consumer.py"), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(consumer.stdout.readline())
        env = {**os.environ, "CONSUMER_URL": f"http://127.0.0.1:{port}"}
        command = [
            sys.executable,
            "-m",
            "emulator",
            "run",
            str(ROOT / "examples" / "events.yaml"),
            *sys.argv[1:],
        ]
        print(
            f"consumer listening on 127.0.0.1:{port}; running: coupon-emulator run examples/events.yaml",
            flush=True,
        )
        return subprocess.call(command, env=env)
    finally:
        consumer.terminate()
        consumer.wait()


if __name__ == "__main__":
    raise SystemExit(main())
