"""fabric's resources, where the events' ``callbackUrls`` point: a coupon, a coupon code, a redemption.

fabric's events are thin (an id and a status), so these are our own small shapes, built from the
events that have happened in their order: the coupon's flags by replaying its events through
``Fabric.apply``, a code and a redemption from the status of the latest event naming them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from emulator.core.errors import ResourceGone
from emulator.core.resources import History, ResourceRoute, needle, unseen
from emulator.core.vendor import Context

_TIME = {"type": "string", "format": "date-time"}
_STATUS = {"type": "string", "pattern": "^[A-Z]+$"}
_EVENT = {"type": "string", "pattern": "^offers:"}

COUPON = {
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
CODE = {
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
REDEMPTION = {
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


def _data(body: Mapping[str, Any], key: str, value: str) -> Iterator[tuple[str, dict]]:
    """(time, data) of each event of an envelope whose ``data[key]`` is ``value``."""
    for event in body["events"]:
        if event["data"].get(key) == value:
            yield event["time"], event["data"]


def _replayed(coupon_id: str, history: History) -> tuple[Any, str, str] | None:
    """The coupon after every coupon event about it, its last event and that event's time."""
    # The package imports this module for the vendor's routes, so it is imported here, on use.
    from emulator.vendors.fabric import Fabric, FabricCoupon

    coupon, last, at = None, "", ""
    replay = Context.from_seed(0)  # a coupon event's flags draw no randomness: any seed will do
    for event_type, body in history(needle("id", coupon_id), "offers:coupon:"):
        for when, _ in _data(body, "id", coupon_id):
            if coupon is None:
                coupon = FabricCoupon(body["tenantid"], coupon_id, coupon_id, "")
            coupon = Fabric().apply(event_type, coupon, replay)
            last, at = event_type, when
    return None if coupon is None else (coupon, last, at)


def _deleted(coupon_id: str) -> ResourceGone:
    return ResourceGone(f"fabric coupon {coupon_id!r} was deleted")


def coupon(params: Mapping[str, str], history: History) -> dict[str, Any]:
    coupon_id = params["coupon_id"]
    replayed = _replayed(coupon_id, history)
    if replayed is None:
        raise unseen("fabric", "coupon", coupon_id)
    state, last, at = replayed
    if state.deleted:
        raise _deleted(coupon_id)
    return {
        "id": state.coupon_id,
        "tenantId": state.tenant_id,
        "status": state.status,
        "enabled": state.enabled,
        "active": state.active,
        "lastEvent": last,
        "updatedAt": at,
    }


def code(params: Mapping[str, str], history: History) -> dict[str, Any]:
    promotion_id, code = params["promotion_id"], params["code"]
    found = None
    for event_type, body in history(needle("couponCode", code), "offers:couponCode:"):
        for when, data in _data(body, "couponCode", code):
            if data.get("promotionId") == promotion_id:
                found = (event_type, when, data["status"])
    if found is None:
        raise unseen("fabric", "coupon code", f"{promotion_id}/{code}")
    replayed = _replayed(promotion_id, history)
    if replayed is not None and replayed[0].deleted:  # a deleted coupon's codes go with it
        raise _deleted(promotion_id)
    event_type, when, status = found
    return {
        "promotionId": promotion_id,
        "couponCode": code,
        "status": status,
        "lastEvent": event_type,
        "updatedAt": when,
    }


def redemption(params: Mapping[str, str], history: History) -> dict[str, Any]:
    redemption_id = params["redemption_id"]
    found = None
    for event_type, body in history(needle("id", redemption_id), "offers:redemption:"):
        for when, data in _data(body, "id", redemption_id):
            found = (event_type, when, data["status"])
    if found is None:
        raise unseen("fabric", "redemption", redemption_id)
    event_type, when, status = found
    if status == "DELETED":
        raise ResourceGone(f"fabric redemption {redemption_id!r} was deleted")
    return {
        "id": redemption_id,
        "kind": event_type.split(":")[2],
        "status": status,
        "lastEvent": event_type,
        "updatedAt": when,
    }


ROUTES = (
    ResourceRoute(
        "api-offers/coupons/{coupon_id}", "a fabric coupon in its current state", coupon, COUPON
    ),
    ResourceRoute(
        "api-offers/promotions/{promotion_id}/coupon-codes/{code}",
        "a fabric coupon code",
        code,
        CODE,
    ),
    ResourceRoute(
        "api-offers/redemptions/{redemption_id}", "a fabric redemption", redemption, REDEMPTION
    ),
)
