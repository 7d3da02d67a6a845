"""The scenario library: every shipped file validates, plans the same bytes twice, agrees with the
published JSON Schema, and plans bodies that validate against their vendor's schemas."""

from __future__ import annotations

import io
import itertools
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from emulator.cli.scenario_commands import write_lines
from emulator.core import catalogue, inject
from emulator.core.scenario import plan
from emulator.readers import scenario_schema, schemas
from emulator.readers.loader import load_scenario as load
from emulator.readers.scenario_checks import applies
from tests.scenarios.test_bad_scenarios import BAD

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "scenarios"
SHIPPED = sorted(FOLDER.glob("*.yaml"))
SMALL = [p for p in SHIPPED if p.stem != "load"]
EDGE_CASES = [p for p in SHIPPED if p.stem.endswith("-edge-cases")]
# Bad files a schema can judge too (the others need the state machines or the flow's size).
BAD_FOR_BOTH = [
    "unknown-vendor", "unknown-step", "wrong-type-coupons", "probability-out-of-range",
    "missing-target", "unknown-top-key", "missing-flows", "delay-and-rate", "bad-duration",
    "unknown-edge-case", "steps-not-a-list", "auth-not-allowed",
]  # fmt: skip


def cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args], capture_output=True, timeout=120, cwd=ROOT
    )


class _PlainLoader(yaml.SafeLoader):
    """Keeps timestamps as text, as editors see them (the schema says string, format date-time)."""


_PlainLoader.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def as_editors_see(path: Path):
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_PlainLoader)


@pytest.fixture(scope="module")
def validator():
    schema = json.loads((FOLDER / "schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_the_library_has_quickstart_realistic_edge_case_and_load_scenarios():
    names = {p.stem for p in SHIPPED}
    for slug in catalogue.VENDORS:
        assert {slug, f"{slug}-edge-cases"} <= names
    assert {"quickstart", "load"} <= names
    quickstart = load(str(FOLDER / "quickstart.yaml"), env={})
    assert set(quickstart.vendors) == set(catalogue.VENDORS)
    for target in quickstart.settings.vendors.values():
        assert target.url.startswith("http://127.0.0.1:8025/sink/")


def test_every_shipped_scenario_validates_through_the_command_line():
    result = cli("validate", *map(str, SHIPPED))
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().count("ok: ") == len(SHIPPED)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_the_published_schema_accepts_every_shipped_scenario(path, validator):
    errors = [e.message for e in validator.iter_errors(as_editors_see(path))]
    assert errors == []


@pytest.mark.parametrize("name", BAD_FOR_BOTH)
def test_the_schema_rejects_what_the_reader_rejects(name, validator):
    path = next(p for p in BAD if p.stem == name)
    assert list(validator.iter_errors(as_editors_see(path)))


def test_the_schema_file_is_the_generated_one():
    text = (FOLDER / "schema.json").read_text(encoding="utf-8")
    assert text == scenario_schema.text(), (
        "run: python -m emulator.readers.scenario_schema > scenarios/schema.json"
    )


def test_every_shipped_scenario_tells_editors_where_its_schema_is():
    for path in SHIPPED:
        assert path.read_text().startswith("# yaml-language-server: $schema=schema.json\n"), path


@pytest.mark.parametrize("path", SMALL, ids=lambda p: p.stem)
def test_planning_with_one_seed_writes_identical_bytes(path):
    loaded = load(str(path), env={})
    outputs = []
    for _ in range(2):
        buffer = io.BytesIO()
        write_lines(plan(loaded.scenario, seed=99, links_base=loaded.settings.links_base), buffer)
        outputs.append(buffer.getvalue())
    assert outputs[0] == outputs[1]
    assert outputs[0].count(b"\n") > 10


def test_the_plan_command_prints_identical_bytes_twice_and_other_bytes_for_another_seed():
    path = str(FOLDER / "quickstart.yaml")
    first, second, other = (
        cli("plan", path, "--seed", "5"),
        cli("plan", path, "--seed", "5"),
        cli("plan", path, "--seed", "6"),
    )
    assert first.returncode == 0, first.stderr.decode()
    assert first.stdout == second.stdout
    assert first.stdout != other.stdout
    lines = [json.loads(line) for line in first.stdout.decode().splitlines()]
    assert list(lines[0]) == ["vendor", "event_type", "coupon_key", "due", "label", "body"]
    assert {line["vendor"] for line in lines} == set(catalogue.VENDORS)


@pytest.mark.parametrize("path", SMALL, ids=lambda p: p.stem)
def test_every_planned_body_validates_unless_labelled_as_breaking_its_schema(path):
    loaded = load(str(path), env={})
    checked = 0
    for event in itertools.islice(plan(loaded.scenario, seed=1), 400):
        kinds = set(event.label.split(",")) - {""}
        if event.raw_body is not None:
            if "malformed_json" in kinds:
                with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)):
                    json.loads(event.raw_body)
            else:
                assert json.loads(event.raw_body) == event.body
        if kinds & inject.BREAKS_SCHEMA:
            continue
        et = catalogue.event_type(event.vendor, event.event_type)
        assert schemas.errors(et.schema_path, event.body) == [], (event.coupon_key, event.label)
        checked += 1
    assert checked > 10


@pytest.mark.parametrize("path", EDGE_CASES, ids=lambda p: p.stem)
def test_each_edge_case_scenario_injects_every_case_its_vendor_allows(path):
    loaded = load(str(path), env={})
    vendor = loaded.vendors[0]
    found = {k for e in plan(loaded.scenario) for k in e.label.split(",") if k}
    expected = set(inject.KINDS)
    expected = {k for k in expected if applies(vendor, k)}
    if loaded.settings.vendors[vendor].auth.type == "none":
        expected -= {"wrong_auth", "missing_auth"}
    assert found == expected


def test_the_load_scenario_declares_a_million_events_and_streams_them():
    loaded = load(str(FOLDER / "load.yaml"), env={})
    assert loaded.scenario.expected_events() == 1_000_000
    result = cli("plan", str(FOLDER / "load.yaml"), "--limit", "3000")
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.splitlines()
    assert len(lines) == 3000
    dues = [json.loads(line)["due"] for line in lines]
    assert dues == sorted(dues)
