"""The dispatcher against consumers that stall, refuse early, fail at random or speak TLS."""

from __future__ import annotations

import itertools
import json

import pytest

from emulator.core.policy import DELIVERED, FAILED, PENDING
from emulator.delivery.clock import VirtualClock
from emulator.delivery.records import NewDelivery
from tests.emulator.delivery.netfaults import (
    BlackHole,
    Consumer,
    Silent,
    TlsConsumer,
    early_refusal_server,
    free_port,
    make_pki,
    poll,
    random_modes,
    start,
)

MANY = {"delays": [5] * 40, "on": ["5xx", "timeout", "connection"]}


def test_targets_that_never_accept_or_never_answer_hold_only_their_own_requests(outbox):
    """komo listens and never accepts, rebilly accepts and never answers, punchh is https and never
    does its handshake: fabric's deliveries all arrive while those are still hanging."""
    hole, silent, mute_tls = BlackHole(), Silent(), Silent()
    healthy = Consumer(lambda *_: 200)
    slow = {"timeout": 600, "retry": "none"}
    raw = {"vendors": {
        "komo": {"target": f"http://127.0.0.1:{hole.port}/k", **slow},
        "rebilly": {"target": f"http://127.0.0.1:{silent.port}/r", **slow},
        "punchh": {"target": f"https://127.0.0.1:{mute_tls.port}/p", **slow},
        "fabric": {"target": healthy.url("/f"), "auth": {"type": "api-key", "value": "k"}},
    }}  # fmt: skip
    plan = [("komo", "CouponIssued", 20), ("rebilly", "coupon-issued", 20),
            ("punchh", "coupon-redemption", 20), ("fabric", "offers:coupon:created", 60)]  # fmt: skip
    dispatcher, run_id = start(outbox, raw, plan, workers=8)
    try:
        poll(lambda: dispatcher.progress.statuses[DELIVERED] == 60, 60, "every fabric delivery")
        poll(lambda: silent.accepted >= 1 and mute_tls.accepted >= 1, 30, "the stalls to begin")
        assert len(healthy.seen) == 60
        # The stalled targets are still hanging: nothing of theirs is final yet.
        assert dispatcher.progress.done == 60
    finally:
        dispatcher.stop()
        for server in (hole, silent, mute_tls, healthy):
            server.close()
    counts = outbox.counts(run_id)
    assert counts[DELIVERED] == 60
    assert counts[PENDING] == 60


def test_a_consumer_failing_30_percent_at_random_gets_every_event_and_the_log_is_true(outbox):
    """500s, resets, partial answers and silences on POSTs and on punchh's verification GET, and a
    port that refuses connections until it comes up: every event ends delivered, and the attempt
    rows are exactly the requests the consumer read."""
    port = free_port()
    modes = (500, "reset", "partial", "hold")
    clock = VirtualClock()
    raw = {"time_scale": 1, "vendors": {
        "punchh": {"target": f"http://127.0.0.1:{port}/p", "timeout": 5, "retry": MANY},
        "komo": {"target": f"http://127.0.0.1:{port}/k", "timeout": 5, "retry": MANY},
    }}  # fmt: skip
    plan = [("punchh", "coupon-redemption", 25), ("komo", "CouponIssued", 25)]
    dispatcher, run_id = start(outbox, raw, plan, clock=clock, workers=4)
    consumer = None
    try:
        poll(lambda: dispatcher.progress.attempts >= 3, 30, "refused connections")
        randomly = random_modes(7, 0.3, modes)
        gets = iter(["hold", 500])  # the GET's first two answers fail for sure, then at random
        consumer = Consumer(
            lambda method, *rest: (
                next(gets, None) or randomly(method, *rest)
                if method == "GET"
                else randomly(method, *rest)
            ),
            port=port,
        )
        progress = dispatcher.join()
    finally:
        dispatcher.stop()
        if consumer is not None:
            consumer.close()
    assert progress.statuses[DELIVERED] == 50, progress.statuses
    rows = outbox.deliveries(run_id)
    assert {row["status"] for row in rows} == {DELIVERED}
    attempts = [a for row in rows for a in row["attempts"]]
    refused = [a for a in attempts if "ECONNREFUSED" in (a["error"] or "")]
    assert len(refused) >= 3
    assert len(attempts) - len(refused) == len(consumer.seen)
    assert sorted(m for m, *_ in consumer.seen) == sorted(
        a["method"] for a in attempts if a not in refused
    )
    # Every failure mode happened, the verification GET's included, and none was logged as a 200.
    assert {mode for *_, mode in consumer.seen} >= {200, 500, "reset", "partial", "hold"}
    assert {mode for method, *_, mode in consumer.seen if method == "GET"} - {200}
    for row in rows:
        body = outbox.body(row["id"])
        posted = [mode for m, _, b, mode in consumer.seen if m == "POST" and b == body]
        logged = [a for a in row["attempts"] if a["method"] == "POST" and a not in refused]
        assert len(posted) == len(logged)
        assert [a["status"] for a in logged].count(200) == posted.count(200) == 1
    assert consumer.most_open <= 4  # --workers held at every moment


def test_a_failed_verification_get_is_retried_before_the_deliveries_retries(outbox):
    answers = iter([500, "reset", 200])
    consumer = Consumer(lambda method, *_: next(answers) if method == "GET" else 200)
    clock = VirtualClock()
    raw = {"time_scale": 1, "vendors": {"punchh": {"target": consumer.url("/p")}}}
    dispatcher, run_id = start(outbox, raw, [("punchh", "coupon-void", 30)], clock=clock, workers=2)
    try:
        progress = dispatcher.join()
    finally:
        consumer.close()
    assert progress.statuses[DELIVERED] == 30
    methods = [m for m, *_ in consumer.seen]
    assert methods[:3] == ["GET", "GET", "GET"]
    assert methods.count("GET") == 3
    assert consumer.most_open <= 2  # no burst of the deliveries that waited for the GET
    gets = [a for row in outbox.deliveries(run_id) for a in row["attempts"] if a["number"] == 0]
    assert sorted(str(a["status"]) for a in gets) == ["200", "500", "None"]


def test_an_answer_while_the_body_still_uploads_is_the_one_judged(outbox):
    server = early_refusal_server()
    port = server.getsockname()[1]
    raw = {"vendors": {"komo": {"target": f"http://127.0.0.1:{port}/k", "retry": "none"}}}
    settings_run = outbox.create_run("test", raw)
    big = NewDelivery("komo", "CouponIssued", "c1", ("k1",), b"x" * (16 << 20), 0.0, "oversized")
    [stored] = outbox.enqueue(settings_run, [big])
    from emulator.delivery.dispatcher import Dispatcher
    from emulator.readers import config

    dispatcher = Dispatcher(outbox, config.parse(raw), workers=1).start()
    dispatcher.submit([stored])
    try:
        dispatcher.join()
    finally:
        server.close()
    [row] = outbox.deliveries(settings_run)
    [attempt] = row["attempts"]
    assert attempt["status"] == 413, attempt["error"]
    assert attempt["error"] is None
    assert row["status"] == DELIVERED  # refusing an oversized body is a right answer


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def _tls_run(outbox, url: str, tls: dict | None):
    entry = {"target": url, "retry": "none", **({"tls": tls} if tls else {})}
    raw = {"vendors": {"komo": entry}}
    dispatcher, run_id = start(outbox, raw, [("komo", "CouponIssued", 3)], workers=2)
    dispatcher.join()
    return outbox.deliveries(run_id)


def test_mutual_tls_shows_the_client_certificate_and_trusts_the_ca_bundle(outbox, pki):
    consumer = TlsConsumer(pki["server.pem"], pki["server.key"], client_ca=pki["ca.pem"])
    try:
        tls = {"ca_bundle": str(pki["ca.pem"]), "client_cert": str(pki["client.pem"]),
               "client_key": str(pki["client.key"])}  # fmt: skip
        rows = _tls_run(outbox, consumer.url(), tls)
        assert [r["status"] for r in rows] == [DELIVERED] * 3
        assert consumer.peers
        assert set(consumer.peers) == {"emulator-client"}
        assert consumer.requests == 3
        # Without the client certificate the consumer refuses the handshake.
        rows = _tls_run(outbox, consumer.url(), {"ca_bundle": str(pki["ca.pem"])})
        assert [r["status"] for r in rows] == [FAILED] * 3
        assert consumer.requests == 3
    finally:
        consumer.close()


def test_an_untrusted_certificate_fails_unless_insecure_is_set(outbox, pki):
    consumer = TlsConsumer(pki["server.pem"], pki["server.key"])
    try:
        rows = _tls_run(outbox, consumer.url(), None)
        assert [r["status"] for r in rows] == [FAILED] * 3
        assert "CERTIFICATE_VERIFY_FAILED" in rows[0]["attempts"][0]["error"]
        assert consumer.requests == 0
        rows = _tls_run(outbox, consumer.url(), {"insecure": True})
        assert [r["status"] for r in rows] == [DELIVERED] * 3
        assert consumer.requests == 3
    finally:
        consumer.close()


def test_tls_settings_are_checked_where_they_are_written(tmp_path):
    from emulator.core.errors import ConfigError
    from emulator.readers import config

    text = (
        "vendors:\n  komo:\n    target: https://127.0.0.1:1/k\n"
        f"    tls: {{client_key: {tmp_path / 'missing.key'}}}\n"
    )
    with pytest.raises(ConfigError, match=r"vendors\.komo\.tls\.client_key: no such file"):
        config.parse(text, source="s.yaml")
    text = "vendors:\n  komo:\n    target: http://127.0.0.1:1/k\n    tls: {insecure: true}\n"
    with pytest.raises(ConfigError, match="tls applies to https:// targets"):
        config.parse(text, source="s.yaml")


def test_the_circuit_breaker_suspends_pings_on_schedule_then_deactivates(outbox):
    """1001 failures in a row suspend punchh's webhook; pings at 5 and 10 min then every 2 h for 6
    tries all fail, so it is deactivated and what it held fails, naming the breaker."""
    clock = VirtualClock()
    pings: list[float] = []

    def choose(method, path, body):
        if method == "GET":
            pings.append(clock.now())
        return 503

    consumer = Consumer(choose)
    raw = {"time_scale": 1, "vendors": {"punchh": {
        "target": consumer.url("/p"), "retry": "none", "verification_get": False,
        "circuit_breaker": True}}}  # fmt: skip
    dispatcher, run_id = start(outbox, raw, [("punchh", "coupon-void", 1040)], clock=clock,
                               workers=8)  # fmt: skip
    try:
        progress = dispatcher.join()
    finally:
        consumer.close()
    gaps = [round(b - a) for a, b in itertools.pairwise(pings)]
    assert len(pings) == 8
    assert gaps == [300] + [7200] * 6
    posts = [m for m, *_ in consumer.seen if m == "POST"]
    assert 1001 <= len(posts) <= 1001 + 7  # what was on the wire when it tripped still lands
    rows = outbox.deliveries(run_id)
    held = [r for r in rows if not r["attempts"] or r["attempts"][-1]["method"] == "GET"]
    assert len(held) == 1040 - len(posts)
    assert all("deactivated" in r["last_error"] for r in held if not r["attempts"])
    assert "deactivated" in progress.breakers["punchh"]
    assert {r["status"] for r in rows} == {FAILED}


def test_a_ping_answered_200_reactivates_the_webhook_and_releases_what_it_held(outbox):
    clock = VirtualClock()
    state = {"healed": False}

    def choose(method, path, body):
        if method == "GET":
            state["healed"] = len([m for m, *_ in consumer.seen if m == "GET"]) >= 2
            return 200 if state["healed"] else 503
        return 200 if state["healed"] else 500

    consumer = Consumer(choose)
    raw = {"time_scale": 1, "vendors": {"punchh": {
        "target": consumer.url("/p"), "retry": MANY, "verification_get": False,
        "circuit_breaker": True}}}  # fmt: skip
    dispatcher, run_id = start(outbox, raw, [("punchh", "coupon-void", 1020)], clock=clock,
                               workers=8)  # fmt: skip
    try:
        progress = dispatcher.join()
    finally:
        consumer.close()
    assert progress.statuses[DELIVERED] == 1020
    assert progress.breakers["punchh"].startswith("reactivated")
    rows = outbox.deliveries(run_id)
    pings = [a for r in rows for a in r["attempts"] if a["method"] == "GET"]
    assert [a["outcome"] for a in pings] == [PENDING, PENDING, "verified"]
    assert all("circuit breaker ping" in (a["error"] or "") for a in pings[:2])


def test_rebilly_sends_its_documented_request_headers(httpserver, deliver):
    httpserver.expect_request("/hooks").respond_with_data("", status=200)
    deliver({"vendors": {"rebilly": {"target": httpserver.url_for("/hooks")}}},
            "rebilly", "coupon-issued")  # fmt: skip
    [(request, _)] = httpserver.log
    assert request.headers["User-Agent"].startswith("Rebilly/")
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    json.loads(request.get_data())
