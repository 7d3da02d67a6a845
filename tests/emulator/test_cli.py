"""The command line as users run it: a real subprocess, real exit codes, real bytes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.emulator.test_catalogue import EXPECTED


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args], capture_output=True, timeout=60, check=False
    )


def test_events_json_lists_every_type_with_schema_and_inferred_flag():
    result = run("events", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {(r["vendor"], r["name"]) for r in rows} == {
        (v, n) for v, names in EXPECTED.items() for n in names
    }
    for row in rows:
        assert row["schema"].startswith(f"emulator/vendors/{row['vendor']}/schemas/")
        assert row["schema"].endswith(".json")
        with open(row["schema_file"], encoding="utf-8") as fh:
            assert json.load(fh)["$schema"].endswith("2020-12/schema")
        assert row["inferred"] is (row["name"] == "coupon-void")


def test_events_filters_by_vendor_and_prints_a_table():
    result = run("events", "--vendor", "rebilly")
    assert result.returncode == 0
    text = result.stdout.decode()
    assert "coupon-redemption-canceled" in text
    assert "CouponIssued" not in text


@pytest.mark.parametrize(("vendor", "event"), [("komo", "CouponIssued"), ("punchh", "coupon-void")])
def test_sample_is_byte_identical_for_one_seed_and_differs_for_another(vendor, event):
    first = run("sample", vendor, event, "--seed", "5", "--json")
    second = run("sample", vendor, event, "--seed", "5", "--json")
    other = run("sample", vendor, event, "--seed", "6", "--json")
    assert first.returncode == second.returncode == other.returncode == 0
    assert first.stdout == second.stdout
    assert other.stdout != first.stdout
    assert json.loads(first.stdout) == json.loads(
        run("sample", vendor, event, "--seed", "5").stdout
    )


def test_sample_json_is_the_compact_wire_form():
    out = run("sample", "fabric", "offers:coupon:created", "--json").stdout
    assert out.endswith(b"}\n")
    assert b"\n" not in out[:-1]
    assert b", " not in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("sample", "stripe", "x"), "valid vendors: komo, fabric, rebilly, punchh"),
        (("sample", "komo", "CouponRedeemed"), "valid komo event types: CouponIssued"),
        (("events", "--vendor", "Komo"), "Did you mean 'komo'?"),
        (("sample", "komo", "CouponIssued", "--seed", "x"), "invalid int value"),
        (("sample", "komo", "CouponIssued", "--at", "yesterday"), "not an ISO 8601 time"),
        (("--bogus",), "unrecognized arguments: --bogus"),
        (("--bogus", "events"), "unrecognized arguments: --bogus"),
        ((), "the following arguments are required: COMMAND"),
        (("send", "punchh", "coupon-redemption", "--target", "notaurl"),
         "--target (the punchh URL): expected an http:// or https:// URL"),
        (("run", "quickstart", "--target", "komo=ftp://x/hooks"),
         "--target (the komo URL): expected an http:// or https:// URL, got scheme 'ftp'"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_a_clear_message_and_no_traceback(args, needle):
    result = run(*args)
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert needle in stderr
    assert "Traceback" not in stderr
    assert result.stdout == b""


def test_help_describes_every_command_and_each_gives_an_example():
    import argparse

    from emulator.cli import build_parser

    (sub,) = (a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    commands = sorted(sub.choices)
    assert {"events", "sample", "send", "run", "resume", "serve", "verify", "load"} <= set(commands)
    text = run("--help").stdout.decode()
    for command in commands:
        assert command in text
        page = subprocess.run(
            [sys.executable, "-m", "emulator", command, "--help"],
            capture_output=True,
            check=True,
            env={**os.environ, "COLUMNS": "1000"},  # argparse wraps lines, even inside a name
        ).stdout.decode()
        example = re.search(r"^Examples?: (.*)", page, re.MULTILINE)
        assert example, command
        assert re.search(rf"coupon-emulator {command}\b", example.group(1)), command


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ("no_such_vendor:Acme", b"could not be loaded: No module named 'no_such_vendor'"),
        ("acme", b"is not module:Class"),
        ("emulator.vendors.komo:Komo", b"two vendors have the slug 'komo'"),
    ],
)
def test_a_bad_extra_vendor_is_a_usage_error_not_a_traceback(spec, needle):
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "events"],
        capture_output=True,
        check=False,
        env={**os.environ, "COUPON_EMULATOR_VENDORS": spec},
    )
    assert done.returncode == 2
    assert needle in done.stderr
    assert b"Traceback" not in done.stderr


def test_a_bad_target_flag_is_blamed_on_the_flag_not_on_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "send", "punchh", "coupon-redemption",
         "--target", "notaurl", "--db", str(tmp_path / "o.db")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--target" in result.stderr
    assert "<settings>" not in result.stderr
    assert "vendors.punchh.target" not in result.stderr
    assert not (tmp_path / "o.db").exists()  # refused before anything was stored


def test_the_inferred_note_of_an_event_type_is_printed_once():
    table = run("events").stdout.decode()
    (row,) = [line for line in table.splitlines() if " coupon-void " in line]
    assert row.count("inferred") == 1


def test_faker_is_imported_only_when_a_plan_draws_fake_data():
    """Importing Faker scans every locale it ships (about 90 ms a start): the commands that draw no
    person or place (the catalogue, a fabric plan) never import it; a punchh body does."""
    probe = (
        "import sys\n"
        "from emulator.cli import main\n"
        "main(['events'])\n"
        "main(['sample', 'fabric', 'offers:coupon:created'])\n"
        "print('faker' in sys.modules, file=sys.stderr)\n"
        "main(['sample', 'punchh', 'coupon-redemption'])\n"
        "print('faker' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    assert done.stderr.split() == ["False", "True"]
