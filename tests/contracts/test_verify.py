"""``coupon-emulator verify`` against the reference consumer: every case passes, reports are valid."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from contracts import cases
from contracts.reference_consumer import create_app
from contracts.serving import serve_wsgi
from emulator.cli import main

# What the reference consumer must pass: the whole catalogue, four vendors.
EXPECTED_CASES = len(cases.build())


@pytest.fixture(scope="module")
def reference(settings):
    with serve_wsgi(create_app(settings)) as base:
        yield base + "/hooks"


def run_verify(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["verify", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_without_a_probe_state_cases_are_skipped_never_passed(
    reference, settings_file, tmp_path, capsys
):
    code, _out, _ = run_verify(
        capsys, "--consumer", reference, "--config", settings_file, "--vendor", "fabric",
        "--seed", "3", "--json", str(tmp_path / "r.json"),
    )  # fmt: skip
    assert code == 0
    report = json.loads((tmp_path / "r.json").read_text())
    status = {r["id"]: r["status"] for r in report["results"]}
    for case in cases.build(["fabric"]):
        if case.needs_probe:
            assert status[case.id] == "skipped", case.id
    for name in ("idempotent-duplicate", "batch-all-applied[100]", "rejects-missing-auth"):
        assert status[name] == "skipped", name
    assert status["accepts[offers:coupon:created]"] == "passed"
    assert status["fuzz-no-5xx"] == "passed"


def test_auth_cases_skip_when_the_settings_name_no_auth(capsys):
    with serve_wsgi(create_app(None)) as base:
        code, out, _ = run_verify(
            capsys, "--consumer", f"komo={base}/hooks/komo", "--probe", f"{base}/hooks/probe",
            "--case", "rejects-missing-auth", "--case", "rejects-bad-auth", "--case", "accepts",
        )  # fmt: skip
    assert code == 0
    assert "komo rejects-missing-auth: no auth configured for komo" in out
    assert "verify: 4 passed, 0 failed, 2 skipped" in out


def test_a_failure_says_what_was_sent_got_expected_and_its_reproduce_line_reruns_it(
    capsys, tmp_path, monkeypatch
):
    # A consumer configured without auth, verified with punchh's HMAC settings: deliveries and
    # the GET verification pass, but a wrong signature is accepted.
    monkeypatch.chdir(tmp_path)  # the settings path is relative, as a user would type it
    with serve_wsgi(create_app(None)) as base:
        url = f"{base}/hooks/punchh"
        auth = "{type: hmac-sha1, client: c, secret: s}"
        (tmp_path / "s.yaml").write_text(
            f"vendors:\n  punchh:\n    target: {url}\n    auth: {auth}\n"
        )
        code, out, _ = run_verify(
            capsys, "--config", "s.yaml", "--seed", "5", "--probe", f"{base}/hooks/probe"
        )
        assert code == 1
        block = out[out.index("FAILED punchh rejects-bad-auth") :].split("\n\n")[0]
        for part in ("sent:     POST " + url, "got:      200", "expected: 401", "hmac [redacted]"):
            assert part in block, part
        reproduce = block.splitlines()[-1]
        assert reproduce.startswith("  Reproduce with: coupon-emulator verify ")
        argv = shlex.split(reproduce.split("Reproduce with: ")[1])[2:]
        assert argv[-4:] == ["--vendor", "punchh", "--case", "rejects-bad-auth"]
        code, out, _ = run_verify(capsys, *argv)
    assert code == 1
    assert "verify: 0 passed, 1 failed, 0 skipped" in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ([], "no consumer to verify"),
        (["--consumer", "acme=http://127.0.0.1:1/x"], "unknown vendor 'acme'"),
        (["--consumer", "http://a:1", "--consumer", "http://b:1"], "only one bare URL"),
        (["--consumer", "komo=ftp://x"], "http:// or https://"),
        (
            ["--consumer", "komo=http://127.0.0.1:1/k", "--vendor", "punchh"],
            "no consumer URL for punchh",
        ),
        (
            ["--consumer", "http://127.0.0.1:1", "--case", "acepts"],
            "--case 'acepts' matches no case",
        ),
        (["--consumer", "http://127.0.0.1:1", "--probe", "127.0.0.1:1/probe"], "--probe"),
        (["--consumer", "http://127.0.0.1:1", "--config", "/nonexistent.yaml"], "not found"),
    ],
)
def test_bad_input_exits_2_with_one_paragraph(capsys, argv, words):
    code, _out, err = run_verify(capsys, *argv)
    assert code == 2
    assert words in err
    assert "Traceback" not in err
    assert err.count("\n") == 1


def test_an_unreachable_consumer_fails_every_case_and_exits_1(capsys):
    code, out, _ = run_verify(
        capsys, "--consumer", "komo=http://127.0.0.1:9/komo", "--case", "accepts", "--seed", "1"
    )
    assert code == 1
    assert "no answer" in out
    assert "verify: 0 passed, 4 failed" in out


def test_the_reference_consumer_passes_every_case_with_valid_reports(settings_file, tmp_path):
    # As in CI: the consumer in its own process, verify as a command, both on loopback.
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contracts.reference_consumer",
            "--port",
            "0",
            "--config",
            settings_file,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    junit, report = tmp_path / "verify.xml", tmp_path / "verify.json"
    try:
        line = server.stdout.readline()  # printed once the socket is bound
        base = line.split()[2].removesuffix("/<vendor>")
        done = subprocess.run(
            [sys.executable, "-m", "emulator", "verify", "--consumer", base, "--config", settings_file,
             "--probe", base + "/probe", "--junit", str(junit), "--json", str(report), "--seed", "11"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=10)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert f"verify: {EXPECTED_CASES} passed, 0 failed, 0 skipped" in out
    assert out.splitlines()[1].split() == ["case", "komo", "fabric", "rebilly", "punchh"]
    grid = out.split("\n\n")[0]
    assert "FAIL" not in grid
    assert "skip" not in grid

    data = json.loads(report.read_text())
    assert data["seed"] == 11
    assert data["summary"]["passed"] == EXPECTED_CASES == data["summary"]["total"]
    assert {r["status"] for r in data["results"]} == {"passed"}
    assert {r["case"] for r in data["results"]} == set(cases.names())

    root = ET.parse(junit).getroot()
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == ["komo", "fabric", "rebilly", "punchh"]
    assert sum(int(s.get("tests")) for s in suites.values()) == EXPECTED_CASES
    assert all(s.get("failures") == "0" and s.get("skipped") == "0" for s in suites.values())
    names = {c.get("name") for c in suites["punchh"].iter("testcase")}
    assert {"success-code", "answers-get-verification", "accepts[coupon-void]"} <= names
