"""The consumer core and its Flask blueprint: auth first, 400 for non-JSON, dedupe, precedence, probe."""

from __future__ import annotations

import threading

import pytest
from flask import Flask

from contracts.bodies import lifecycle
from contracts.consumer import APPLIED, DUPLICATE, STALE, Consumer, MemoryStore
from contracts.reference_consumer import create_app, create_blueprint, main
from contracts.sending import Sender
from contracts.serving import serve_wsgi
from emulator.core import auth as authn
from emulator.core import catalogue
from emulator.core.vendor import encode
from emulator.delivery.endpoint import Endpoint
from emulator.readers import config

URL = "http://127.0.0.1:9/hooks/"


def signed(settings, vendor: str, body: bytes, method: str = "POST") -> dict[str, str]:
    target = settings.target(vendor, URL + vendor)
    return Endpoint(target, catalogue.vendor(vendor).profile).headers(method, body)


def test_auth_is_checked_before_the_body_is_read(settings):
    core = Consumer(settings)
    garbage = b"{not json"
    forged = {"Authorization": "hmac " + "0" * 64, "x-pch-key": "acme_pos"}
    assert core.handle("punchh", "POST", URL + "punchh", forged, garbage).status == 401
    assert (
        core.handle(
            "punchh", "POST", URL + "punchh", signed(settings, "punchh", garbage), garbage
        ).status
        == 400
    )
    body = encode(catalogue.sample("punchh", "coupon-void", seed=1))
    refused = core.handle("punchh", "POST", URL + "punchh", forged, body)
    assert refused.status == 401
    assert "signature does not match" in refused.payload["error"]
    key = catalogue.vendor("punchh").dedupe_keys(catalogue.sample("punchh", "coupon-void", seed=1))[
        0
    ]
    assert core.store.applied("punchh", key) == 0


def test_digest_challenges_then_accepts_only_its_own_nonces(settings):
    core = Consumer(settings)
    body = encode(catalogue.sample("rebilly", "coupon-issued", seed=2))
    first = core.handle("rebilly", "POST", URL + "rebilly", {}, body)
    assert first.status == 401
    challenge = first.headers["WWW-Authenticate"]
    auth = settings.vendors["rebilly"].auth
    answer = auth.respond(challenge, "POST", URL + "rebilly", cnonce="c1")
    assert core.handle("rebilly", "POST", URL + "rebilly", answer, body).status == 200
    made_up = challenge.replace(authn.parse_challenge(challenge)["nonce"], "f" * 32)
    replayed = auth.respond(made_up, "POST", URL + "rebilly", cnonce="c2")
    refused = core.handle("rebilly", "POST", URL + "rebilly", replayed, body)
    assert refused.status == 401
    assert "nonce" in refused.payload["error"]
    assert refused.headers["WWW-Authenticate"].startswith("Digest ")


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        (b"\xff\xfe", 400, "not valid JSON"),
        (b"[1, 2]", 400, "expected a JSON object"),
        (b'{"event": "CouponTransferred", "id": "x"}', 200, None),
    ],
)
def test_what_is_not_an_event_is_a_400_and_an_unknown_type_is_acknowledged(body, status, words):
    answer = Consumer().handle("komo", "POST", URL + "komo", {}, body)
    assert answer.status == status
    if words:
        assert words in answer.payload["error"]
    else:
        assert answer.payload["ignored"] == 1
        assert answer.payload["applied"] == 0


def test_methods_and_vendors():
    core = Consumer()
    assert core.handle("punchh", "GET", URL + "punchh", {}, b"").status == 200
    assert core.handle("komo", "DELETE", URL + "komo", {}, b"").status == 405
    unknown = core.handle("acme", "POST", URL + "acme", {}, b"{}")
    assert unknown.status == 404
    assert "komo, fabric, rebilly, punchh" in unknown.payload["error"]


def test_a_redelivery_is_applied_once():
    core = Consumer()
    body = catalogue.sample("fabric", "offers:coupon:created", seed=5)
    raw = encode(body)
    assert core.handle("fabric", "POST", URL, {}, raw).payload["applied"] == 1
    assert core.handle("fabric", "POST", URL, {}, raw).payload["duplicate"] == 1
    assert core.probe_applied("fabric", body["events"][0]["id"]).payload == {"count": 1}


@pytest.mark.parametrize(
    ("vendor", "steps"),
    [
        ("rebilly", [("coupon-issued", 0), ("coupon-modified", 10)]),
        ("punchh", [("coupon-issuance-discount", 0), ("coupon-void", 10)]),
    ],
)
def test_an_older_event_arriving_late_does_not_win(vendor, steps):
    store = MemoryStore()
    old, new = lifecycle(vendor, steps, seed=6)
    newer, older = (
        catalogue.vendor(vendor).observe(new)[0],
        catalogue.vendor(vendor).observe(old)[0],
    )
    assert store.record(vendor, newer) == APPLIED
    assert store.record(vendor, older) == STALE
    assert store.record(vendor, older) == DUPLICATE
    held = store.coupon(vendor, newer.coupon_id)
    assert (held.status, held.revision, held.key) == (newer.status, newer.revision, newer.key)


def test_recording_is_atomic_under_concurrent_redeliveries():
    store = MemoryStore()
    obs = catalogue.vendor("komo").observe(catalogue.sample("komo", "CouponViewed", seed=8))[0]
    outcomes: list[str] = []
    start = threading.Barrier(16)

    def deliver() -> None:
        start.wait()
        outcomes.append(store.record("komo", obs))

    threads = [threading.Thread(target=deliver) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(APPLIED) == 1
    assert outcomes.count(DUPLICATE) == 15
    assert store.applied("komo", obs.key) == 1


def test_the_blueprint_checks_hmac_over_the_raw_path_and_query(settings):
    with serve_wsgi(create_app(settings)) as base:
        target = settings.target("punchh", f"{base}/hooks/punchh?shop=a%2Fb&x=1")
        sender = Sender(target)
        body = catalogue.sample("punchh", "coupon-redemption", seed=9)
        try:
            ok = sender.send(encode(body))
            moved = sender.send(
                encode(body), auth=authn.Hmac("acme_pos", "s3cret", sign="full-url")
            )
        finally:
            sender.close()
        probe = Sender(
            config.Target.for_url(
                "komo", f"{base}/hooks/probe/coupon?vendor=punchh&id={body['payload']['coupon_id']}"
            )
        )
        held = probe.send(b"", method="GET")
        probe.close()
    assert ok.status == 200
    assert moved.status == 401  # signed over the full URL, checked over path + query
    assert held.status == 200
    assert b'"status": "honored"' in held.response_body


def test_the_blueprint_mounts_twice_with_separate_state():
    app = Flask(__name__)
    store_a, store_b = MemoryStore(), MemoryStore()
    app.register_blueprint(create_blueprint(store=store_a, name="a"), url_prefix="/a")
    app.register_blueprint(create_blueprint(store=store_b, name="b", probe=False), url_prefix="/b")
    client = app.test_client()
    body = catalogue.sample("komo", "CouponIssued", seed=10)
    assert client.post("/b/komo", data=encode(body)).status_code == 200
    assert store_b.applied("komo", body["id"]) == 1
    assert store_a.applied("komo", body["id"]) == 0
    assert client.get(
        "/a/probe/applied", query_string={"vendor": "komo", "key": body["id"]}
    ).json == {"count": 0}
    assert client.get("/b/probe/applied").status_code == 404  # probe=False: no probe routes
    assert client.get("/a/probe/applied").status_code == 400


def test_the_runnable_consumer_refuses_a_bad_settings_file(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("vendors:\n  punchh:\n    target: http://x\n    auth: {type: digest}\n")
    assert main(["--port", "0", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:4" in err
    assert "vendors.punchh.auth.type" in err
