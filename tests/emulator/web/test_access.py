"""The API token, same-origin writes, and secrets that never leave the service."""

from __future__ import annotations

import base64

import pytest

from emulator.core import catalogue
from tests.emulator.web.conftest import TOKEN

GUARDED = [
    ("GET", "/api/runs", None),
    ("GET", "/api/deliveries", None),
    ("GET", "/api/scenarios", None),
    ("POST", "/api/events", {"vendor": "komo", "event_type": "CouponIssued"}),
    ("POST", "/api/runs", {"yaml": "events: [{vendor: komo, event: CouponIssued}]"}),
    ("GET", "/", None),
]


def _final(delivery):
    return delivery["status"] != "pending"


def _state(service):
    """Everything a write could change: the runs and the deliveries with their attempt counts.

    Read once every delivery is final, so that only the request under test could change it.
    """
    service.wait_for("/api/deliveries?status=pending", lambda page: not page["items"])
    _, runs = service.json("GET", "/api/runs?limit=500")
    _, deliveries = service.json("GET", "/api/deliveries?limit=500")
    return (
        [(r["id"], r["progress"]["total"]) for r in runs["items"]],
        [(d["id"], d["status"], d["attempt_count"]) for d in deliveries["items"]],
    )


@pytest.mark.parametrize(("method", "path", "body"), GUARDED)
@pytest.mark.parametrize("token", [None, "wrong-token"], ids=["no-token", "wrong-token"])
def test_without_the_token_a_request_gets_401_and_changes_nothing(
    service, method, path, body, token
):
    _, accepted = service.json(
        "POST", "/api/events", {"vendor": "komo", "event_type": "CouponIssued"}
    )
    service.wait_for(f"/api/deliveries/{accepted['delivery']['id']}", _final)
    before = _state(service)
    status, headers, data = service.request(method, path, body, token=token or False)
    assert status == 401
    assert headers["Content-Type"] == "application/problem+json"
    assert headers["WWW-Authenticate"].startswith("Bearer" if path != "/" else "Basic")
    assert TOKEN.encode() not in data
    assert _state(service) == before


def test_a_resend_without_the_token_changes_nothing(service):
    _, accepted = service.json("POST", "/api/events", {"vendor": "komo",
                                                       "event_type": "CouponViewed"})  # fmt: skip
    path = f"/api/deliveries/{accepted['delivery']['id']}"
    service.wait_for(path, lambda d: d["status"] == "delivered")
    before = _state(service)
    assert service.request("POST", path + "/resend", token=False)[0] == 401
    assert (
        service.request("POST", f"/api/runs/{accepted['run']['id']}/resend", token=False)[0] == 401
    )
    assert _state(service) == before


def test_a_browser_logs_in_to_the_dashboard_with_the_token_as_password(service):
    good = base64.b64encode(f"anyone:{TOKEN}".encode()).decode()
    bad = base64.b64encode(b"anyone:guess").decode()
    assert (
        service.request("GET", "/", token=False, headers={"Authorization": f"Basic {good}"})[0]
        == 200
    )
    status, headers, _ = service.request(
        "GET", "/", token=False, headers={"Authorization": f"Basic {bad}"}
    )
    assert status == 401
    assert 'Basic realm="coupon-emulator"' in headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    "path",
    ["/healthz", "/readyz", "/openapi.json", "/sink/komo", "/sink/probe/applied?vendor=komo&key=x"],
)
def test_health_the_document_and_the_sink_are_open(service, path):
    assert service.request("GET", path, token=False)[0] == 200


def test_vendor_resources_are_open_to_consumers(service):
    # Unknown, so 404, but never 401: a consumer follows payload links without our token.
    assert service.request("GET", "/vendors/rebilly/coupons/cpn_x", token=False)[0] == 404


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}],
    ids=["origin", "fetch-metadata"],
)
def test_a_write_from_another_origin_is_refused_even_with_the_token(service, headers):
    before = _state(service)
    status, _, data = service.request(
        "POST", "/api/events", {"vendor": "komo", "event_type": "CouponIssued"}, headers=headers
    )
    assert status == 403
    assert b"cross-origin" in data
    assert _state(service) == before


def test_a_write_from_the_dashboard_itself_is_allowed(service):
    status, _, _ = service.request(
        "POST",
        "/api/events",
        {"vendor": "komo", "event_type": "CouponIssued"},
        headers={"Origin": service.url, "Sec-Fetch-Site": "same-origin"},
    )
    assert status == 202


def test_without_a_token_the_api_is_open_and_the_document_says_so(serve):
    service = serve()
    status, _accepted = service.json(
        "POST", "/api/events", {"vendor": "komo", "event_type": "CouponIssued"}, token=False
    )
    assert status == 202
    _, doc = service.json("GET", "/openapi.json", token=False)
    assert doc["paths"]["/api/events"]["post"]["security"] == []


def test_no_secret_appears_in_any_response_or_log(serve):
    secret = "Sink-Secret-0123456789"
    service = serve(token=TOKEN, env={"COUPON_EMULATOR_SINK_SECRET": secret})
    ids = []
    for slug, vendor in catalogue.VENDORS.items():
        _, accepted = service.json(
            "POST", "/api/events", {"vendor": slug, "event_type": vendor.event_types[0].name}
        )
        ids.append(accepted["delivery"]["id"])
    for delivery_id in ids:
        done = service.wait_for(
            f"/api/deliveries/{delivery_id}", lambda d: d["status"] != "pending"
        )
        assert done["status"] == "delivered", done  # the sink verified the secret's signature
    pages = [
        "/api/runs", "/api/deliveries", "/",
        *(f"/api/deliveries/{i}" for i in ids),
        *(f"/api/deliveries/{i}/attempts" for i in ids),
        *(f"/deliveries/{i}" for i in ids),
    ]  # fmt: skip
    seen = b"".join(service.request("GET", page)[2] for page in pages)
    assert b"[redacted]" in seen  # the signed headers are there, their secret parts are not
    for value in (secret, TOKEN):
        assert value.encode() not in seen
        assert value not in service.log.read_text()
    assert secret.encode() not in service.db.read_bytes()
