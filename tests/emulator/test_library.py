"""The shipped library from anywhere: scenarios by name, ``scenarios`` lists them, ``init`` starts
a project whose files work as README's examples use them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.reference_consumer import create_app
from contracts.serving import serve_wsgi
from emulator.readers import config, library

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_the_library_is_the_repositorys_scenarios_folder_in_a_checkout():
    assert library.scenarios_folder() == ROOT / "scenarios"
    assert library.names() == SHIPPED
    assert (library.scenarios_folder() / "schema.json").is_file()
    assert (library.examples_folder() / "settings.yaml").is_file()
    with pytest.raises(library.ScenarioNotFound, match="there are: fabric, "):
        library.find("nope")
    with pytest.raises(library.ScenarioNotFound):
        library.find("../scenarios/quickstart")  # a name, never a path


def test_a_description_comes_from_the_key_else_the_first_sentence_of_the_comment():
    commented = "# yaml-language-server: $schema=schema.json\n#\n# Komo: a giveaway. More here.\n"
    assert library.describe(commented + "name: x\n") == "Komo: a giveaway."
    assert library.describe(commented + "description: 'Said here.'\nname: x\n") == "Said here."
    assert library.describe("name: x\n") == ""


def test_scenarios_lists_every_shipped_scenario_with_its_line(tmp_path):
    result = cli("scenarios", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines()[: len(SHIPPED)])
    assert sorted(lines) == SHIPPED
    assert lines["quickstart"].startswith("The quickstart: a few coupons of each vendor")
    assert "run quickstart --sink" in result.stdout


def test_a_bare_name_is_a_shipped_scenario_from_an_empty_directory(tmp_path):
    by_name = cli("plan", "quickstart", "--limit", "5", cwd=tmp_path)
    by_path = cli("plan", str(ROOT / "scenarios" / "quickstart.yaml"), "--limit", "5", cwd=tmp_path)
    assert by_name.returncode == 0, by_name.stderr
    assert by_name.stdout == by_path.stdout
    assert len(by_name.stdout.splitlines()) == 5
    validated = cli("validate", "quickstart", "punchh-edge-cases", cwd=tmp_path)
    assert validated.returncode == 0, validated.stderr
    missing = cli("run", "quickstarts", "--sink", cwd=tmp_path)
    assert missing.returncode == 2
    assert "quickstarts: no such file, and no shipped scenario of that name" in missing.stderr
    assert ", quickstart, " in missing.stderr


def test_a_file_of_that_name_wins_over_the_shipped_scenario(tmp_path):
    (tmp_path / "quickstart").write_text((ROOT / "examples" / "scenario.yaml").read_text())
    result = cli("validate", "quickstart", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "scenario 'starter'" in result.stdout


def test_init_writes_the_files_readme_names_and_keeps_them_unless_forced(tmp_path):
    result = cli("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.yaml", "settings.yaml"]
    readme = (ROOT / "README.md").read_text()
    assert "coupon-emulator init" in readme
    assert "--config settings.yaml" in readme
    assert "run scenario.yaml" in readme
    first = (tmp_path / "scenario.yaml").read_text().splitlines()[0]
    schema = first.removeprefix("# yaml-language-server: $schema=file://")
    assert Path(schema) == ROOT / "scenarios" / "schema.json"  # the editor finds it
    checked = cli("validate", "scenario.yaml", "settings.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "settings: 4 vendors" in checked.stdout

    (tmp_path / "settings.yaml").write_text("# mine\n")
    again = cli("init", cwd=tmp_path)
    assert again.returncode == 2
    assert "scenario.yaml, settings.yaml already exist;" in again.stderr
    assert "--force" in again.stderr
    assert (tmp_path / "settings.yaml").read_text() == "# mine\n"
    forced = cli("init", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert (tmp_path / "settings.yaml").read_text() != "# mine\n"


def test_the_init_files_work_as_readme_uses_them(tmp_path):
    assert cli("init", cwd=tmp_path).returncode == 0
    settings = str(tmp_path / "settings.yaml")
    # a consumer that checks the auth settings.yaml signs with (the reference consumer)
    with serve_wsgi(create_app(config.load(settings))) as base:
        sent = cli(
            "send", "punchh", "coupon-redemption", "--target", f"{base}/hooks/punchh",
            "--config", "settings.yaml", "--db", "out.db", cwd=tmp_path,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stdout + sent.stderr
        ran = cli(
            "run", "scenario.yaml", "--config", "settings.yaml", "--db", "out.db",
            "--report", "r.json", cwd=tmp_path, env={"CONSUMER_URL": f"{base}/hooks"},
        )  # fmt: skip
        assert ran.returncode == 0, ran.stdout + ran.stderr
        counts = json.loads((tmp_path / "r.json").read_text())["counts"]
        assert counts["delivered"] > 20
        assert counts["failed"] == counts["exhausted"] == counts["pending"] == 0
    ran = cli(
        "run", "scenario.yaml", "--sink", "--db", "out.db", "--report", "s.json", cwd=tmp_path
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert json.loads((tmp_path / "s.json").read_text())["counts"]["delivered"] > 20
