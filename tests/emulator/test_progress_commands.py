"""Progress of the long commands as users see it: on standard error only (a line on a pipe, a bar
on a terminal), nothing with ``--quiet`` but errors, and standard output the same bytes either way.
"""

from __future__ import annotations

import contextlib
import os
import pty
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from contracts.reference_consumer import create_app
from contracts.serving import serve_wsgi
from emulator.cli import main
from emulator.readers import config

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = str(ROOT / "scenarios" / "quickstart.yaml")
CLI = [sys.executable, "-m", "emulator"]
DEADLINE = 120  # seconds for one command; a few on an idle machine


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CLI, *args], capture_output=True, timeout=DEADLINE, cwd=cwd)


def on_a_terminal(*args: str) -> tuple[subprocess.CompletedProcess[bytes], bytes]:
    """Run with standard error on a pseudo-terminal (standard output stays a pipe); what the
    terminal received."""
    master, slave = pty.openpty()
    received: list[bytes] = []

    def read() -> None:
        with contextlib.suppress(OSError):  # EIO once the last writer closed the terminal
            while chunk := os.read(master, 65536):
                received.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        done = subprocess.run([*CLI, *args], stdout=subprocess.PIPE, stderr=slave,
                              timeout=DEADLINE, env={**os.environ, "COLUMNS": "120"})  # fmt: skip
    finally:
        os.close(slave)
        reader.join(timeout=10)
        os.close(master)
    return done, b"".join(received)


def test_plan_shows_its_progress_on_a_pipe_and_prints_the_same_bytes_quiet_or_not():
    shown = cli("plan", QUICKSTART, "--seed", "3")
    quiet = cli("plan", QUICKSTART, "--seed", "3", "--quiet")
    assert shown.returncode == quiet.returncode == 0, shown.stderr
    assert shown.stdout == quiet.stdout
    assert len(shown.stdout.splitlines()) == 53
    assert shown.stderr.decode().splitlines() == ["planned 53/53 events (100%)"]
    assert quiet.stderr == b""


def test_plan_draws_a_bar_on_a_terminal_and_its_output_stays_the_same_bytes():
    plain = cli("plan", QUICKSTART, "--seed", "3", "--quiet")
    done, terminal = on_a_terminal("plan", QUICKSTART, "--seed", "3")
    assert done.returncode == 0
    assert done.stdout == plain.stdout
    text = terminal.decode(errors="replace")
    assert "━" in text  # rich's bar
    assert re.search(r"planned.*53/53 events \(100%\)", text), text
    assert b"\x1b" not in done.stdout


def test_quiet_shows_errors_and_nothing_else():
    missing = cli("plan", "nowhere.yaml", "--quiet")
    assert missing.returncode == 2
    err = missing.stderr.decode()
    assert err.startswith("coupon-emulator: error:"), err
    assert "planned" not in err


def test_run_shows_planning_and_delivery_on_standard_error_and_its_summary_on_standard_output(
    tmp_path,
):
    done = cli("run", QUICKSTART, "--sink", "--db", str(tmp_path / "o.db"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    err, out = done.stderr.decode(), done.stdout.decode()
    assert err.splitlines() == [
        "planned 53/53 events (100%); finished 53/53 deliveries (100%), 53 delivered"
    ]
    lines = out.splitlines()
    assert lines[0].startswith("built-in sink listening at http://127.0.0.1:")
    assert re.fullmatch(r"run 1: 53 deliveries \(53 events\) in [\d.]+s, [\d,]+ deliveries/s, "
                        r"\d+ requests", lines[1]), out  # fmt: skip
    assert lines[2:] == ["  delivered 53, failed 0, exhausted 0, pending 0"]

    quiet = cli("run", QUICKSTART, "--sink", "--db", str(tmp_path / "q.db"), "--quiet",
                cwd=tmp_path)  # fmt: skip
    assert quiet.returncode == 0, quiet.stderr
    assert "planned" not in quiet.stderr.decode()  # the summary only, as --quiet always did
    assert "delivered 53, failed 0" in quiet.stderr.decode()


def test_run_counts_what_a_planning_child_planned(tmp_path, httpserver):
    # Not --sink: the run plans in a child process, whose counting the parent must show too.
    httpserver.expect_request("/hooks/komo", method="POST").respond_with_data("ok")
    (tmp_path / "events.yaml").write_text(
        f"vendors:\n  komo: {{target: '{httpserver.url_for('/hooks/komo')}'}}\n"
        "events:\n  - {vendor: komo, event: CouponIssued, count: 40}\n"
    )
    done = cli("run", "events.yaml", "--db", str(tmp_path / "o.db"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.decode().splitlines() == [
        "planned 40/40 events (100%); finished 40/40 deliveries (100%), 40 delivered"
    ]
    assert len(httpserver.log) == 40


@pytest.fixture(scope="module")
def reference(settings_file):
    with serve_wsgi(create_app(config.load(settings_file))) as base:
        yield base + "/hooks"


def _verify(capsys, reference, settings_file, *more: str) -> tuple[int, str, str]:
    code = main(["verify", "--consumer", reference, "--config", settings_file, "--vendor", "komo",
                 "--case", "accepts", "--seed", "4", *more])  # fmt: skip
    out, err = capsys.readouterr()
    return code, re.sub(r"\d+(\.\d+)?\s?m?s\b", "<time>", out), err


def test_verify_counts_cases_on_standard_error_and_quiet_prints_nothing(
    capsys, reference, settings_file
):
    code, out, err = _verify(capsys, reference, settings_file)
    quiet_code, quiet_out, quiet_err = _verify(capsys, reference, settings_file, "--quiet")
    assert code == quiet_code == 0, err
    assert out == quiet_out  # standard output untouched by progress
    assert re.fullmatch(r"verified (\d+)/\1 cases \(100%\), \1 passed\n", err), err
    assert quiet_err == ""
