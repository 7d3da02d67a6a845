"""A fifth vendor end to end with no project file touched: the toy vendor of ``toyvendor/`` (a
package outside the project, as a user's private vendor is) is named in ``COUPON_EMULATOR_VENDORS``
and goes through the real command line: ``events``, ``validate``, ``plan``, ``run`` into the
reference consumer and into the built-in sink, and ``verify`` against the reference consumer.

Everything runs in subprocesses, because the catalogue reads the variable once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOY = "tests.emulator.toyvendor:Toy"
SCHEMAS = Path(__file__).parent / "toyvendor" / "schemas"
# The consumer's side: the toy vendor signs with an API key (targets are placeholders).
SETTINGS = """\
vendors:
  toy:
    target: http://127.0.0.1:9/toy
    auth: {type: api-key, header: x-toy-key, value: t0y-s3cret}
"""
SCENARIO = """\
name: toy-life
seed: 5
time_scale: 0.001
ordering: per-coupon  # the toy vendor has no precedence: its redemption must land last
vendors:
  toy:
    target: http://127.0.0.1:9/toy
    auth: {type: api-key, header: x-toy-key, value: t0y-s3cret}
flows:
  - vendor: toy
    coupons: 3
    delay: 1s..5s
    coupon: {code: "TOY-{n}"}
    steps:
      - ToyIssued
      - ToyRedeemed
"""


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    extra = os.environ.get("PYTHONPATH")
    path = str(ROOT) + (os.pathsep + extra if extra else "")
    return {**os.environ, "COUPON_EMULATOR_VENDORS": TOY, "PYTHONPATH": path}


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("toy")
    (folder / "consumer.yaml").write_text(SETTINGS)
    (folder / "toy.yaml").write_text(SCENARIO)
    # The same scenario with no target of its own: ``run --sink`` aims it at the built-in sink.
    own = SCENARIO[SCENARIO.index("vendors:") : SCENARIO.index("flows:")]
    (folder / "toy-sink.yaml").write_text(SCENARIO.replace(own, ""))
    return folder


def cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def consumer(env, files):
    """The reference consumer in its own process (it must know the toy vendor too): its base URL."""
    server = subprocess.Popen(
        [sys.executable, "-m", "contracts.reference_consumer", "--port", "0",
         "--config", str(files / "consumer.yaml")],
        stdout=subprocess.PIPE, text=True, env=env, cwd=files,
    )  # fmt: skip
    try:
        line = server.stdout.readline()  # printed once the socket is bound
        assert "reference consumer" in line, line
        yield line.split()[2].removesuffix("/<vendor>")
    finally:
        server.terminate()
        server.wait(timeout=10)


def probe(base: str, coupon_id: str) -> dict:
    with urllib.request.urlopen(f"{base}/probe/coupon?vendor=toy&id={coupon_id}") as answer:
        return json.load(answer)


def test_the_catalogue_lists_the_toy_vendor_with_its_own_schemas(env, files):
    done = cli(env, files, "events", "--vendor", "toy", "--json")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert [e["name"] for e in listed] == ["ToyIssued", "ToyRedeemed"]
    assert {Path(e["schema_file"]) for e in listed} == {
        SCHEMAS / "ToyIssued.json",
        SCHEMAS / "ToyRedeemed.json",
    }
    help_text = cli(env, files, "sample", "--help").stdout
    assert "komo, fabric, rebilly, punchh or toy" in " ".join(help_text.split())


def test_validate_accepts_the_scenario_and_checks_steps_with_the_toy_machine(env, files):
    done = cli(env, files, "validate", "toy.yaml")
    assert done.returncode == 0, done.stderr
    assert "1 flow (toy), 3 coupons, 6 events" in done.stdout

    backwards = SCENARIO.replace(
        "- ToyIssued\n      - ToyRedeemed", "- ToyRedeemed\n      - ToyIssued"
    )
    (files / "backwards.yaml").write_text(backwards)
    done = cli(env, files, "validate", "backwards.yaml")
    assert done.returncode == 2
    assert "toy does not allow ToyRedeemed when the coupon is new" in done.stderr
    assert "valid next steps: ToyIssued" in done.stderr
    assert "Traceback" not in done.stderr


def test_plan_gives_each_coupon_its_life_in_order_with_the_fixed_code(env, files):
    done = cli(env, files, "plan", "toy.yaml")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(events) == 6
    assert {e["vendor"] for e in events} == {"toy"}
    lives: dict[str, list[str]] = {}
    for e in events:
        lives.setdefault(e["coupon_key"], []).append(e["event_type"])
        assert e["body"]["event"] == e["event_type"]
    assert list(lives.values()) == [["ToyIssued", "ToyRedeemed"]] * 3
    assert {e["body"]["code"] for e in events} == {"TOY-1", "TOY-2", "TOY-3"}
    again = cli(env, files, "plan", "toy.yaml")
    assert again.stdout == done.stdout  # deterministic in the seed


def test_run_delivers_every_event_into_the_reference_consumer(env, files, consumer):
    planned = [json.loads(line) for line in cli(env, files, "plan", "toy.yaml").stdout.splitlines()]
    done = cli(env, files, "run", "toy.yaml", "--target", f"toy={consumer}/toy",
               "--db", str(files / "run.db"))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "delivered 6, failed 0, exhausted 0" in done.stdout
    # The consumer authenticated and applied every coupon's last event.
    for coupon_id in {e["body"]["coupon_id"] for e in planned}:
        assert probe(consumer, coupon_id)["status"] == "ToyRedeemed"


def test_run_delivers_every_event_into_the_built_in_sink(env, files):
    done = cli(env, files, "run", "toy-sink.yaml", "--sink", "--db", str(files / "sink.db"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "delivered 6, failed 0, exhausted 0" in done.stdout


def test_verify_passes_every_case_against_the_reference_consumer(env, files, consumer):
    done = cli(env, files, "verify", "--consumer", f"toy={consumer}/toy",
               "--config", "consumer.yaml", "--probe", f"{consumer}/probe", "--vendor", "toy",
               "--seed", "3", "--json", "report.json")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((files / "report.json").read_text())
    results = report["results"]
    assert results, "no case ran"
    assert {r["vendor"] for r in results} == {"toy"}
    assert {r["status"] for r in results} == {"passed"}, [
        (r["id"], r["status"]) for r in results if r["status"] != "passed"
    ]
    ids = {r["id"] for r in results}
    assert {"accepts[ToyIssued]", "accepts[ToyRedeemed]", "rejects-bad-auth"} <= ids


def test_a_toy_scenario_is_refused_where_the_vendor_is_not_named(files):
    # Without the variable the toy vendor does not exist: nothing registers it by import.
    env = {k: v for k, v in os.environ.items() if k != "COUPON_EMULATOR_VENDORS"}
    env["PYTHONPATH"] = str(ROOT)
    done = cli(env, files, "validate", "toy.yaml")
    assert done.returncode == 2
    assert "unknown vendor 'toy'" in done.stderr
