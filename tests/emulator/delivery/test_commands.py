"""``send``, ``run`` and ``resume`` as users run them: a subprocess, real exit codes and files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def cli(*args: str, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args], capture_output=True, text=True, timeout=120,
        env=env, cwd=cwd, check=False,
    )  # fmt: skip


def test_send_delivers_one_event_and_reports_it(httpserver, tmp_path):
    httpserver.expect_request("/hooks", method="POST").respond_with_data("", status=202)
    httpserver.expect_request("/hooks", method="GET").respond_with_data("", status=200)
    report = tmp_path / "report.json"
    result = cli("send", "punchh", "coupon-redemption", "--target", httpserver.url_for("/hooks"),
                 "--db", str(tmp_path / "o.db"), "--report", str(report))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "verification: GET " in result.stdout  # Punchh's GET, logged like any attempt
    assert "attempt 1: POST " in result.stdout
    assert "answered 202" in result.stdout
    assert result.stdout.rstrip().endswith("delivered")
    data = json.loads(report.read_text())
    [delivery] = data["deliveries"]
    assert delivery["status"] == "delivered"
    assert delivery["attempts"][-1]["status"] == 202
    posted = json.loads(next(r for r, _ in httpserver.log if r.method == "POST").get_data())
    assert delivery["dedupe_keys"] == [posted["content_id"]]


def test_send_exits_1_when_the_consumer_refuses(httpserver, tmp_path):
    httpserver.expect_request("/hooks").respond_with_data("nope", status=400)
    result = cli("send", "komo", "CouponIssued", "--target", httpserver.url_for("/hooks"),
                 "--db", str(tmp_path / "o.db"))  # fmt: skip
    assert result.returncode == 1
    assert "failed: answered 400: not retried" in result.stdout


def test_run_delivers_an_event_list_with_target_overrides(httpserver, tmp_path):
    httpserver.expect_request("/k").respond_with_data("", status=200)
    events = tmp_path / "events.yaml"
    events.write_text(
        "seed: 3\nvendors:\n  komo: {target: 'http://127.0.0.1:1/unused'}\n"
        "events:\n  - {vendor: komo, event: CouponViewed, count: 12}\n"
    )
    result = cli(
        "run",
        str(events),
        "--target",
        f"komo={httpserver.url_for('/k')}",
        "--db",
        str(tmp_path / "o.db"),
    )
    assert result.returncode == 0, result.stderr
    assert "12 deliveries (12 events)" in result.stdout
    assert len(httpserver.log) == 12


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("events:\n  - {vendor: komo, event: CouponIssued}\n", "no komo target is set"),
        ("events:\n  - {vendor: stripe, event: x}\n", ":2:14: events[0].vendor: unknown vendor 'stripe'"),
        ("events:\n  - {vendor: komo, event: CouponIssued, count: 0}\n", ":2:48: events[0].count: expected an integer >= 1"),
        ("vendors:\n  komo: {target: ftp://x}\nevents: []\n", "events: expected a non-empty list"),
        ("vendors:\n  komo:\n    target: http://x\n    auth: {type: hmac-sha256}\nevents:\n  - {vendor: komo, event: CouponIssued}\n",
         ":4:18: vendors.komo.auth.type: unknown auth type 'hmac-sha256' for komo"),
        ("events: [\n", "YAML syntax error"),
    ],
)  # fmt: skip
def test_run_rejects_bad_event_lists_with_exit_2_and_the_place(text, needle, tmp_path):
    events = tmp_path / "events.yaml"
    events.write_text(text)
    result = cli("run", str(events), "--db", str(tmp_path / "o.db"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_a_target_flag_must_name_a_known_vendor(tmp_path):
    events = tmp_path / "e.yaml"
    events.write_text("events:\n  - {vendor: komo, event: CouponIssued}\n")
    result = cli(
        "run", str(events), "--target", "kommo=http://127.0.0.1:1/", "--db", str(tmp_path / "o.db")
    )
    assert result.returncode == 2
    assert "Did you mean 'komo'?" in result.stderr


def test_resume_without_a_database_is_a_clear_error(tmp_path):
    result = cli("resume", "--db", str(tmp_path / "missing.db"))
    assert result.returncode == 2
    assert "no outbox database" in result.stderr


def test_run_with_sink_delivers_the_quickstart_to_the_built_in_sink(tmp_path):
    """README's first command: the shipped quickstart, nothing else running."""
    quickstart = Path(__file__).resolve().parents[3] / "scenarios" / "quickstart.yaml"
    env = {
        k: v for k, v in os.environ.items() if k not in ("SINK_URL", "COUPON_EMULATOR_SINK_SECRET")
    }
    result = cli(
        "run",
        str(quickstart),
        "--sink",
        "--time-scale",
        "0.0001",
        "--db",
        str(tmp_path / "o.db"),
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "built-in sink listening at http://127.0.0.1:" in result.stdout
    assert "failed 0, exhausted 0, pending 0" in result.stdout


def test_run_with_sink_aims_vendors_without_a_target_at_it_with_the_sinks_auth(tmp_path):
    events = tmp_path / "events.yaml"
    events.write_text(
        "events:\n  - {vendor: punchh, event: coupon-redemption, count: 3}\n"
        "  - {vendor: rebilly, event: coupon-issued, count: 2}\n"
    )
    report = tmp_path / "r.json"
    result = cli(
        "run", str(events), "--sink", "--db", str(tmp_path / "o.db"), "--report", str(report)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = json.loads(report.read_text())["deliveries"]
    assert {r["status"] for r in rows} == {"delivered"}
    punchh = next(r for r in rows if r["vendor"] == "punchh")
    assert punchh["attempts"][-1]["request_headers"]["Authorization"] == "hmac [redacted]"
    assert "/sink/punchh" in punchh["attempts"][-1]["url"]


def test_the_summary_rate_counts_only_what_this_process_finished(tmp_path):
    """A resume finishes part of a run in a time of its own: its rate is that part over that time,
    not every delivery of the run over it."""
    import io

    from emulator.cli.delivery_commands import summarise
    from emulator.delivery.judging import Progress
    from emulator.delivery.outbox import Outbox
    from emulator.delivery.records import NewDelivery
    from emulator.delivery.runner import RunResult

    with Outbox(tmp_path / "run.db") as outbox:
        run_id = outbox.create_run("r", {})
        new = [
            NewDelivery("komo", "CouponIssued", f"k:{i}", (f"id{i}",), b"{}", 0.0)
            for i in range(100)
        ]
        outbox.enqueue(run_id, new)
        progress = Progress()
        progress.statuses["delivered"] = 10  # this process finished 10 of the 100
        out = io.StringIO()
        summarise(outbox, RunResult(run_id, progress, outbox.counts(run_id)), 2.0, "run.db", out)
    first = out.getvalue().splitlines()[0]
    assert "100 deliveries" in first
    assert "in 2.00s, 5 deliveries/s" in first
