"""The pytest plugin, run from outside with pytester the way users run it (entry point loaded)."""

from __future__ import annotations

import pytest

from contracts import cases

# Every punchh case, one test each (the catalogue grows with the obligations it checks).
CASES = len(cases.build(["punchh"]))

# Here rather than in conftest.py: pytest accepts pytest_plugins only in the rootdir conftest.
pytest_plugins = ["pytester"]

CONFTEST = """
import pytest

from contracts.consumer import MemoryStore
from contracts.reference_consumer import create_app
from contracts.serving import serve_wsgi
from emulator.readers import config

AUTH = {"type": "hmac-sha256", "client": "acme_pos", "secret": "s3cret"}
SETTINGS = {"vendors": {"punchh": {"target": "http://127.0.0.1:9/punchh", "auth": AUTH}}}
AUTH_ONLY = {"vendors": {"punchh": {"auth": AUTH}}}  # the consumer fixture gives the target


@pytest.fixture(scope="session")
def store():
    return MemoryStore()


@pytest.fixture(scope="session")
def coupon_consumer(store):
    app_settings = config.parse(SETTINGS) if CONSUMER_CHECKS_AUTH else None
    with serve_wsgi(create_app(app_settings, store)) as base:
        yield base + "/hooks"


@pytest.fixture(scope="session")
def coupon_settings():
    return AUTH_ONLY


@pytest.fixture(scope="session")
def coupon_probe(store):
    return PROBE(store)
"""

TESTS = """
def test_contract(coupon_case, coupon_verify):
    coupon_verify(coupon_case)


def test_my_app_with_the_emulator(coupon_emulator, store):
    exchange = coupon_emulator.send("punchh", "coupon-redemption")
    assert exchange.status == 200
    body = exchange.body.decode()
    assert '"event_name":"user_coupon_redemptions"' in body
    assert store.applied("punchh", __import__("json").loads(body)["content_id"]) == 1
"""


def project(pytester, *, checks_auth: bool = True, probe: str = "lambda store: store") -> None:
    conftest = CONFTEST.replace("CONSUMER_CHECKS_AUTH", str(checks_auth)).replace(
        "PROBE", f"({probe})"
    )
    pytester.makeconftest(conftest)
    pytester.makepyfile(test_consumer=TESTS)


@pytest.fixture
def punchh_only(monkeypatch):
    monkeypatch.setenv("COUPON_VENDORS", "punchh")
    monkeypatch.setenv("COUPON_FUZZ", "4")
    for name in ("COUPON_CONSUMER", "COUPON_CONFIG", "COUPON_PROBE", "COUPON_SEED"):
        monkeypatch.delenv(name, raising=False)


def test_the_catalogue_runs_as_parametrised_tests_and_passes_with_a_python_probe(
    pytester, punchh_only
):
    project(pytester)
    result = pytester.runpytest_subprocess("-v")
    # Every punchh case, + the emulator test.
    result.assert_outcomes(passed=CASES + 1)
    result.stdout.fnmatch_lines(
        [
            "*test_contract?punchh-accepts?coupon-void?? PASSED*",
            "*test_contract?punchh-success-code? PASSED*",
        ]
    )


def test_a_callable_probe_answers_both_questions(pytester, punchh_only):
    callable_probe = (
        "lambda store: (lambda question, vendor, value: store.applied(vendor, value) "
        "if question == 'applied' else store.coupon(vendor, value))"
    )
    project(pytester, probe=callable_probe)
    result = pytester.runpytest_inprocess("-k", "idempotent or precedence")
    result.assert_outcomes(passed=3, deselected=CASES + 1 - 3)


def test_a_broken_consumer_fails_with_a_reproduce_line(pytester, punchh_only):
    project(pytester, checks_auth=False)  # the app takes any signature
    result = pytester.runpytest_inprocess("-k", "rejects and auth", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=2, deselected=CASES + 1 - 2)
    assert "contracts/checks.py" not in result.stdout.str()  # the failure, not our internals
    result.stdout.fnmatch_lines(
        [
            "*WrongAnswer: accepted a request with wrong credentials*",
            "*Reproduce with: COUPON_SEED=* python -m pytest *test_contract?punchh-rejects-bad-auth*",
        ]
    )


def test_without_a_probe_state_cases_skip_and_without_a_consumer_all_skip(pytester, punchh_only):
    project(pytester, probe="lambda store: None")
    result = pytester.runpytest_subprocess(
        "-rs", "-k", "duplicate or precedence or accepts and void"
    )
    result.assert_outcomes(passed=3, skipped=2, deselected=CASES + 1 - 5)
    result.stdout.fnmatch_lines(["*both deliveries acknowledged; the rest needs --probe*"])

    pytester.makeconftest("")
    result = pytester.runpytest_inprocess("-rs", "-k", "test_contract")
    result.assert_outcomes(skipped=CASES, deselected=1)
    result.stdout.fnmatch_lines(["*no consumer: override the coupon_consumer fixture*"])


def test_bad_settings_fail_each_test_with_one_clear_line(pytester, punchh_only):
    project(pytester)
    pytester.makeconftest(
        CONFTEST.replace("CONSUMER_CHECKS_AUTH", "True").replace("PROBE", "(lambda store: store)")
        + '\n\n@pytest.fixture(scope="session")\ndef coupon_settings():\n'
        '    return {"vendors": {"punchh": {"auth": {"type": "digest"}}}}\n'
    )
    result = pytester.runpytest_inprocess("-k", "success", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1, deselected=CASES)
    result.stdout.fnmatch_lines(["*coupon_settings:*vendors.punchh.auth.type*"])
    assert "Traceback" not in result.stdout.str()
