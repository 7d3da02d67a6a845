"""One loader and one run driver: the command line and the service read the same text the same way,
merge settings in the same order, and the service answers a run before its plan is stored."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulator.web.conftest import Served

ROOT = Path(__file__).resolve().parents[3]
SOURCE = "<source>"

# (text, what the one message must hold: line:column, key path, what to do)
BAD = {
    "flow-typo": (
        "name: typo\nflow:\n  - vendor: komo\n    steps: [CouponIssued]\n",
        ["<source>:2:1: flow: unknown key 'flow'", "Did you mean 'flows'?"],
    ),
    "unknown-vendor": (
        "flows:\n  - vendor: kommo\n    steps: [CouponIssued]\n",
        ["<source>:2:13: flows[0].vendor: unknown vendor 'kommo'", "Did you mean 'komo'?"],
    ),
    "vendor-as-a-list": (
        "events:\n  - {vendor: [komo], event: CouponIssued}\n",
        ["<source>:2:14: events[0].vendor: expected one of komo, fabric", "got a list"],
    ),
    "duplicate-key": (
        "events:\n  - vendor: komo\n    event: CouponIssued\n    vendor: fabric\n",
        ["<source>:4:5: events[0].vendor: duplicate key (first at line 2)"],
    ),
    "unset-variable": (
        "events:\n  - vendor: komo\n    event: CouponIssued\n    count: ${PIPELINE_UNSET_N}\n",
        ["<source>:4:12: events[0].count: environment variable PIPELINE_UNSET_N is not set"],
    ),
}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        check=False,
    )


def _cli_message(result: subprocess.CompletedProcess[str], path: Path) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    first = result.stderr.splitlines()[0]
    prefix = "coupon-emulator: error: "
    assert first.startswith(prefix), first
    return first[len(prefix) :].replace(str(path), SOURCE)


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_validate_run_and_the_api_give_the_same_message(service, tmp_path, case):
    text, fragments = BAD[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    validate = _cli_message(cli("validate", str(path), cwd=tmp_path), path)
    run = _cli_message(cli("run", str(path), "--db", str(tmp_path / "o.db"), cwd=tmp_path), path)
    status, problem = service.json("POST", "/api/runs", {"yaml": text})
    assert status == 422, problem
    api = problem["detail"].replace("request:yaml", SOURCE)
    assert validate == run == api
    for fragment in fragments:
        assert fragment in api


def _closed_url(name: str) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/{name}"


@pytest.fixture
def layered(tmp_path):
    """Three komo targets, one per layer: the file's own, the settings file's, a flag's."""
    urls = {layer: _closed_url(layer) for layer in ("own", "config", "flag")}
    events = (
        f"vendors:\n  komo: {{target: '{urls['own']}', retry: none}}\n"
        "events:\n  - {vendor: komo, event: CouponIssued}\n"
    )
    settings = tmp_path / "settings.yaml"
    settings.write_text(f"vendors:\n  komo: {{target: '{urls['config']}', retry: none}}\n")
    return urls, events, settings


def _cli_target(tmp_path: Path, events: str, settings: Path, *flags: str) -> str:
    path = tmp_path / "events.yaml"
    path.write_text(events)
    report = tmp_path / "report.json"
    db = tmp_path / f"o{len(flags)}.db"
    result = cli(
        "run", str(path), "--config", str(settings), "--db", str(db), "--report", str(report),
        "--quiet", *flags, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr  # nothing listens there
    (delivery,) = json.loads(report.read_text())["deliveries"]
    return delivery["attempts"][0]["url"]


def _api_target(served: Served, events: str, **fields) -> str:
    status, accepted = served.json("POST", "/api/runs", {"yaml": events, **fields})
    assert status == 202, accepted
    run = served.wait_for(f"/api/runs/{accepted['run']['id']}", lambda r: r["state"] == "done")
    _, page = served.json("GET", accepted["deliveries"])
    (delivery,) = page["items"]
    _, detail = served.json("GET", f"/api/deliveries/{delivery['id']}")
    assert run["targets"]["komo"] == detail["attempts"][0]["url"]
    return detail["attempts"][0]["url"]


def test_the_settings_file_overrides_the_files_own_and_flags_override_both(
    serve, tmp_path, layered
):
    urls, events, settings = layered
    served = serve("--config", str(settings), token=None)
    # The file's own < --config (the service's own --config for the API).
    assert _cli_target(tmp_path, events, settings) == urls["config"]
    assert _api_target(served, events) == urls["config"]
    # < --target / targets, which replace the URL only.
    flag = ("--target", f"komo={urls['flag']}")
    assert _cli_target(tmp_path, events, settings, *flag) == urls["flag"]
    assert _api_target(served, events, targets={"komo": urls["flag"]}) == urls["flag"]


def test_a_large_run_is_accepted_before_its_plan_is_stored(serve):
    """scenarios/load.yaml plans 1,000,000 events: the answer comes first, the deliveries follow."""
    served = serve("--scenarios", str(ROOT / "scenarios"), token=None)
    status, accepted = served.json("POST", "/api/runs", {"scenario": "load"})
    assert status == 202, accepted
    first = accepted["run"]["progress"]["total"]
    path = f"/api/runs/{accepted['run']['id']}"
    grown = served.wait_for(path, lambda r: r["progress"]["total"] > first, timeout=60)
    assert grown["state"] == "running"
    assert grown["progress"]["total"] < 1_000_000
    # Stopping the service mid-plan is clean (the fixture checks exit 0 and no traceback).
