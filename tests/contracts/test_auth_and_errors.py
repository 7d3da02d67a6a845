"""Every auth type of every vendor: wrong and missing credentials built right and refused by the
reference consumer; harness errors kept apart from consumer failures; settings that give only auth."""

from __future__ import annotations

import json
import random
import xml.etree.ElementTree as ET

import pytest

from contracts import cases, runner
from contracts.reference_consumer import create_app
from contracts.sending import Sender
from contracts.serving import serve_wsgi
from emulator.cli import main
from emulator.core import auth as authn
from emulator.core import catalogue
from emulator.core.vendor import encode
from emulator.readers import config

# One spec per auth type: the values a consumer would hold (punchh writes its schemes lowercase).
SPECS = {
    "api-key": {"type": "api-key", "value": "k3y"},
    "basic": {"type": "basic", "username": "merchant", "password": "pa55"},
    "bearer": {"type": "bearer", "token": "t0ken"},
    "digest": {"type": "digest", "username": "merchant", "password": "pa55"},
    "hmac-sha1": {"type": "hmac-sha1", "client": "acme_pos", "secret": "s3cret"},
    "hmac-sha256": {"type": "hmac-sha256", "client": "acme_pos", "secret": "s3cret"},
}
AUTHENTICATORS = [
    (slug, kind)
    for slug, vendor in catalogue.VENDORS.items()
    for kind in vendor.profile.auth_types
    if kind != "none"
]


def settings_for(slug: str, kind: str) -> config.Settings:
    return config.parse(
        {"vendors": {slug: {"target": "http://127.0.0.1:9/x", "auth": SPECS[kind]}}}
    )


@pytest.mark.parametrize(("slug", "kind"), AUTHENTICATORS)
def test_wrong_credentials_keep_the_type_and_shape_and_never_the_secret(slug, kind):
    auth = settings_for(slug, kind).vendors[slug].auth
    url, body = "http://127.0.0.1:9/hooks/x?a=1", b'{"a":1}'
    first = authn.wrong_credentials(auth, random.Random(1))
    again = authn.wrong_credentials(auth, random.Random(2))
    assert type(first) is type(auth)
    assert first.type == auth.type
    assert first != auth
    assert first != again
    for secret in auth.secrets:
        assert all(secret not in s for s in first.secrets)
    sent = first.headers("POST", url, body)
    assert set(sent) == set(auth.headers("POST", url, body))  # the same header names
    if sent:
        assert not auth.verify("POST", url, body, sent)[0]
        scheme = auth.headers("POST", url, body).get("Authorization", "").split(" ")[0]
        assert sent.get("Authorization", "").split(" ")[0] == scheme  # punchh: 'basic' stays
    assert not auth.verify("POST", url, body, authn.NoAuth().headers("POST", url, body))[0]


@pytest.mark.parametrize(("slug", "kind"), AUTHENTICATORS)
def test_the_reference_consumer_passes_every_case_under_every_auth_type(
    slug, kind, tmp_path, capsys
):
    settings = settings_for(slug, kind)
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps({"vendors": {slug: {"auth": SPECS[kind]}}}))  # auth only
    with serve_wsgi(create_app(settings)) as base:
        code = main(
            ["verify", "--consumer", f"{slug}={base}/hooks/{slug}", "--config", str(path),
             "--probe", f"{base}/hooks/probe", "--seed", "9", "--fuzz", "2",
             "--json", str(tmp_path / "r.json")]
        )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    results = json.loads((tmp_path / "r.json").read_text())["results"]
    status = {r["id"]: r["status"] for r in results}
    assert status["rejects-missing-auth"] == status["rejects-bad-auth"] == "passed"
    assert status["header-names-any-case"] == "passed"
    skipped = {r["id"] for r in results if r["status"] == "skipped"}
    # Only the cases about another auth type than this one may skip.
    assert skipped <= {
        "signature-covers-raw-bytes",
        "signature-covers-query",
        "rejects-replayed-digest",
    }


def digest_only_sha512(environ, start_response):
    # A consumer whose Digest challenge offers what the emulator cannot answer.
    start_response(
        "401 Unauthorized",
        [("WWW-Authenticate", 'Digest realm="x", nonce="abc", qop="auth-int", algorithm=SHA-512')],
    )
    return [b""]


def test_an_unanswerable_digest_challenge_fails_clearly_never_with_a_traceback(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("vendors:\n  rebilly:\n    auth: {type: digest, username: u, password: p}\n")
    with serve_wsgi(digest_only_sha512) as base:
        code = main(
            ["verify", "--consumer", f"rebilly={base}/r", "--config", str(path), "--seed", "1",
             "--case", "accepts", "--case", "rejects-bad-auth", "--json", str(tmp_path / "r.json")]
        )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1, out
    assert "Traceback" not in out
    results = json.loads((tmp_path / "r.json").read_text())["results"]
    assert {r["id"]: r["status"] for r in results if r["case"] == "rejects-bad-auth"} == {
        "rejects-bad-auth": "skipped"  # refused with 401, no probe to see that nothing applied
    }
    failed = [r for r in results if r["status"] == "failed"]
    assert len(failed) == 8
    assert not [r for r in results if r["status"] == "error"]
    assert "Digest challenge cannot be answered" in failed[0]["message"]
    assert "SHA-512" in failed[0]["message"]


def test_harness_errors_are_errors_exit_3_and_junit_error(monkeypatch, tmp_path, capsys):
    def broken_harness(run):
        raise RuntimeError("the harness broke")

    monkeypatch.setattr("contracts.obligations.success_code", broken_harness)
    with serve_wsgi(create_app(None)) as base:
        code = main(
            ["verify", "--consumer", f"punchh={base}/hooks/punchh", "--case", "success-code",
             "--case", "accepts[coupon-void]", "--seed", "2", "--junit", str(tmp_path / "j.xml")]
        )  # fmt: skip
    out = capsys.readouterr().out
    assert code == runner_exit_harness(), out
    assert "verify: 1 passed, 0 failed, 0 skipped, 1 errors" in out
    assert "ERROR (the harness, not the consumer) punchh success-code" in out
    assert "RuntimeError: the harness broke" in out
    block = out[out.index("ERROR (the harness") :].split("\n\n")[0]
    assert block.splitlines()[-1].startswith("  Reproduce with: coupon-emulator verify ")
    case = next(
        c for c in ET.parse(tmp_path / "j.xml").iter("testcase") if c.get("name") == "success-code"
    )
    assert case.find("error") is not None
    assert case.find("failure") is None


def runner_exit_harness() -> int:
    from emulator.cli.verify import EXIT_HARNESS

    assert EXIT_HARNESS == 3
    return EXIT_HARNESS


def test_a_consumer_failure_with_harness_errors_still_exits_1(monkeypatch, capsys):
    monkeypatch.setattr("contracts.obligations.success_code", lambda run: 1 / 0)
    code = main(
        ["verify", "--consumer", "punchh=http://127.0.0.1:9/p", "--case", "success-code",
         "--case", "accepts[coupon-void]", "--seed", "2"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 1, out
    assert "0 passed, 1 failed, 0 skipped, 1 errors" in out


def test_a_settings_mapping_with_auth_only_serves_the_harness_and_the_emulator():
    from contracts.harness import Emulator, Harness

    settings = {
        "vendors": {"punchh": {"auth": SPECS["hmac-sha256"]}, "komo": {"auth": SPECS["bearer"]}}
    }
    consumer_settings = config.parse(
        {
            "vendors": {
                slug: {"target": "http://x", **entry} for slug, entry in settings["vendors"].items()
            }
        }
    )
    with serve_wsgi(create_app(consumer_settings)) as base:
        harness = Harness({"punchh": f"{base}/hooks/punchh"}, settings, f"{base}/hooks/probe")
        (case,) = [c for c in cases.build(["punchh"]) if c.id == "rejects-bad-auth"]
        assert "refused with 401" in harness.check(case, runner_reproduce)
        assert Emulator(base + "/hooks", settings).send("punchh", "coupon-void").status == 200


def runner_reproduce(case):
    return runner.verify_command(case, "http://x", 0)


def test_every_delivery_setting_reaches_the_requests_verify_sends(tmp_path):
    # timestamp_unit, sign, static headers and verification_get, read from the settings as run
    # reads them: the requests carry them.
    from contracts.checks import Run, first_body

    path = tmp_path / "s.yaml"
    path.write_text(
        "vendors:\n  punchh:\n    timestamp_unit: ms\n    verification_get: false\n"
        "    headers: {X-Env: ci}\n"
        "    auth: {type: hmac-sha1, client: c, secret: s, sign: full-url}\n"
    )
    from contracts.harness import settings_of

    url = "http://127.0.0.1:9/hooks/punchh?x=1"
    target = settings_of(str(path), {"punchh": url}).target("punchh", url)
    assert (target.timestamp_unit, target.verification_get) == ("ms", False)
    run = Run("punchh", None, target, None, seed=1)
    body = first_body(run)
    assert body["timestamp"] > 10**12  # milliseconds
    headers = Sender(target).endpoint.headers("POST", encode(body))
    assert headers["X-Env"] == "ci"
    assert target.auth.verify("POST", url, encode(body), headers)[0]
    assert (
        authn.Hmac("c", "s", "hmac-sha1", sign="full-url").signature(url, encode(body))
        in (headers["Authorization"])
    )
    (case,) = [c for c in cases.build(["punchh"]) if c.name == "answers-get-verification"]
    assert (
        runner.run_case(case, target, None, runner.Options(1), runner_reproduce).status == "skipped"
    )
