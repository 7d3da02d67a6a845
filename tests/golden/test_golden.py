"""Golden bytes: ``sample V E --seed 1 --at 2026-01-15T09:30:00Z`` prints the pinned files, any day.

Parametrised over the catalogue, so a new event type fails until its file exists. The files are the
CLI's own output: after an intended change, regenerate them with ``python -m tests.golden`` (from the
repository root) and review the diff; never edit them by hand.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date

import pytest

from emulator.cli import main
from emulator.core import catalogue
from emulator.core.vendor import EventType, encode
from tests import golden

TYPES = catalogue.event_types()
# The first event type of each vendor, for the checks that start a process per event type.
ONE_PER_VENDOR = tuple(catalogue.event_types(slug)[0] for slug in catalogue.VENDORS)
FAKETIME = shutil.which("faketime")
# libfaketime's offset syntax: the child's clock reads a year later than the real one.
YEAR_AHEAD = ("-f", "+365d")


def _id(et: EventType) -> str:
    return f"{et.vendor}-{et.name}"


def expected(et: EventType) -> bytes:
    file = golden.path(et)
    if not file.exists():
        pytest.fail(
            f"no golden file {file.relative_to(golden.ROOT)} for {et.vendor} {et.name}; "
            f"generate it with: {golden.REGENERATE}"
        )
    return file.read_bytes()


def differs(et: EventType) -> str:
    return (
        f"{' '.join(golden.argv(et))} no longer prints {golden.path(et).relative_to(golden.ROOT)}; "
        f"if the change is intended, regenerate with {golden.REGENERATE} and review the diff"
    )


@pytest.mark.parametrize("et", TYPES, ids=_id)
def test_sample_prints_the_golden_bytes(et, capsysbinary):
    want = expected(et)
    assert main(golden.argv(et)) == 0
    assert capsysbinary.readouterr().out == want, differs(et)
    # The wire form (--json) is the same body, compact: pinned through the same file.
    assert main([*golden.argv(et), "--json"]) == 0
    assert capsysbinary.readouterr().out == encode(json.loads(want)) + b"\n", differs(et)


def test_every_golden_file_belongs_to_an_event_type():
    stale = {f for f in golden.FOLDER.glob("*/*.json")} - {golden.path(et) for et in TYPES}
    assert not stale, (
        f"golden files of no event type: {sorted(stale)}; {golden.REGENERATE} drops them"
    )


@pytest.mark.parametrize("et", ONE_PER_VENDOR, ids=_id)
def test_the_real_cli_prints_the_golden_bytes(et):
    result = golden.run_cli([et])[et]
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == expected(et), differs(et)


@pytest.fixture(scope="module")
def year_ahead() -> tuple[str, ...]:
    """The command prefix that runs a child a year in the future, once shown to work here."""
    if FAKETIME is None:
        pytest.skip(
            "needs the faketime command (Debian package 'faketime': apt-get install faketime)"
        )
    today = subprocess.run(
        [
            FAKETIME,
            *YEAR_AHEAD,
            sys.executable,
            "-c",
            "import datetime; print(datetime.date.today())",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    # Without this, a faketime that fakes nothing would let the checks below pass vacuously.
    ahead = (date.fromisoformat(today.strip()) - date.today()).days
    assert 364 <= ahead <= 366, f"faketime did not move the child's clock a year ahead: {today!r}"
    return (FAKETIME, *YEAR_AHEAD)


@pytest.mark.parametrize("et", ONE_PER_VENDOR, ids=_id)
def test_a_clock_a_year_ahead_changes_no_byte_of_the_real_cli(et, year_ahead):
    result = golden.run_cli([et], prefix=year_ahead)[et]
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == expected(et), differs(et)


# Runs ``sample`` for every argv given, in one process, ending each output with a NUL (which JSON
# output never holds): the whole catalogue under faketime costs one start-up.
_EVERY_SAMPLE = """
import json, sys
from emulator.cli import main
for argv in json.loads(sys.argv[1]):
    if main(argv) != 0:
        sys.exit(f"failed: {argv}")
    sys.stdout.buffer.write(b"\\0")
    sys.stdout.flush()
"""


def test_a_clock_a_year_ahead_changes_no_byte_of_any_event_type(year_ahead):
    result = subprocess.run(
        [
            *year_ahead,
            sys.executable,
            "-c",
            _EVERY_SAMPLE,
            json.dumps([golden.argv(et) for et in TYPES]),
        ],
        cwd=golden.ROOT,
        env=golden.cli_env(),
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    outputs = result.stdout.split(b"\0")[:-1]
    assert len(outputs) == len(TYPES)
    changed = [_id(et) for et, out in zip(TYPES, outputs, strict=True) if out != expected(et)]
    assert not changed, (
        f"a year ahead of the real clock, these event types print other bytes: {changed}"
    )
