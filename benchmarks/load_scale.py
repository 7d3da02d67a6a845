"""``load scenarios/load.yaml`` scaled out, beside plain Locust: ``python -m benchmarks.load --scale-out``.

Each configuration (one process; a master and 1 worker; a master and 2 workers) runs twice for
``--run-time`` seconds: ``coupon-emulator load`` on the 1,000,000-event scenario, then a plain
Locust ``FastHttpUser`` posting the plan's first requests (bodies built beforehand, cycled) with
the same processes and users. Measured: seconds from starting the commands to the consumer's first
request, the peak RSS of each sending Locust process (VmHWM, read while it runs), and requests/s
at the consumer from its first request to its last.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.delivery import free_port, start_consumer

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "load.yaml"
PREBUILT = 20_000  # requests of the plan the plain Locust run cycles through
FIRST_REQUEST_WITHIN = 10.0  # seconds: the goal
RSS_UNDER = 300  # MB per sending process: the goal
SENT = re.compile(
    r"sent (\d+) (?:of \S+ )?requests \((\d+) (?:of \S+ )?events\)(?: before the test stopped)?, "
    r"(\d+) failed"
)

BARE_LOCUSTFILE = """
import itertools
import json

from locust import FastHttpUser, constant, task

with open({requests!r}) as fh:
    REQUESTS = [(r["url"], r["body"].encode()) for r in map(json.loads, fh)]
HEADERS = {{"Content-Type": "application/json"}}


class Bare(FastHttpUser):
    wait_time = constant(0)
    host = {host!r}

    def on_start(self):
        self.requests = itertools.cycle(REQUESTS)

    @task
    def post(self):
        url, body = next(self.requests)
        self.client.post(url, data=body, headers=HEADERS, name="bare")
"""


class Counter:
    """The consumer's request count: nginx's stub_status, less this counter's own requests."""

    def __init__(self, port: int, nginx: bool) -> None:
        self.port, self.nginx, self.polls = port, nginx, 0

    def __call__(self) -> int:
        path = "/nginx-status" if self.nginx else "/count"
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as answer:
            text = answer.read().decode()
        if not self.nginx:
            return json.loads(text)["requests"]
        self.polls += 1
        return int(text.split("\n")[2].split()[2]) - self.polls


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc (Linux)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo.extend(map(int, children))
    return out


def peak_rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else None


def is_locust(pid: int) -> bool:
    try:
        return b"locust" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def measure(commands: list[list[str]], count: Counter, env: dict, tmp: str) -> dict:
    """Start ``commands`` together; sample the consumer and the processes until all have ended."""
    logs = [Path(tmp) / f"cmd{i}-{time.monotonic_ns()}.log" for i in range(len(commands))]
    before = count()
    started = time.perf_counter()
    procs = []
    for command, log in zip(commands, logs, strict=True):
        with open(log, "w") as fh:
            procs.append(
                subprocess.Popen(
                    command, cwd=tmp, env=env, stdout=fh, stderr=subprocess.STDOUT,
                    start_new_session=True,  # so that a kill reaches the Locust process `load` starts
                )
            )  # fmt: skip
    peaks: dict[int, float] = {}  # Locust process -> its peak RSS, MB
    roles: dict[int, int] = {}  # Locust process -> the command it belongs to
    first = last = None
    last_count = before
    deadline = time.monotonic() + 600
    try:
        while any(p.poll() is None for p in procs):
            if time.monotonic() > deadline:
                raise SystemExit(f"{' '.join(commands[0][:6])} ... did not end within 600 s")
            for i, proc in enumerate(procs):
                for pid in tree(proc.pid):
                    if is_locust(pid):
                        rss = peak_rss_mb(pid)
                        if rss is not None:
                            peaks[pid] = max(peaks.get(pid, 0.0), rss)
                            roles[pid] = i
            current = count()
            now = time.perf_counter()
            if current > last_count:
                if first is None:
                    first = now
                last, last_count = now, current
            time.sleep(0.05)  # sampling, not waiting for an outcome
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    texts = [log.read_text() for log in logs]
    for proc, text in zip(procs, texts, strict=True):
        if proc.returncode not in (0, 1):  # 1: --run-time ended it before the plan was sent
            raise SystemExit(f"{' '.join(map(str, proc.args[:6]))} ... exited {proc.returncode}:\n{text[-3000:]}")  # fmt: skip
    if first is None or last is None:
        raise SystemExit(f"the consumer received nothing:\n{texts[0][-3000:]}")
    sent = SENT.findall(texts[0])  # the master's or the lone process's summary
    return {
        "first": first - started,
        "rate": (last_count - before) / max(last - first, 1e-6),
        "requests": last_count - before,
        "rss": {
            i: max((mb for pid, mb in peaks.items() if roles[pid] == i), default=0.0)
            for i in range(len(commands))
        },
        "sent": sent[-1] if sent else None,
    }


def prebuild(path: Path, env: dict) -> None:
    """The plan's first ``PREBUILT`` requests, as its own processes make them, one JSON a line."""
    code = (
        "import itertools, json, sys\n"
        "from emulator.loadgen.share import requests\n"
        "from emulator.loadgen.source import load_plan\n"
        "source = load_plan(sys.argv[1])\n"
        "with open(sys.argv[2], 'w') as fh:\n"
        f"    for r in itertools.islice(requests(source), {PREBUILT}):\n"
        "        url = source.settings.vendors[r.vendor].url\n"
        "        fh.write(json.dumps({'url': url, 'body': r.body.decode()}) + '\\n')\n"
    )
    subprocess.run([sys.executable, "-c", code, str(SCENARIO), str(path)], env=env, check=True)


def scale_out(users: int, run_time: int) -> None:
    tmp = tempfile.mkdtemp(prefix="coupon-load-")
    proc, port, consumer = start_consumer(tmp)
    count = Counter(port, consumer.startswith("nginx"))
    env = {**os.environ, "SINK_URL": f"http://127.0.0.1:{port}/sink"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    emulator = [sys.executable, "-m", "emulator", "load", str(SCENARIO)]
    locust = [sys.executable, "-m", "locust"]
    timing = [f"--run-time={run_time}s"]
    rows = []
    try:
        print("building the plain Locust run's bodies ...", file=sys.stderr)
        prebuilt = Path(tmp) / "requests.jsonl"
        prebuild(prebuilt, env)
        bare = Path(tmp) / "bare.py"
        host = f"http://127.0.0.1:{port}"
        bare.write_text(BARE_LOCUSTFILE.format(requests=str(prebuilt), host=host))
        plain = [*locust, "-f", str(bare), "--headless", "--only-summary", "--users", str(users),
                 "--spawn-rate", str(users), *timing]  # fmt: skip

        def ours(workers: int) -> list[list[str]]:
            if not workers:
                return [[*emulator, "--users", str(users), f"--run-time={run_time}s",
                         "--locust=--only-summary"]]  # fmt: skip
            p = str(free_port())
            master = [*emulator, "--master", "--expect-workers", str(workers), "--users",
                      str(users), "--master-port", p, f"--run-time={run_time}s",
                      "--locust=--only-summary"]  # fmt: skip
            return [master] + [[*emulator, "--worker", "--master-port", p]] * workers

        def theirs(workers: int) -> list[list[str]]:
            if not workers:
                return [plain]
            p = str(free_port())
            master = [*plain, "--master", "--expect-workers", str(workers), "--master-bind-port", p]
            worker = [*locust, "-f", str(bare), "--worker", "--master-port", p]
            return [master] + [worker] * workers

        for workers in (0, 1, 2):
            what = (
                "one process" if not workers else f"master + {workers} worker" + "s" * (workers > 1)
            )
            for name, commands in ((f"load, {what}", ours), (f"plain Locust, {what}", theirs)):
                print(f"measuring {name} ({run_time} s) ...", file=sys.stderr)
                rows.append((name, workers, measure(commands(workers), count, env, tmp)))
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"\nload {SCENARIO.relative_to(ROOT)} (1,000,000 events), {users} Locust users, "
        f"--run-time {run_time}s, consumer {consumer}, {os.cpu_count()} cores"
    )
    print(f"{'':34} {'first request':>13} {'req/s':>8} {'vs plain':>8}  peak RSS per sender (MB)")
    checks = []
    for (name, workers, result), plain_row in zip(rows, itertools.chain(rows[1:], [None]), strict=True):  # fmt: skip
        senders = [mb for i, mb in sorted(result["rss"].items()) if not workers or i > 0]
        ratio = ""
        if name.startswith("load") and plain_row is not None:
            ratio = f"{result['rate'] / plain_row[2]['rate']:.2f}x"
            checks.append((f"{name}: first request within {FIRST_REQUEST_WITHIN:g} s", result["first"] <= FIRST_REQUEST_WITHIN))  # fmt: skip
            checks.append((f"{name}: RSS per sender under {RSS_UNDER} MB", max(senders) < RSS_UNDER))  # fmt: skip
        rss = ", ".join(f"{mb:.0f}" for mb in senders)
        print(f"{name:34} {result['first']:>11.1f} s {result['rate']:>8,.0f} {ratio:>8}  {rss}")
        if result["sent"] and int(result["sent"][0]):  # a master knows only finished shares
            requests, events, failed = result["sent"]
            print(
                f"{'':36}sent {int(requests):,} requests, {int(events):,} events, {failed} failed"
            )
    print()
    for name, ok in checks:
        print(f"  {'ok  ' if ok else 'MISS'} {name}")
