"""Real Locust processes on loopback: a master and two workers, or one process, against a consumer
that checks every vendor's auth and records the dedupe keys it received."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from emulator.cli.load_command import LOCUSTFILE
from emulator.core import catalogue
from emulator.loadgen.share import requests
from emulator.loadgen.source import load_plan
from emulator.readers import config
from tests.emulator.loadgen.conftest import AUTH

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("locust") is None,
    reason="Locust is not installed: pip install 'coupon-emulator[load]'",
)

DEADLINE = 90.0  # seconds for a whole cluster run; a few on an idle machine
ITEMS = [
    ("komo", "CouponIssued", 60),
    ("fabric", "offers:coupon:created", 100),  # 50 a worker: 8 envelopes each, 7 of 7 and one of 1
    ("rebilly", "coupon-issued", 40),  # Digest: a 401 challenge first
    ("punchh", "coupon-redemption", 60),  # HMAC, and a verification GET per worker
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Processes:
    """Started in their own session so that a test can always kill what it started, Locust too."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[tuple[subprocess.Popen, Path]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = self.directory / f"{name}.log"
        with open(log, "w") as fh:
            proc = subprocess.Popen(
                [sys.executable, *args], stdout=fh, stderr=subprocess.STDOUT,
                cwd=self.directory, start_new_session=True,
            )  # fmt: skip
        self.started.append((proc, log))
        return proc

    def wait(self, proc: subprocess.Popen, deadline: float) -> int:
        try:
            return proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            logs = "\n".join(f"--- {p.args}\n{log.read_text()[-3000:]}" for p, log in self.started)
            pytest.fail(f"a load run did not end within {DEADLINE:g}s\n{logs}")

    def cluster(self, plan: Path, users: int, *master_args: str) -> subprocess.Popen:
        """A master and two workers on ``plan``; each must exit 0 within the deadline. Returns the
        master, whose log holds the totals."""
        port, deadline = str(free_port()), time.monotonic() + DEADLINE
        master = self.start(
            "master", "-m", "emulator", "load", str(plan), "--master", "--expect-workers", "2",
            "--users", str(users), "--master-port", port, *master_args,
        )  # fmt: skip
        worker = ["-m", "emulator", "load", str(plan), "--worker", "--master-port", port]
        workers = [self.start(f"worker{i}", *worker) for i in range(2)]
        assert self.wait(master, deadline) == 0, self.log(master)
        for proc in workers:
            assert self.wait(proc, deadline) == 0, self.log(proc)
        return master

    def log(self, proc: subprocess.Popen) -> str:
        return next(log for p, log in self.started if p is proc).read_text()

    def kill_all(self) -> None:
        for proc, _ in self.started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def processes(tmp_path):
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.kill_all()


def planned_keys(plan: Path) -> list[str]:
    """Every event's dedupe key, from the planned events themselves (before any envelope)."""
    events = load_plan(str(plan)).events
    return [k for e in events for k in catalogue.vendor(e.vendor).dedupe_keys(e.body)]


def stats_rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as fh:
        return {f"{row['Type']} {row['Name']}": row for row in csv.DictReader(fh)}


def test_a_master_and_two_workers_send_exactly_the_planned_events(consumer, processes, tmp_path):
    plan = consumer.plan(tmp_path, ITEMS)
    master = processes.cluster(plan, 6, "--csv", "stats/run", "--locust=--only-summary")

    assert consumer.refused == []
    expected = planned_keys(plan)
    assert len(expected) == 260
    assert Counter(consumer.keys) == Counter(expected)  # each planned event once, nothing else
    assert consumer.verifications["punchh"] == 2  # one per worker, before its first POST

    log = processes.log(master)
    shares = [int(n) for n in re.findall(r"worker \d sent (\d+) requests", log)]
    assert len(shares) == 2, log
    # Each worker sent its own share's requests: its coupons' events, fabric's batched among them.
    planned = [list(requests(load_plan(str(plan), share=(i, 2)))) for i in range(2)]
    assert shares == [len(p) for p in planned], log
    assert sum(shares) == 60 + 16 + 40 + 60
    assert "sent 176 of 176 requests (260 of 260 events), 0 failed" in log
    rows = stats_rows(tmp_path / "stats" / "run_stats.csv")
    counts = {name: int(row["Request Count"]) for name, row in rows.items()}
    assert counts["POST komo CouponIssued"] == 60
    assert counts["POST fabric offers:coupon:created"] == 16
    assert counts["POST rebilly coupon-issued"] == 40
    assert counts["POST punchh coupon-redemption"] == 60
    assert counts["GET punchh verification"] == 2
    assert counts["POST rebilly digest challenge"] >= 1
    assert int(rows[" Aggregated"]["Failure Count"]) == 0
    assert rows["POST punchh coupon-redemption"]["95%"] not in ("", "N/A")


def test_one_process_under_plain_locust_judges_answers_by_vendor_rules(
    consumer, processes, tmp_path
):
    items = [("komo", "CouponViewed", 20), ("punchh", "coupon-issuance-unlock", 10)]
    plan = consumer.plan(tmp_path, items)
    consumer.status["punchh"] = 201  # a 2xx, but Punchh counts only 200 and 202
    run = processes.start(
        "local", "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--scenario", str(plan),
        "--users", "3", "--spawn-rate", "3", "--csv", "out", "--only-summary",
    )  # fmt: skip
    assert processes.wait(run, time.monotonic() + DEADLINE) == 1, processes.log(run)
    assert Counter(consumer.keys) == Counter(planned_keys(plan))
    assert "sent 30 of 30 requests (30 of 30 events), 10 failed" in processes.log(run)
    with open(tmp_path / "out_failures.csv", newline="") as fh:
        [failure] = list(csv.DictReader(fh))
    assert failure["Name"] == "punchh coupon-issuance-unlock"
    assert failure["Occurrences"] == "10"
    assert "answered 201 (punchh: only 200, 202 count as success)" in failure["Error"]


def test_workers_that_plan_differently_are_stopped_before_they_send(consumer, processes, tmp_path):
    plan = consumer.plan(tmp_path, [("komo", "CouponIssued", 20)])
    port, deadline = str(free_port()), time.monotonic() + DEADLINE
    master = processes.start(
        "master", "-m", "emulator", "load", str(plan), "--master", "--expect-workers", "2",
        "--users", "2", "--master-port", port,
    )  # fmt: skip
    worker = ["-m", "emulator", "load", str(plan), "--worker", "--master-port", port]
    for i, seed in enumerate(("5", "6")):
        processes.start(f"worker{i}", *worker, "--seed", seed)
    assert processes.wait(master, deadline) == 2, processes.log(master)
    assert "the workers planned different plans" in processes.log(master)
    assert consumer.keys == []  # nobody sent before the master compared the plans


def test_plain_locust_without_a_plan_exits_2_with_one_paragraph(processes, tmp_path):
    run = processes.start("local", "-m", "locust", "-f", str(LOCUSTFILE), "--headless")
    assert processes.wait(run, time.monotonic() + DEADLINE) == 2
    log = processes.log(run)
    assert "coupon-emulator: error: --scenario FILE is required" in log
    assert "Traceback" not in log


def test_a_scenario_with_broken_auth_injected_counts_the_consumers_refusals_as_correct(
    consumer, processes, tmp_path
):
    """Scenario flows plan the load too; a request signed wrong must be refused, and is."""
    plan = tmp_path / "scenario.yaml"
    plan.write_text(
        "name: broken-auth\nseed: 3\n"
        f"vendors:\n  punchh:\n    target: {consumer.url}/hooks/punchh\n"
        "    auth: {type: hmac-sha256, client: acme, secret: s3cret}\n"
        "flows:\n  - vendor: punchh\n    coupons: 12\n    inject: [wrong_auth]\n"
        "    steps: [coupon-issuance-unlock, coupon-redemption]\n"
    )
    consumer.settings = config.parse(
        {"vendors": {"punchh": {"target": f"{consumer.url}/hooks/punchh", **AUTH["punchh"]}}}
    )
    run = processes.start(
        "local", "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--scenario", str(plan),
        "--users", "3", "--spawn-rate", "3", "--csv", "out", "--only-summary",
    )  # fmt: skip
    assert processes.wait(run, time.monotonic() + DEADLINE) == 0, processes.log(run)
    events = list(load_plan(str(plan)).events)
    broken = [e for e in events if "wrong_auth" in e.label]
    assert len(broken) == 24  # every event has a wrongly signed copy before it
    assert len(consumer.refused) == 24
    assert Counter(consumer.keys) == Counter(
        k
        for e in events
        if "wrong_auth" not in e.label
        for k in catalogue.vendor("punchh").dedupe_keys(e.body)
    )


def test_a_scenario_split_by_coupon_between_two_workers_delivers_each_event_once(
    consumer, processes, tmp_path
):
    """Each worker plans only its share of the scenario's coupons; together they send the plan."""
    vendors = {slug: {"target": f"{consumer.url}/hooks/{slug}", **spec} for slug, spec in AUTH.items()}  # fmt: skip
    document = {
        "name": "split",
        "seed": 8,
        "population": {"users": 5, "offers": 2},
        "vendors": vendors,
        "flows": [
            {"vendor": "komo", "coupons": 21, "rate": "5/s", "delay": "1s",
             "steps": ["CouponIssued", {"event": "CouponViewed", "repeat": "1..3"}]},
            {"vendor": "fabric", "coupons": 17, "rate": "5/s",
             "steps": ["offers:coupon:created", "offers:coupon:activated"]},
            {"vendor": "rebilly", "coupons": 9, "spread": "5s",
             "steps": ["coupon-issued", "coupon-applied"]},
            {"vendor": "punchh", "coupons": 13, "inject": {"duplicate": 0.4},
             "steps": ["coupon-issuance-unlock", "coupon-redemption"]},
        ],
    }  # fmt: skip
    plan = tmp_path / "split.yaml"
    plan.write_text(json.dumps(document))
    consumer.settings = config.parse({"vendors": vendors})
    master = processes.cluster(plan, 4, "--locust=--only-summary")

    assert consumer.refused == []
    events = list(load_plan(str(plan)).events)
    assert any("duplicate" in e.label for e in events)  # a copy is an event sent twice on purpose
    expected = Counter(k for e in events for k in catalogue.vendor(e.vendor).dedupe_keys(e.body))
    assert Counter(consumer.keys) == expected  # every planned event exactly once, nothing else
    log = processes.log(master)
    sent = [int(n) for n in re.findall(r"worker \d sent \d+ requests \((\d+) events\)", log)]
    assert len(sent) == 2, log
    assert all(sent), log  # both workers sent a part
    assert sum(sent) == len(events)


def test_a_large_plan_is_sent_as_it_is_planned_until_the_run_time_ends(
    consumer, processes, tmp_path
):
    """A million coupons: the lone process plans as it sends, so requests flow at once; when
    --run-time ends the run, what was sent is the plan's beginning, each event once."""
    target = f"{consumer.url}/hooks/komo"
    plan = tmp_path / "big.yaml"
    plan.write_text(
        f"name: big\nseed: 4\nvendors:\n  komo: {{target: '{target}'}}\n"
        "flows:\n  - {vendor: komo, coupons: 1000000, rate: 1000/s, delay: 1s..2s,\n"
        "     steps: [CouponIssued, CouponViewed, CouponRedemptionSuccess]}\n"
    )
    consumer.settings = config.parse({"vendors": {"komo": {"target": target}}})
    run = processes.start(
        "local", "-m", "emulator", "load", str(plan), "--users", "4", "--run-time", "5s",
        "--locust=--only-summary",
    )  # fmt: skip
    assert processes.wait(run, time.monotonic() + DEADLINE) == 1, processes.log(run)
    log = processes.log(run)
    assert "the plan was not completely sent" in log
    received = Counter(consumer.keys)
    # Sending began within the 5 s, long before a million coupons could be planned.
    assert received, log
    assert max(received.values()) == 1
    # The plan's first events, and nothing else (4 users: at most 4 requests out of order).
    events = load_plan(str(plan)).events
    first = [catalogue.vendor("komo").dedupe_keys(next(events).body)[0] for _ in range(len(received) + 4)]  # fmt: skip
    assert set(received) <= set(first)
    sent = re.search(r"sent (\d+) requests \((\d+) events\) before the test stopped", log)
    assert sent, log
    # Requests still in flight when the run stopped may have arrived without being counted.
    assert len(received) - 4 <= int(sent.group(2)) <= len(received)


def test_a_worker_whose_share_is_empty_finishes_at_once(consumer, processes, tmp_path):
    plan = consumer.plan(tmp_path, [("komo", "CouponIssued", 1)])  # one coupon, two workers
    master = processes.cluster(plan, 2)
    assert Counter(consumer.keys) == Counter(planned_keys(plan))
    assert "sent 1 of 1 requests (1 of 1 events), 0 failed" in processes.log(master)
