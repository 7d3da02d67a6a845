"""The one Digest exchange and the one verification GET that the dispatcher, the Locust user and
the contract suite's sender share (``emulator.delivery.endpoint``)."""

from __future__ import annotations

from dataclasses import replace

from contracts.consumer import Consumer
from contracts.sending import Sender
from emulator.core import auth as authn
from emulator.core import catalogue
from emulator.core.vendor import encode
from emulator.delivery.endpoint import Endpoint, Verifications, verification_verdict
from emulator.delivery.http11 import Response
from emulator.delivery.transport import Request
from emulator.readers import config

URL = "http://127.0.0.1:9/hooks/rebilly"
DIGEST = {"type": "digest", "username": "merchant", "password": "pa55"}


def target(vendor: str = "rebilly", auth=None, **fields):
    raw = {"vendors": {vendor: {"target": URL, "auth": auth or DIGEST, **fields}}}
    return config.parse(raw, source="test").vendors[vendor]


def endpoint(t) -> Endpoint:
    return Endpoint(t, catalogue.vendor(t.vendor).profile)


class ConsumerTransport:
    """The reference consumer behind a transport: what the contract sender talks to, no sockets."""

    def __init__(self, consumer: Consumer) -> None:
        self.consumer = consumer
        self.sent: list[dict[str, str]] = []

    def send(self, request: Request) -> Response:
        self.sent.append(dict(request.headers))
        answer = self.consumer.handle(
            "rebilly", request.method, request.url, request.headers, request.body
        )
        return Response(answer.status, dict(answer.headers), b"")

    def close(self) -> None:
        pass


def challenge_of(consumer: Consumer, body: bytes = b"{}") -> Response:
    first = consumer.handle("rebilly", "POST", URL, {}, body)
    return Response(first.status, dict(first.headers), b"")


def test_a_digest_challenge_is_answered_once_per_request_with_a_rising_nonce_count():
    t = target()
    consumer = Consumer(config.parse({"vendors": {"rebilly": {"target": URL, "auth": DIGEST}}}))
    ep = endpoint(t)
    first = ep.exchange("POST", b"{}")
    assert "Authorization" not in first.headers()  # Digest: nothing until challenged
    challenge = challenge_of(consumer)
    assert first.challenged(challenge)
    answer = first.headers()
    assert authn.parse_challenges(answer["Authorization"])[0][1]["nc"] == "00000001"
    assert not first.challenged(challenge)  # once per request: a second 401 is the answer
    later = ep.exchange("POST", b"{}")  # the nonce is reused, its count rises
    assert authn.parse_challenges(later.headers()["Authorization"])[0][1]["nc"] == "00000002"
    missing = ep.exchange("POST", b"{}", "missing")
    assert "Authorization" not in missing.headers()
    assert not missing.challenged(challenge)  # sent without auth on purpose: the 401 stands


def test_a_401_without_a_digest_challenge_is_not_answered():
    ep = endpoint(target())
    assert not ep.exchange("POST", b"{}").challenged(Response(401, {}, b""))
    basic = endpoint(target(auth={"type": "basic", "username": "u", "password": "p"}))
    digest_401 = Response(401, {"WWW-Authenticate": 'Digest realm="r", nonce="n"'}, b"")
    assert not basic.exchange("POST", b"{}").challenged(digest_401)


def test_the_contract_sender_reuses_the_nonce_like_the_dispatcher():
    settings = config.parse({"vendors": {"rebilly": {"target": URL, "auth": DIGEST}}})
    transport = ConsumerTransport(Consumer(settings))
    sender = Sender(settings.vendors["rebilly"], transport)
    raw = encode(catalogue.sample("rebilly", "coupon-issued", seed=1))
    assert sender.send(raw).status == 200  # challenged, then answered
    assert sender.send(raw).status == 200  # answered at once, nonce count 2
    counts = [
        authn.parse_challenges(h["Authorization"])[0][1]["nc"]
        for h in transport.sent
        if "Authorization" in h
    ]
    assert counts == ["00000001", "00000002"]
    assert len(transport.sent) == 3  # one challenge for the whole sender, not one per send


def test_verification_is_asked_once_per_target_and_judged_alike_everywhere():
    t = target("punchh", auth={"type": "hmac-sha256", "client": "c", "secret": "s"})
    t = replace(t, verification_get=True)
    checks = Verifications()
    assert checks.needed(t)
    assert not checks.needed(t)  # the first caller sends it; the others wait for the verdict
    assert checks.outcome(t) is None
    passed, reason = checks.judge(t, 503)
    assert not passed
    assert (passed, reason) == checks.outcome(t) == verification_verdict(t, 503)
    assert f"verification GET to {URL} answered 503" in reason
    assert catalogue.vendor("punchh").title in reason
    assert "verification_get: false" in reason
    assert verification_verdict(t, None, "refused")[1].count("got no answer (refused)") == 1
    assert verification_verdict(t, 200) == (True, "verification GET answered 200")
    off = replace(t, verification_get=False)
    assert not Verifications().needed(off)
    assert Verifications().outcome(off)[0]
