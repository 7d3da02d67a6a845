"""``validate`` and ``plan`` as users run them: a subprocess, real exit codes, real output."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest


def cli(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args], capture_output=True, text=True, timeout=120,
        cwd=cwd, check=False,
    )  # fmt: skip


@pytest.fixture
def files(tmp_path):
    def write(name: str, text: str) -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return str(path)

    return write


def test_validate_tells_scenarios_settings_and_event_lists_apart(files):
    scenario = files("s.yaml", "flows: [{vendor: komo, coupons: 4, steps: [CouponIssued]}]\n")
    settings = files("settings.yaml", "vendors:\n  komo: {target: 'http://127.0.0.1:9/k'}\n")
    events = files("events.yaml", "events:\n  - {vendor: komo, event: CouponIssued, count: 3}\n")
    result = cli("validate", scenario, settings, events)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"ok: {scenario}: scenario 's': 1 flow (komo), 4 coupons, 4 events",
        f"ok: {settings}: settings: 1 vendor",
        f"ok: {events}: event list: 3 events",
    ]


def test_validate_reports_every_bad_file_and_exits_2(files, tmp_path):
    good = files("good.yaml", "flows: [{vendor: komo, steps: [CouponIssued]}]\n")
    settings = files("settings.yaml", "vendors:\n  komo: {target: 'ftp://x'}\n")
    empty = files("empty.yaml", "# nothing here\n")
    missing = str(tmp_path / "missing.yaml")
    result = cli("validate", good, settings, empty, missing)
    assert result.returncode == 2
    assert f"ok: {good}" in result.stdout
    errors = result.stderr.splitlines()
    assert errors[0].startswith(f"coupon-emulator: error: {settings}:2:18: vendors.komo.target:")
    assert (
        errors[1]
        == f"coupon-emulator: error: {empty}: the file is empty; expected a scenario or delivery settings"
    )
    assert errors[2] == f"coupon-emulator: error: {missing}: file not found"
    assert errors[3] == "3 of 4 files have errors"
    assert "Traceback" not in result.stderr


def test_plan_flags_seed_start_limit_and_links_base(files):
    scenario = files(
        "s.yaml",
        """
        seed: 1
        flows:
          - {vendor: rebilly, coupons: 5, rate: 1/s, steps: [coupon-issued, coupon-applied]}
    """,
    )
    base = cli("plan", scenario)
    assert base.returncode == 0, base.stderr
    assert base.stdout == cli("plan", scenario, "--seed", "1").stdout
    assert base.stdout != cli("plan", scenario, "--seed", "2").stdout
    result = cli("plan", scenario, "--limit", "3", "--start", "2030-02-03T04:05:06Z",
                 "--links-base", "https://links.test")  # fmt: skip
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3
    coupon = lines[0]["body"]["_embedded"]["coupon"]
    assert coupon["updatedTime"].startswith("2030-02-03T04:0")
    assert lines[0]["body"]["_links"][0]["href"].startswith("https://links.test/vendors/rebilly/")


def test_plan_lines_show_broken_requests(files):
    scenario = files(
        "s.yaml",
        """
        flows:
          - vendor: komo
            inject: [wrong_auth, malformed_json, {oversized: 1}]
            steps: [CouponIssued]
    """.replace(", {oversized: 1}", ", oversized"),
    )
    lines = [json.loads(line) for line in cli("plan", scenario).stdout.splitlines()]
    wrong, malformed, oversized, real = lines
    assert (wrong["auth"], wrong["label"]) == ("wrong", "wrong_auth")
    assert malformed["raw_body_size"] == len(malformed["raw_body"].encode())
    assert oversized["raw_body_size"] == 1024 * 1024 + 1
    assert "raw_body" not in oversized  # a megabyte of padding is left out of the plan
    assert "auth" not in real
    assert "raw_body" not in real
    assert real["label"] == ""
