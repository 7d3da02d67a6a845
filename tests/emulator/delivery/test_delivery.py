"""Deliveries over real loopback HTTP, against consumers that check each vendor's auth themselves.

The consumers here compute every expected credential with hashlib, hmac and base64 directly,
independently of ``emulator.core.auth``, as a vendor's real consumer would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools

import pytest
from werkzeug import Response

from emulator.core.policy import DELIVERED, EXHAUSTED, FAILED
from emulator.delivery.clock import VirtualClock
from tests.emulator.delivery.conftest import bodies

SECRET = "s3cret-Key"


def _punchh_hmac(algorithm):
    def check(request):
        target = request.full_path.rstrip("?") if not request.query_string else request.full_path
        digest = hmac.new(
            SECRET.encode(), target.encode() + request.get_data(), algorithm
        ).hexdigest()
        return (
            request.headers.get("Authorization") == f"hmac {digest}"
            and request.headers.get("x-pch-key") == "acme-pos"
        )

    return check


def _header_is(name, value):
    return lambda request: request.headers.get(name) == value


def _digest_consumer(username, password, realm="rebilly-hooks", nonce="n0nce-42", opaque="0paque"):
    """A consumer doing RFC 7616 Digest (SHA-256, qop=auth) with its own arithmetic."""

    def h(text):
        return hashlib.sha256(text.encode()).hexdigest()

    def handler(request):
        value = request.headers.get("Authorization", "")
        if value.startswith("Digest "):
            parts = dict(item.strip().split("=", 1) for item in value[len("Digest ") :].split(","))
            p = {k: v.strip('"') for k, v in parts.items()}
            ha1 = h(f"{username}:{realm}:{password}")
            ha2 = h(f"{request.method}:{p.get('uri')}")
            want = h(f"{ha1}:{nonce}:{p.get('nc')}:{p.get('cnonce')}:auth:{ha2}")
            if p.get("response") == want and p.get("uri") == request.full_path.rstrip("?"):
                return Response("", status=200)
        challenge = f'Digest realm="{realm}", qop="auth", algorithm=SHA-256, nonce="{nonce}", opaque="{opaque}"'
        return Response("", status=401, headers={"WWW-Authenticate": challenge})

    return handler


AUTH_CASES = {
    "komo-bearer": ("komo", "CouponIssued", {"type": "bearer", "token": SECRET},
                    _header_is("Authorization", f"Bearer {SECRET}")),
    "fabric-api-key": ("fabric", "offers:coupon:created", {"type": "api-key", "value": SECRET},
                       _header_is("x-api-key", SECRET)),
    "rebilly-basic": ("rebilly", "coupon-issued", {"type": "basic", "username": "hooks", "password": SECRET},
                      _header_is("Authorization", "Basic " + base64.b64encode(f"hooks:{SECRET}".encode()).decode())),
    "punchh-basic": ("punchh", "coupon-redemption", {"type": "basic", "username": "hooks", "password": SECRET},
                     _header_is("Authorization", "basic " + base64.b64encode(f"hooks:{SECRET}".encode()).decode())),
    "punchh-bearer": ("punchh", "coupon-void", {"type": "bearer", "token": SECRET},
                      _header_is("Authorization", f"bearer {SECRET}")),
    "punchh-hmac-sha1": ("punchh", "coupon-issuance-unlock",
                         {"type": "hmac-sha1", "client": "acme-pos", "secret": SECRET}, _punchh_hmac(hashlib.sha1)),
    "punchh-hmac-sha256": ("punchh", "coupon-issuance-discount",
                           {"type": "hmac-sha256", "client": "acme-pos", "secret": SECRET},
                           _punchh_hmac(hashlib.sha256)),
}  # fmt: skip


# What a 401 leads to: punchh documents no retry for 4xx; fabric retries "up to 3 times"; our
# (unverified, configurable) defaults retry rebilly's any failure five times and never komo's 4xx.
REFUSED = {
    "komo": (FAILED, 1),
    "fabric": (EXHAUSTED, 4),
    "rebilly": (EXHAUSTED, 6),
    "punchh": (FAILED, 1),
}


def _checking(check):
    def handler(request):
        return Response("", status=200 if check(request) else 401)

    return handler


@pytest.mark.parametrize("case", list(AUTH_CASES))
def test_every_vendor_is_accepted_by_a_consumer_checking_its_auth(case, httpserver, deliver):
    vendor, event, auth, check = AUTH_CASES[case]
    httpserver.expect_request("/hooks", query_string="env=ci").respond_with_handler(
        _checking(check)
    )
    raw = {"vendors": {vendor: {"target": httpserver.url_for("/hooks") + "?env=ci", "auth": auth}}}
    result = deliver(raw, vendor, event, count=5)
    assert result.counts[DELIVERED] == 5, result.counts
    assert len(bodies(httpserver)) == 5
    if vendor == "punchh":  # the verification GET, once, with the same kind of Authorization
        gets = [req for req, _ in httpserver.log if req.method == "GET"]
        assert len(gets) == 1
        assert gets[0].headers.get("Authorization")


@pytest.mark.parametrize("case", list(AUTH_CASES))
def test_a_wrong_secret_is_refused_and_the_profile_decides_what_follows(
    case, httpserver, deliver, rows
):
    vendor, event, auth, check = AUTH_CASES[case]
    httpserver.expect_request("/hooks").respond_with_handler(_checking(check))
    wrong = {
        k: (v + "-wrong" if k in ("token", "value", "password", "secret") else v)
        for k, v in auth.items()
    }
    raw = {
        "time_scale": 0.0001,
        "vendors": {
            vendor: {
                "target": httpserver.url_for("/hooks"),
                "auth": wrong,
                "verification_get": False,
            }
        }
        if vendor == "punchh"
        else {vendor: {"target": httpserver.url_for("/hooks"), "auth": wrong}},
    }
    result = deliver(raw, vendor, event, count=1)
    [row] = rows(result)
    status, attempts = REFUSED[vendor]
    assert row["status"] == status
    assert row["attempt_count"] == attempts
    assert all(a["status"] == 401 for a in row["attempts"])
    assert row["last_status"] == 401


def test_rebilly_digest_answers_the_challenge_and_reuses_the_nonce(httpserver, deliver, rows):
    httpserver.expect_request("/hooks").respond_with_handler(_digest_consumer("hooks", SECRET))
    raw = {"vendors": {"rebilly": {"target": httpserver.url_for("/hooks"),
                                   "auth": {"type": "digest", "username": "hooks", "password": SECRET}}}}  # fmt: skip
    result = deliver(raw, "rebilly", "coupon-redeemed", count=6, workers=1)
    assert result.counts[DELIVERED] == 6
    statuses = [resp.status_code for _, resp in httpserver.log]
    assert statuses.count(401) == 1  # one challenge, then the nonce is reused with a rising nc
    assert statuses.count(200) == 6
    # The challenge's round trip is logged as what it was: sent again at once, not a retry.
    logged = [(a["status"], a["outcome"]) for row in rows(result) for a in row["attempts"]]
    assert sorted(logged) == [(200, DELIVERED)] * 6 + [(401, "resent")]


def test_rebilly_digest_with_a_wrong_password_is_refused(httpserver, deliver):
    httpserver.expect_request("/hooks").respond_with_handler(_digest_consumer("hooks", SECRET))
    raw = {"time_scale": 0.0001, "vendors": {"rebilly": {"target": httpserver.url_for("/hooks"),
           "auth": {"type": "digest", "username": "hooks", "password": "nope"}}}}  # fmt: skip
    result = deliver(raw, "rebilly", "coupon-issued")
    assert result.counts[EXHAUSTED] == 1


def _ladder(
    httpserver, deliver, failure: int, failures: int, success: int
) -> tuple[int, list[float]]:
    """Punchh answered ``failure`` ``failures`` times, then ``success``: the outcome and the gaps
    between the POSTs in vendor seconds, on a virtual clock (hours of ladder in a moment)."""
    clock = VirtualClock()
    seen: list[float] = []

    def handler(request):
        if request.method == "GET":
            return Response("", status=200)
        seen.append(clock.now())
        return Response("", status=failure if len(seen) <= failures else success)

    httpserver.expect_request("/hooks").respond_with_handler(handler)
    raw = {"time_scale": 1, "vendors": {"punchh": {"target": httpserver.url_for("/hooks")}}}
    delivered = deliver(raw, "punchh", "coupon-redemption", clock=clock).counts[DELIVERED]
    assert len(seen) == failures + 1
    return delivered, [b - a for a, b in itertools.pairwise(seen)]


@pytest.mark.parametrize(
    ("failure", "success", "documented"),
    [
        (500, 200, (60, 120, 300)),
        (503, 202, (60, 120)),
        (429, 202, (15, 45)),
        (408, 200, (15, 45, 180)),
    ],
)
def test_punchh_retries_at_the_documented_intervals(
    failure, success, documented, httpserver, deliver
):
    """Each gap is the documented interval, to the millisecond of (virtual) vendor time."""
    delivered, gaps = _ladder(httpserver, deliver, failure, len(documented), success)
    assert delivered == 1
    assert [round(gap, 3) for gap in gaps] == list(documented)


@pytest.mark.parametrize(
    ("status", "what"), [(204, "a 204 is not Punchh success"), (301, "3xx is never retried")]
)
def test_punchh_does_not_count_204_and_never_retries_301(status, what, httpserver, deliver, rows):
    httpserver.expect_request("/hooks", method="GET").respond_with_data("", status=200)
    httpserver.expect_request("/hooks", method="POST").respond_with_data(
        "", status=status, headers={"Location": "/elsewhere"} if status == 301 else {}
    )
    raw = {"time_scale": 0.0001, "vendors": {"punchh": {"target": httpserver.url_for("/hooks")}}}
    result = deliver(raw, "punchh", "coupon-redemption")
    [row] = rows(result)
    assert row["status"] == FAILED, what
    assert row["attempt_count"] == 1
    assert len(bodies(httpserver)) == 1


def test_punchh_verification_get_must_answer_200_before_any_post(httpserver, deliver, rows):
    httpserver.expect_request("/hooks", method="GET").respond_with_data("nope", status=404)
    httpserver.expect_request("/hooks", method="POST").respond_with_data("", status=200)
    raw = {"vendors": {"punchh": {"target": httpserver.url_for("/hooks")}}}
    result = deliver(raw, "punchh", "coupon-redemption", count=3)
    assert result.counts[FAILED] == 3
    assert bodies(httpserver) == []
    assert "verification GET" in rows(result)[0]["last_error"]


def test_a_retried_event_keeps_its_identity_byte_for_byte(httpserver, deliver):
    received: list[bytes] = []

    def handler(request):
        received.append(request.get_data())
        return Response("", status=503 if len(received) < 3 else 200)

    httpserver.expect_request("/hooks").respond_with_handler(handler)
    raw = {"time_scale": 0.0001, "vendors": {"fabric": {"target": httpserver.url_for("/hooks")}}}
    result = deliver(raw, "fabric", "offers:coupon:updated")
    assert result.counts[DELIVERED] == 1
    assert len(received) == 3
    assert len(set(received)) == 1


def test_fabric_batches_up_to_batch_size_events_of_one_type(httpserver, deliver, rows):
    httpserver.expect_request("/hooks").respond_with_data("", status=200)
    raw = {"vendors": {"fabric": {"target": httpserver.url_for("/hooks"), "batch_size": 3}}}
    result = deliver(raw, "fabric", "offers:coupon:created", count=7)
    envelopes = bodies(httpserver)
    assert sorted(len(e["events"]) for e in envelopes) == [1, 3, 3]
    ids = [ev["id"] for e in envelopes for ev in e["events"]]
    assert len(set(ids)) == 7
    stored = {k for row in rows(result) for k in row["dedupe_keys"]}
    assert stored == set(ids)


def test_secrets_never_reach_the_attempt_log(httpserver, deliver, rows):
    httpserver.expect_request("/hooks").respond_with_data("", status=200)
    raw = {"vendors": {"punchh": {"target": httpserver.url_for("/hooks"),
                                  "auth": {"type": "hmac-sha256", "client": "acme-pos", "secret": SECRET}}}}  # fmt: skip
    result = deliver(raw, "punchh", "coupon-redemption", count=2)
    logged = rows(result)
    text = repr(logged)
    assert SECRET not in text
    signature = next(req for req, _ in httpserver.log if req.method == "POST").headers[
        "Authorization"
    ]
    assert signature.split()[1] not in text
    assert logged[0]["attempts"][0]["request_headers"]["Authorization"] == "hmac [redacted]"
