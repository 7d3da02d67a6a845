"""Schema fuzzing from the user's side: the contract suite writes nothing into the folder it runs in."""

from __future__ import annotations

import json
import subprocess
import sys

from contracts.reference_consumer import create_app
from contracts.serving import serve_wsgi


def test_verify_with_fuzzing_writes_no_hypothesis_folder_where_it_runs(
    settings, settings_file, tmp_path
):
    with serve_wsgi(create_app(settings)) as base:
        result = subprocess.run(
            [sys.executable, "-m", "emulator", "verify", "--consumer", f"{base}/hooks",
             "--config", settings_file, "--vendor", "komo", "--case", "fuzz-no-5xx",
             "--seed", "11", "--json", "report.json"],
            capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert [(r["id"], r["status"]) for r in report["results"]] == [("fuzz-no-5xx", "passed")]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_hypothesis_keeps_the_home_it_had_before_a_draw(tmp_path):
    from hypothesis import configuration

    from contracts import fuzz

    configuration.set_hypothesis_home_dir(tmp_path / "mine")
    try:
        assert len(fuzz.bodies("punchh", 2, 12345)) == 2
        home = configuration.storage_directory(intent_to_write=False).home_directory
        assert home == tmp_path / "mine"
    finally:
        configuration.set_hypothesis_home_dir(None)
