"""The corpus of bad scenario files: each one, through the real command line, exits 2 with one
message naming the file, the line and what is wrong, and never a traceback.

Each file's first line says what to expect: ``# expect LINE: message fragment``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BAD = sorted((Path(__file__).parent / "bad").glob("*.yaml"))
_EXPECT = re.compile(r"^# expect (\d+): (.+)$")


def expectation(path: Path) -> tuple[int, str]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    m = _EXPECT.match(first)
    assert m, f"{path.name} must start with '# expect LINE: fragment'"
    return int(m.group(1)), m.group(2)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args], capture_output=True, text=True, timeout=60
    )


def test_the_corpus_is_large_enough():
    assert len(BAD) >= 15


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_validate_exits_2_with_the_line_and_the_reason(path):
    line, fragment = expectation(path)
    result = cli("validate", str(path))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"coupon-emulator: error: {path}:{line}:"), first
    assert fragment in first


@pytest.mark.parametrize("command", ["plan", "run"])
def test_plan_and_run_refuse_a_bad_scenario_the_same_way(command, tmp_path):
    path = Path(__file__).parent / "bad" / "redeem-before-issue.yaml"
    line, fragment = expectation(path)
    result = (
        cli(command, str(path), "--db", str(tmp_path / "o.db"))
        if command == "run"
        else cli(command, str(path))
    )
    assert result.returncode == 2
    assert f"{path}:{line}:" in result.stderr
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
