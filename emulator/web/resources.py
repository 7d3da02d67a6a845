"""The vendor resources that payload links point at, in the state the coupon's events left it.

A resource is read back from the events that have happened (due, or attempted) about it, the last
in plan order winning, as the vendor's own API would answer after those events. Bodies that no
longer match their event type's schema (broken on purpose with overrides) are left out. Rebilly
bodies embed the resources whole; fabric's are thin, so its resources are our own small shape,
built by replaying the coupon's events through the fabric module.
"""

from __future__ import annotations

import json
import struct
import time
import zlib
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from flask import Blueprint, Response

from emulator.core import catalogue
from emulator.core.vendor import Context
from emulator.vendors import fabric
from emulator.web.problems import Problem
from emulator.web.state import current

PREFIX = "/vendors"
_TIME = {"type": "string", "format": "date-time"}
_STATUS = {"type": "string", "pattern": "^[A-Z]+$"}
_EVENT = {"type": "string", "pattern": "^offers:"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/rebilly.{name}"}


REBILLY_COUPON = _ref("coupon")
REBILLY_REDEMPTION = _ref("redemption")
REBILLY_CUSTOMER = _ref("customer")
FABRIC_COUPON = {
    "type": "object",
    "required": ["id", "tenantId", "status", "enabled", "active", "lastEvent", "updatedAt"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string"},
        "tenantId": {"type": "string"},
        "status": _STATUS,
        "enabled": {"type": "boolean"},
        "active": {"type": "boolean", "description": "scheduled coupons: activated"},
        "lastEvent": _EVENT,
        "updatedAt": _TIME,
    },
}
FABRIC_CODE = {
    "type": "object",
    "required": ["promotionId", "couponCode", "status", "lastEvent", "updatedAt"],
    "additionalProperties": False,
    "properties": {
        "promotionId": {"type": "string"},
        "couponCode": {"type": "string"},
        "status": _STATUS,
        "lastEvent": _EVENT,
        "updatedAt": _TIME,
    },
}
FABRIC_REDEMPTION = {
    "type": "object",
    "required": ["id", "kind", "status", "lastEvent", "updatedAt"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string"},
        "kind": {"enum": ["coupon", "promotion"]},
        "status": _STATUS,
        "lastEvent": _EVENT,
        "updatedAt": _TIME,
    },
}


def rebilly_components() -> dict[str, Any]:
    """Rebilly's shared schema definitions, as OpenAPI components named ``rebilly.<name>``."""
    from emulator.readers import schemas

    common = schemas.load("schemas/rebilly/common.json")
    return {f"rebilly.{k}": _rebase(v) for k, v in common["$defs"].items()}


def _rebase(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (
                v.replace("#/$defs/", "#/components/schemas/rebilly.")
                if k == "$ref"
                else _rebase(v)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


def blueprint() -> Blueprint:
    bp = Blueprint("vendor_resources", __name__, url_prefix=PREFIX)

    @bp.get("/rebilly/coupons/<coupon_id>")
    def rebilly_coupon(coupon_id: str) -> Any:
        return _rebilly("couponId", coupon_id, "coupon", "coupon")

    @bp.get("/rebilly/coupons-redemptions/<redemption_id>")
    def rebilly_redemption(redemption_id: str) -> Any:
        return _rebilly("redemptionId", redemption_id, "redemption", "coupon redemption")

    @bp.get("/rebilly/customers/<customer_id>")
    def rebilly_customer(customer_id: str) -> Any:
        return _rebilly("customerId", customer_id, "customer", "customer")

    @bp.get("/fabric/api-offers/coupons/<coupon_id>")
    def fabric_coupon(coupon_id: str) -> Any:
        return _fabric_coupon(coupon_id)

    @bp.get("/fabric/api-offers/promotions/<promotion_id>/coupon-codes/<code>")
    def fabric_code(promotion_id: str, code: str) -> Any:
        return _fabric_code(promotion_id, code)

    @bp.get("/fabric/api-offers/redemptions/<redemption_id>")
    def fabric_redemption(redemption_id: str) -> Any:
        return _fabric_redemption(redemption_id)

    @bp.get("/punchh/redeemables/<redeemable_id>/image.png")
    def punchh_image(redeemable_id: str) -> Response:
        known = redeemable_id.isascii() and redeemable_id.isdigit() and len(redeemable_id) < 20
        needle = f'"redeemable_id":{int(redeemable_id)}' if known else ""
        if not known or not any(current().queries.happened("punchh", needle, time.time())):
            raise _gone("punchh", "redeemable", redeemable_id)
        return Response(image(int(redeemable_id)), mimetype="image/png")

    return bp


def _events(vendor: str, needle: str, type_prefix: str = "") -> Iterator[tuple[str, dict]]:
    """(event type, body) of the vendor's happened events containing ``needle``, schema-valid."""
    from emulator.readers import schemas

    queries = current().queries
    for raw in queries.happened(vendor, needle, time.time(), type_prefix):
        try:
            body = json.loads(raw)
        except ValueError:
            continue
        event_type = _event_type(vendor, body)
        if event_type is None:
            continue
        et = catalogue.event_type(vendor, event_type)
        if not schemas.errors(et.schema_path, body):
            yield event_type, body


def _event_type(vendor: str, body: Mapping[str, Any]) -> str | None:
    name = body.get("eventType" if vendor == "rebilly" else "type")
    names = {et.name for et in catalogue.event_types(vendor)}
    return name if name in names else None


def _needle(key: str, value: str) -> str:
    return json.dumps(key) + ":" + json.dumps(value, ensure_ascii=False)


def _gone(vendor: str, what: str, ident: str, why: str = "") -> Problem:
    detail = f"no {vendor} {what} {ident!r} in any event that has happened"
    return Problem(404, "not-found", why or detail)


# Rebilly: the embedded resource of the latest event naming it


def _rebilly(field: str, ident: str, embedded: str, what: str) -> Any:
    found = None
    for _, body in _events("rebilly", _needle(field, ident)):
        if body.get(field) == ident and isinstance(body["_embedded"].get(embedded), dict):
            found = body["_embedded"][embedded]
    if found is None:
        raise _gone("rebilly", what, ident)
    return found


# fabric: our shape of the coupon, code and redemption, from the events' order


def _data(body: Mapping[str, Any], key: str, value: str) -> Iterator[tuple[str, dict]]:
    for event in body["events"]:
        if event["data"].get(key) == value:
            yield event["time"], event["data"]


def _fabric_coupon(coupon_id: str) -> Any:
    coupon, last, at = None, "", ""
    replay = Context.from_seed(0)  # a coupon event's flags draw no randomness: any seed will do
    for event_type, body in _events("fabric", _needle("id", coupon_id), "offers:coupon:"):
        for when, _ in _data(body, "id", coupon_id):
            if coupon is None:
                coupon = fabric.FabricCoupon(body["tenantid"], coupon_id, coupon_id, "")
            coupon = fabric.Fabric().apply(event_type, coupon, replay)
            last, at = event_type, when
    if coupon is None:
        raise _gone("fabric", "coupon", coupon_id)
    if coupon.deleted:
        raise _gone("fabric", "coupon", coupon_id, f"fabric coupon {coupon_id!r} was deleted")
    return {
        "id": coupon.coupon_id,
        "tenantId": coupon.tenant_id,
        "status": coupon.status,
        "enabled": coupon.enabled,
        "active": coupon.active,
        "lastEvent": last,
        "updatedAt": at,
    }


def _fabric_code(promotion_id: str, code: str) -> Any:
    found = None
    for event_type, body in _events("fabric", _needle("couponCode", code), "offers:couponCode:"):
        for when, data in _data(body, "couponCode", code):
            if data.get("promotionId") == promotion_id:
                found = (event_type, when, data["status"])
    if found is None:
        raise _gone("fabric", "coupon code", f"{promotion_id}/{code}")
    try:
        _fabric_coupon(promotion_id)
    except Problem as exc:
        if "deleted" in exc.detail:  # a deleted coupon's codes go with it
            raise _gone("fabric", "coupon code", code, exc.detail) from None
    event_type, when, status = found
    return {
        "promotionId": promotion_id,
        "couponCode": code,
        "status": status,
        "lastEvent": event_type,
        "updatedAt": when,
    }


def _fabric_redemption(redemption_id: str) -> Any:
    found = None
    for event_type, body in _events("fabric", _needle("id", redemption_id), "offers:redemption:"):
        for when, data in _data(body, "id", redemption_id):
            found = (event_type, when, data["status"])
    if found is None:
        raise _gone("fabric", "redemption", redemption_id)
    event_type, when, status = found
    if status == "DELETED":
        raise _gone("fabric", "redemption", redemption_id,
                    f"fabric redemption {redemption_id!r} was deleted")  # fmt: skip
    return {
        "id": redemption_id,
        "kind": event_type.split(":")[2],
        "status": status,
        "lastEvent": event_type,
        "updatedAt": when,
    }


# Punchh: a redeemable's image


@cache
def image(seed: int, size: int = 32) -> bytes:
    """A small solid-colour PNG, its colour taken from ``seed``: a stand-in for a menu picture."""
    rgb = bytes(((seed >> 16) & 0xFF, (seed >> 8) & 0xFF, seed & 0xFF))
    rows = b"".join(b"\x00" + rgb * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
