"""``coupon-emulator load`` before Locust starts: bad input exits 2, flags map to Locust's."""

from __future__ import annotations

import subprocess
import sys

import pytest

from emulator.cli import build_parser
from emulator.cli.load_command import LOCUSTFILE, locust_command
from tests.emulator.loadgen.conftest import write_plan


def cli(*args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, *(["-c", code] if code else ["-m", "emulator"]), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def plan(tmp_path):
    return str(write_plan(tmp_path, "http://127.0.0.1:9", [("komo", "CouponIssued", 3)], 1))


def test_without_locust_the_command_says_which_extra_to_install(plan):
    # Locust hidden from this interpreter, as after a plain `pip install coupon-emulator`.
    hide = (
        "import sys; sys.modules['locust'] = None; from emulator.cli import main; "
        "sys.exit(main(['load', *sys.argv[1:]]))"
    )
    result = cli(plan, code=hide)
    assert result.returncode == 2
    assert "install the extra: pip install 'coupon-emulator[load]'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--users", "1", "--master", "--expect-workers", "2"], "--users 1 is fewer than --expect-workers 2"),
        (["--master-host", "10.0.0.5"], "--master-host is for workers"),
        (["--expect-workers", "2"], "--expect-workers is for the master"),
        (["--run-time", "ten"], "'ten' is not a duration"),
        (["--master", "--worker"], "not allowed with argument"),
        (["--master-port", "70000"], "must be a port number from 1 to 65535"),
        (["--master-port", "6000"], "--master-port is for a master or a worker"),
        (["--worker", "--users", "5", "--csv", "x"], "--users, --csv: a worker takes these from its master"),
        (["--locust=--loglevel 'WARNING"], "--locust=\"--loglevel 'WARNING\": No closing quotation"),
    ],
)  # fmt: skip
def test_bad_flags_exit_2_with_the_reason(plan, args, needle):
    result = cli("load", plan, *args)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_plan_exits_2_naming_file_line_and_key_before_locust_starts(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "vendors:\n  komo: {target: 'http://x:1/k'}\nevents:\n  - {vendor: komo, event: Nope}\n"
    )
    result = cli("load", str(path))
    assert result.returncode == 2
    assert "bad.yaml:4:" in result.stderr
    assert "events[0].event: unknown komo event type 'Nope'" in result.stderr
    assert "Locust" not in result.stderr
    assert "Traceback" not in result.stderr


def parse(*args: str):
    return build_parser().parse_args(["load", "plan.yaml", *args])


def test_a_lone_run_is_headless_with_every_plan_option():
    command = locust_command(
        parse("--seed", "4", "--config", "s.yaml", "--target", "komo=http://h/k", "--users", "8",
              "--run-time", "1h30m", "--csv", "out/run", "--locust", "--loglevel WARNING")
    )  # fmt: skip
    assert command[:5] == [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    text = " ".join(command[5:])
    assert text == (
        "--scenario plan.yaml --seed 4 --settings s.yaml --target komo=http://h/k --users 8 "
        "--spawn-rate 8 --headless --run-time 1h30m --csv out/run --loglevel WARNING"
    )


def test_master_and_worker_command_lines():
    master = " ".join(
        locust_command(
            parse("--master", "--expect-workers", "3", "--users", "30", "--master-port", "6000")
        )
    )
    assert "--master --expect-workers 3 --master-bind-port 6000" in master
    assert "--users 30 --spawn-rate 30 --headless" in master
    worker = locust_command(parse("--worker", "--master-host", "10.0.0.5", "--master-port", "6000"))
    assert " ".join(worker[5:]) == (
        "--scenario plan.yaml --worker --master-host 10.0.0.5 --master-port 6000"
    )
    assert "--autostart" in locust_command(parse("--web-ui"))
    assert "--headless" not in locust_command(parse("--web-ui"))
