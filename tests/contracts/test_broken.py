"""Every deliberately broken consumer fails the cases of its defect, and (exact defects) no other
case of its vendor; and its own case catches it on every seed, not by a lucky draw."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from contracts.reference_consumer import create_app
from contracts.serving import serve_wsgi
from emulator.cli import main
from tests.conftest import AUTH_SETTINGS
from tests.contracts.broken import DEFECTS, BrokenConsumer
from tests.contracts.rawserver import serve_raw

# komo's timeout is shortened so that slowness is caught quickly.
SETTINGS = AUTH_SETTINGS.replace(
    "auth: {type: bearer, token: t0ken}", "auth: {type: bearer, token: t0ken}\n    timeout: 0.3"
)
SEEDS = (1, 2, 3, 4, 5)


@pytest.fixture(scope="module")
def broken_settings(tmp_path_factory):
    path = tmp_path_factory.mktemp("broken") / "settings.yaml"
    path.write_text(SETTINGS)
    return str(path)


@contextmanager
def served(defect: str, settings_path: str) -> Iterator[str]:
    from emulator.readers import config

    core = BrokenConsumer(defect, config.load(settings_path))
    if DEFECTS[defect].raw_headers:
        with serve_raw(core) as base:
            yield base + "/hooks"
    else:
        with serve_wsgi(create_app(core=core)) as base:
            yield base + "/hooks"


def verify(hooks: str, settings: str, report, *argv: str) -> tuple[int, dict[str, set[str]]]:
    code = main(
        ["verify", "--consumer", hooks, "--config", settings, "--probe", f"{hooks}/probe",
         "--settle", "0.3", "--json", str(report), *argv]
    )  # fmt: skip
    by_status: dict[str, set[str]] = {}
    for r in json.loads(report.read_text())["results"]:
        by_status.setdefault(r["status"], set()).add(r["case"])
    return code, by_status


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_verify_catches_the_defect_with_its_cases_on_every_seed(
    defect, broken_settings, tmp_path, capsys
):
    d = DEFECTS[defect]
    with served(defect, broken_settings) as hooks:
        code, by = verify(
            hooks, broken_settings, tmp_path / "r.json", "--vendor", d.vendor, "--seed", "7"
        )
        out = capsys.readouterr().out
        assert code == 1, out
        failed = by.get("failed", set())
        assert set(d.cases) <= failed, f"{defect}: {d.cases} not all among failed {sorted(failed)}"
        assert not by.get("error"), out
        if d.exact:
            extra = failed - set(d.cases) - set(d.may_also)
            # On a loaded machine a case can miss once (a timeout); a real extra fails again alone.
            again = set()
            for case in sorted(extra):
                _, by_case = verify(
                    hooks, broken_settings, tmp_path / f"again-{case}.json",
                    "--vendor", d.vendor, "--seed", "7", "--case", case,
                )  # fmt: skip
                again |= by_case.get("failed", set()) & {case}
            assert not again, f"{defect} also failed {sorted(again)}"
            assert not by.get("skipped"), out
        assert f"FAILED {d.vendor} {d.case}" in out
        for seed in SEEDS:  # the case alone, on other seeds: caught every time
            code, by = verify(
                hooks, broken_settings, tmp_path / f"r{seed}.json",
                "--vendor", d.vendor, "--seed", str(seed), "--case", d.case,
            )  # fmt: skip
            out = capsys.readouterr().out
            assert code == 1, f"seed {seed}:\n{out}"
            assert by.get("failed") == {d.case}, f"seed {seed}:\n{out}"
            block = out[out.index(f"FAILED {d.vendor} {d.case}") :].split("\n\n")[0]
            assert block.splitlines()[-1].startswith("  Reproduce with: coupon-emulator verify ")


def test_the_reference_core_has_none_of_the_defects(broken_settings, tmp_path, capsys):
    # The same settings and vendors as above, with no defect: nothing fails, on both servers.
    from emulator.readers import config

    for serve in (lambda core: serve_wsgi(create_app(core=core)), serve_raw):
        from contracts.consumer import Consumer

        with serve(Consumer(config.load(broken_settings))) as base:
            code, by = verify(f"{base}/hooks", broken_settings, tmp_path / "r.json", "--seed", "7")
        out = capsys.readouterr().out
        assert code == 0, out
        assert set(by) == {"passed"}, out
