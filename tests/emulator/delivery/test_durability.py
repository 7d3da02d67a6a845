"""Nothing accepted is lost: ``run`` killed with SIGKILL at three moments (while its plan is being
stored, while delivering, while retries wait), then ``resume``: the consumer holds every planned
event. Runs are owned by live processes; SIGTERM stops a run cleanly and leaves it resumable."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from emulator.core import catalogue
from emulator.readers import loader
from tests.emulator.delivery.consumer import Consumer, poll, serving

CLI = [sys.executable, "-m", "emulator"]


def event_list(
    tmp_path, url: str, vendor: str, event: str, count: int, extra: str = "", every: str = ""
) -> str:
    path = tmp_path / "events.yaml"
    spacing = f", every: {every}" if every else ""
    path.write_text(
        f"seed: 5\n{extra}vendors:\n  {vendor}:\n    target: {url}\n"
        f"events:\n  - {{vendor: {vendor}, event: {event}, count: {count}{spacing}}}\n",
        encoding="utf-8",
    )
    return str(path)


def planned_keys(path: str) -> set[str]:
    """Every dedupe key the file plans (they do not depend on the start instant)."""
    plan = loader.plan(path, start=datetime(2026, 1, 15, tzinfo=UTC))
    return {
        key for e in plan.events for key in catalogue.vendor(e.vendor).dedupe_keys(e.body)
    }  # fmt: skip


def start_run(path: str, db, *more: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*CLI, "run", path, "--db", str(db), "--quiet", *more],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_9(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)  # reaped: a zombie would still look alive
    assert process.returncode == -signal.SIGKILL


def resume(db, *more: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, "resume", "--db", str(db), "--quiet", *more],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def stored(db) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]


def run_row(db) -> tuple:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT planned, plan_total, state FROM runs").fetchone()


def finished_exactly(consumer: Consumer, db, expected: set[str]) -> None:
    done = resume(db)
    assert done.returncode == 0, done.stderr
    assert f"delivered {len(expected)}," in done.stderr
    assert "Traceback" not in done.stderr
    assert consumer.keys == expected  # every planned event, none that was not planned
    again = resume(db)
    assert again.returncode == 0
    assert "nothing to resume" in again.stdout


def test_kill_9_within_the_first_second_while_the_plan_is_stored(tmp_path):
    with serving(Consumer("komo")) as consumer:
        path = event_list(tmp_path, consumer.url, "komo", "CouponIssued", 8000)
        expected = planned_keys(path)
        db = tmp_path / "outbox.db"
        run = start_run(path, db)
        # The first request leaves as soon as the first chunk of the plan is stored.
        poll(lambda: consumer.requests() > 0, 30, "the first request")
        kill_9(run)
        assert stored(db) < len(expected)  # killed while the plan was being stored
        assert len(consumer.keys) < len(expected)
        finished_exactly(consumer, db, expected)
        assert run_row(db)[1:] == (len(expected), "done")


def live_parents() -> dict[int, int]:
    """Every live process and its parent, read from /proc."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            if fields[0] != "Z":  # a zombie has ended
                parents[int(entry)] = int(fields[1])
    return parents


def descendants(pid: int) -> set[int]:
    """The live processes below ``pid`` (a run's planning child and planners)."""
    parents = live_parents()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


@pytest.mark.skipif(sys.platform != "linux", reason="planners are forked on Linux")
def test_kill_9_leaves_no_planning_process_behind(tmp_path):
    """The planning child and the event list's planners end once the run is gone: nothing keeps
    planning a run that no one will store."""
    with serving(Consumer("komo")) as consumer:
        path = event_list(tmp_path, consumer.url, "komo", "CouponIssued", 400_000)
        run = start_run(path, tmp_path / "outbox.db")
        poll(lambda: consumer.requests() > 0, 30, "the first request")
        below = descendants(run.pid)
        assert len(below) >= 2  # the planning child, and planners on a machine of 2+ cores
        kill_9(run)
        poll(lambda: not (live_parents().keys() & below), 30, "the planning processes to end")


def test_kill_9_while_delivering(tmp_path):
    with serving(Consumer("komo")) as consumer:
        # Events due 1 ms apart (every: 1 s at time_scale 0.001): delivery takes a while.
        extra = "time_scale: 0.001\n"
        path = event_list(tmp_path, consumer.url, "komo", "CouponViewed", 3000, extra, every="1")
        expected = planned_keys(path)
        db = tmp_path / "outbox.db"
        run = start_run(path, db)
        poll(lambda: len(consumer.keys) >= 300, 60, "300 deliveries")
        kill_9(run)
        assert len(consumer.keys) < len(expected)
        finished_exactly(consumer, db, expected)


def test_kill_9_while_retries_wait(tmp_path):
    with serving(Consumer("punchh", fail_first=True)) as consumer:
        # Every first attempt fails; punchh retries a 5xx after 60 s, 1.2 s at this scale.
        extra = "time_scale: 0.02\n"
        path = event_list(tmp_path, consumer.url, "punchh", "coupon-redemption", 80, extra)
        expected = planned_keys(path)
        db = tmp_path / "outbox.db"
        run = start_run(path, db)
        poll(lambda: len(consumer.seen) == len(expected), 60, "every first attempt")
        kill_9(run)
        assert len(consumer.keys) < len(expected)  # retries were waiting
        finished_exactly(consumer, db, expected)


def test_resume_beside_a_live_run_refuses_and_sends_nothing(tmp_path):
    with serving(Consumer("komo")) as consumer:
        consumer.gate.clear()  # requests wait: the run stays busy
        path = event_list(tmp_path, consumer.url, "komo", "CouponIssued", 200)
        db = tmp_path / "outbox.db"
        run = start_run(path, db)
        try:
            poll(lambda: consumer.requests() >= 8, 30, "the run's first requests")
            busy = resume(db, timeout=60)
            assert busy.returncode == 3, busy.stderr
            assert f"being delivered by process {run.pid}" in busy.stderr
            assert "Traceback" not in busy.stderr
            consumer.gate.set()
            _out, err = run.communicate(timeout=120)
        finally:
            if run.poll() is None:
                run.kill()
        assert run.returncode == 0, err
        assert max(consumer.seen.values()) == 1  # not one request twice
        assert len(consumer.keys) == 200


def test_a_stale_lease_is_taken_over_and_a_fresh_one_is_not(tmp_path):
    with serving(Consumer("komo")) as consumer:
        path = event_list(tmp_path, consumer.url, "komo", "CouponIssued", 20)
        expected = planned_keys(path)
        db = tmp_path / "outbox.db"
        run = start_run(path, db)
        poll(lambda: consumer.requests() > 0, 30, "the first request")
        kill_9(run)
        now = datetime.now(UTC).timestamp()
        with sqlite3.connect(db) as con:  # as if another host shared the file and still ran it
            con.execute("UPDATE runs SET owner_pid = 1, owner_host = 'elsewhere', heartbeat_at = ?",
                        (now,))  # fmt: skip
        busy = resume(db)
        assert busy.returncode == 3
        assert "process 1 on elsewhere" in busy.stderr
        with sqlite3.connect(db) as con:  # that host has been silent for two minutes
            con.execute("UPDATE runs SET heartbeat_at = ?", (now - 120,))
        finished_exactly(consumer, db, expected)


def test_sigterm_stops_with_a_summary_and_leaves_the_run_resumable(tmp_path):
    with serving(Consumer("komo")) as consumer:
        consumer.gate.clear()
        path = event_list(tmp_path, consumer.url, "komo", "CouponIssued", 3000)
        expected = planned_keys(path)
        db = tmp_path / "outbox.db"
        run = start_run(path, db)
        try:
            poll(lambda: consumer.requests() >= 8, 30, "the run's first requests")
            run.send_signal(signal.SIGTERM)
            consumer.gate.set()
            _out, err = run.communicate(timeout=60)
        finally:
            if run.poll() is None:
                run.kill()
        assert run.returncode == 143, err
        assert "stopped by SIGTERM" in err
        assert "resume --db" in err
        assert "Traceback" not in err
        assert run_row(db)[2] == "interrupted"
        finished_exactly(consumer, db, expected)


def test_an_unwritable_report_is_refused_before_anything_is_sent(tmp_path):
    with serving(Consumer("komo")) as consumer:
        path = event_list(tmp_path, consumer.url, "komo", "CouponIssued", 5)
        run = start_run(path, tmp_path / "outbox.db", "--report", str(tmp_path / "no" / "r.json"))
        _out, err = run.communicate(timeout=60)
        assert run.returncode == 2
        assert "--report" in err
        assert "cannot write" in err
        assert "Traceback" not in err
        assert consumer.requests() == 0
