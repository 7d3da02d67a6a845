"""Every deliberately broken consumer makes ``verify`` exit 1 and names the case for its defect."""

from __future__ import annotations

import json

import pytest

from contracts.reference_consumer import create_app
from contracts.serving import serve_wsgi
from emulator.cli import main
from tests.contracts.broken import DEFECTS, BrokenConsumer
from tests.contracts.conftest import AUTH_SETTINGS

# komo's timeout is shortened so that the slow consumer is caught quickly.
SETTINGS = AUTH_SETTINGS.replace(
    "auth: {type: bearer, token: t0ken}", "auth: {type: bearer, token: t0ken}\n    timeout: 0.3"
)


@pytest.fixture(scope="module")
def broken_settings(tmp_path_factory):
    path = tmp_path_factory.mktemp("broken") / "settings.yaml"
    path.write_text(SETTINGS)
    return str(path)


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_verify_catches_the_defect_with_the_intended_case(
    defect, broken_settings, tmp_path, capsys
):
    from emulator.readers import config

    vendor, case = DEFECTS[defect].vendor, DEFECTS[defect].case
    core = BrokenConsumer(defect, config.load(broken_settings))
    with serve_wsgi(create_app(core=core)) as base:
        report = tmp_path / "report.json"
        code = main(
            ["verify", "--consumer", f"{base}/hooks", "--vendor", vendor, "--config", broken_settings,
             "--probe", f"{base}/hooks/probe", "--seed", "7", "--settle", "0.3", "--json", str(report)]
        )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1, out
    failed = {
        r["case"] for r in json.loads(report.read_text())["results"] if r["status"] == "failed"
    }
    assert case in failed, f"{defect}: {case} not among the failed cases {sorted(failed)}"
    assert f"FAILED {vendor} {case}" in out


def test_the_reference_core_has_none_of_the_defects(broken_settings, tmp_path, capsys):
    # The same settings and vendors as above, with no defect: nothing fails.
    from emulator.readers import config

    with serve_wsgi(create_app(config.load(broken_settings))) as base:
        code = main(
            ["verify", "--consumer", f"{base}/hooks", "--config", broken_settings,
             "--probe", f"{base}/hooks/probe", "--seed", "7", "--settle", "0.3"]
        )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert " 0 failed, 0 skipped" in out
