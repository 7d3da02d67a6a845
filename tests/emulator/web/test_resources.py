"""The vendor resources payload links point at answer, in the state the coupon's events left it."""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
import zlib

import pytest

from emulator.core import catalogue
from emulator.readers import schemas
from emulator.vendors.punchh import resources

EVERY_HOUR = """\
events:
  - {vendor: rebilly, event: coupon-issued, count: 2, every: 3600}
"""


def _trigger(service, vendor, event_type, overrides=None):
    request = {"vendor": vendor, "event_type": event_type}
    if overrides:
        request["overrides"] = overrides
    status, accepted = service.json("POST", "/api/events", request)
    assert status == 202, accepted
    assert accepted["schema_errors"] == []
    _, body = service.json("GET", f"/api/deliveries/{accepted['delivery']['id']}/body")
    return body


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_every_rebilly_link_answers_with_the_embedded_resource(service):
    body = _trigger(service, "rebilly", "coupon-redeemed")
    links = {link["rel"]: link["href"] for link in body["_links"]}
    assert set(links) == {"coupon", "redemption", "customer"}
    for rel, embedded in (("coupon", "coupon"), ("redemption", "redemption"),
                          ("customer", "customer")):  # fmt: skip
        status, kind, data = _get(links[rel])
        assert (status, kind) == (200, "application/json")
        assert json.loads(data) == body["_embedded"][embedded]


def test_the_rebilly_coupon_follows_its_lifecycle(service):
    issued = _trigger(service, "rebilly", "coupon-issued")
    coupon_id = issued["couponId"]
    href = issued["_links"][0]["href"]
    assert json.loads(_get(href)[2])["status"] == "issued"
    # The same coupon expires: a later event about it (its id patched in) moves the resource on.
    expired = _trigger(
        service, "rebilly", "coupon-expired",
        {"couponId": coupon_id, "_embedded": {"coupon": {"id": coupon_id}}},
    )  # fmt: skip
    now = json.loads(_get(href)[2])
    assert now["status"] == "expired"
    assert now["revision"] == expired["_embedded"]["coupon"]["revision"] == 1


def test_an_event_that_has_not_happened_yet_is_not_part_of_the_state(service):
    status, accepted = service.json("POST", "/api/runs", {"yaml": EVERY_HOUR, "time_scale": 1})
    assert status == 202
    # The run is accepted before its plan is stored: wait for both deliveries.
    page = service.wait_for(
        f"/api/deliveries?run={accepted['run']['id']}", lambda p: len(p["items"]) == 2
    )
    later, first = page["items"]  # newest first: the second is due in an hour
    links = []
    for item in (first, later):
        _, body = service.json("GET", f"/api/deliveries/{item['id']}/body")
        links.append(body["_links"][0]["href"])
    service.wait_for(f"/api/deliveries/{first['id']}", lambda d: d["status"] == "delivered")
    assert _get(links[0])[0] == 200
    assert _get(links[1])[0] == 404


def test_the_fabric_coupon_follows_enable_disable_and_delete(service):
    created = _trigger(service, "fabric", "offers:coupon:created")
    event = created["events"][0]
    coupon_id, url = event["data"]["id"], event["data"]["callbackUrls"][0]
    status, _, data = _get(url)
    assert status == 200
    assert json.loads(data) | {"updatedAt": None} == {
        "id": coupon_id, "tenantId": created["tenantid"], "status": "CREATED",
        "enabled": True, "active": False, "lastEvent": "offers:coupon:created", "updatedAt": None,
    }  # fmt: skip

    def about_this_coupon(status):
        data = {**event["data"], "status": status}
        return {"events": [{**event, "id": str(uuid.uuid4()), "data": data}]}

    _trigger(service, "fabric", "offers:coupon:disabled", about_this_coupon("DISABLED"))
    now = json.loads(_get(url)[2])
    assert (now["enabled"], now["status"], now["lastEvent"]) == (
        False, "DISABLED", "offers:coupon:disabled"
    )  # fmt: skip
    _trigger(service, "fabric", "offers:coupon:deleted", about_this_coupon("DELETED"))
    status, kind, data = _get(url)
    assert (status, kind) == (404, "application/problem+json")
    assert "deleted" in json.loads(data)["detail"]


@pytest.mark.parametrize(
    "event_type",
    ["offers:couponCode:created", "offers:redemption:coupon:created",
     "offers:redemption:promotion:updated"],
)  # fmt: skip
def test_every_fabric_callback_url_answers(service, event_type):
    body = _trigger(service, "fabric", event_type)
    data = body["events"][0]["data"]
    status, kind, answer = _get(data["callbackUrls"][0])
    assert (status, kind) == (200, "application/json"), answer
    resource = json.loads(answer)
    assert resource["status"] == data["status"]
    assert resource["lastEvent"] == event_type


def test_the_punchh_redeemable_image_is_a_png(service):
    body = _trigger(service, "punchh", "coupon-issuance-unlock")
    status, kind, data = _get(body["payload"]["redeemable"]["redeemable_image_url"])
    assert (status, kind) == (200, "image/png")
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"


@pytest.mark.parametrize(
    "path",
    [
        "/vendors/rebilly/coupons/cpn_unknown",
        "/vendors/rebilly/customers/cus_unknown",
        "/vendors/fabric/api-offers/coupons/000000000000000000000000",
        "/vendors/fabric/api-offers/promotions/x/coupon-codes/NOPE",
        "/vendors/punchh/redeemables/12/image.png",
        "/vendors/punchh/redeemables/abc/image.png",
    ],
)
def test_unknown_resources_are_404_problems(service, path):
    status, headers, data = service.request("GET", path, token=False)
    assert status == 404
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(data)["status"] == 404


def test_the_image_is_a_valid_png_of_the_seed_colour():
    data = resources.image(0x123456, size=4)
    idat = data[data.index(b"IDAT") + 4 :]
    rows = zlib.decompress(idat[: data.index(b"IEND") - data.index(b"IDAT") - 8])
    assert rows == (b"\x00" + b"\x12\x34\x56" * 4) * 4


def _strings(node):
    if isinstance(node, dict):
        node = list(node.values())
    if isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def _pattern(route):
    return re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(route.path)) + "$")


@pytest.mark.parametrize("slug", list(catalogue.VENDORS))
def test_every_link_is_a_declared_resource_that_answers_as_declared(service, slug):
    """Every link of every event type points at a route the vendor declares; each route answers
    200 at least once, in its media type and valid under its schema, or 404 once deleted."""
    vendor = catalogue.vendor(slug)
    routes = [(route, _pattern(route)) for route in vendor.resources]
    base = f"{service.url}/vendors/{slug}/"
    answered = set()
    for et in vendor.event_types:
        body = _trigger(service, slug, et.name)
        for link in (s for s in _strings(body) if s.startswith(base)):
            path = link.removeprefix(base)
            matching = [route for route, pattern in routes if pattern.match(path)]
            assert len(matching) == 1, f"{et.name}: {link} matches {len(matching)} declared routes"
            (route,) = matching
            status, kind, data = _get(link)
            if status == 404:  # deleted in its lifecycle (this very event may delete it)
                assert kind == "application/problem+json", (et.name, link)
                continue
            assert (status, kind) == (200, route.media_type), (et.name, link, data[:200])
            if route.schema is not None:
                assert schemas.errors_in(route.schema, json.loads(data)) == [], (et.name, link)
            answered.add(route.path)
    assert answered == {route.path for route in vendor.resources}
