"""fabric.inc Offers: a `{specversion, type, tenantid, events[]}` envelope of thin events.

Seeds 001 (coupon, coupon-code events) and 003 (redemption events). Each event's ``data`` names the
object (``id``, or ``promotionId`` + ``couponCode``) and the ``callbackUrls`` a consumer calls for the
details; here those point at the emulator's own resources, which the service serves at
``/vendors/fabric/api-offers/coupons/{id}``, ``/api-offers/promotions/{promotionId}/coupon-codes/{code}``
and ``/api-offers/redemptions/{id}`` (one path for coupon and promotion redemptions, as fabric's
Redemptions API has one ``/redemptions/{id}`` resource). A coupon is a promotion in fabric's model,
so a coupon's code events carry the coupon's id as ``promotionId`` (our reading of the examples,
which use one id for both). Every coupon of one run belongs to one tenant.
"""

from __future__ import annotations

import copy
import random
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from emulator.core import values
from emulator.core.errors import BuildError
from emulator.core.frozen import evolve, make
from emulator.core.vendor import (
    Context,
    DeliveryProfile,
    Observation,
    RetryRule,
    Vendor,
    dig,
    text_or_none,
)
from emulator.vendors.fabric import scenario
from emulator.vendors.fabric.events import (
    _CODE,
    _COUPON,
    _COUPON_REDEMPTION,
    _PROMOTION_REDEMPTION,
    _SUMMARIES,
    EVENT_TYPES,
    SLUG,
)
from emulator.vendors.fabric.lifecycle import MACHINE
from emulator.vendors.fabric.resources import ROUTES

SPECVERSION = "v1"
SOURCE = "offers:business-layer"
# Overrides the run's tenant: ``Context(extras={TENANT_EXTRA: "63a1...30"})``.
TENANT_EXTRA = "fabric_tenant_id"

# A type fabric does not send, for checking that consumers acknowledge and ignore new types.
UNKNOWN_TYPE = "offers:coupon:archived"

# fabric documents "up to 3 times" after a failed delivery, and nothing about which failures count,
# the backoff, the timeout or the success codes: three retries on any failure is documented, the
# delays and everything in `unverified` are our choice.
PROFILE = DeliveryProfile(
    auth_types=("none", "api-key"),
    methods=("POST", "GET"),
    batching=True,
    timeout=15,
    retry=(RetryRule(on=("3xx", "4xx", "5xx", "timeout", "connection"), delays=(30, 120, 600)),),
    unverified=("retry delays", "retry on 3xx/4xx", "timeout", "success codes", "batch limits"),
)

_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


@dataclass(frozen=True)
class FabricCoupon:
    """One coupon of one tenant, its code, its latest redemption, and where its flags stand.

    ``enabled`` (enable/disable) and ``active`` (scheduled until activated) are independent, as in
    fabric; ``status`` is the ``data.status`` of the last event applied (what a consumer holds).
    """

    tenant_id: str
    coupon_id: str
    promotion_id: str
    coupon_code: str
    redemption_id: str | None = None
    redemption_kind: str | None = None  # "coupon" or "promotion"
    redemption_deleted: bool = False
    enabled: bool = True
    active: bool = False
    deleted: bool = False
    last_event: str | None = None
    status: str | None = None


class Fabric(Vendor):
    slug = SLUG
    title = "fabric Offers"
    event_types = EVENT_TYPES
    profile = PROFILE
    # Web-side facts: resources served, auth towards the built-in sink, precedence case.
    # The strongest auth fabric documents; no ordering rule (the event received last is held).
    resources = ROUTES
    sink_auth = MappingProxyType({"type": "api-key", "header": "x-api-key"})
    precedence = None
    machine = MACHINE
    planning_cost = 0.5  # benchmarks/planning.py (per CPU second): relative to komo's 1.0
    fixed_fields = scenario.FIXED_FIELDS
    # No shared_fields: fabric coupons belong to a merchant, not a shopper, so there are no users,
    # offers or sites to share.
    unknown_type = UNKNOWN_TYPE

    def new_coupon(self, ctx: Context) -> FabricCoupon:
        coupon_id = values.object_id(ctx.rng, ctx.now)
        return make(
            FabricCoupon,
            tenant_id=tenant_id(ctx),
            coupon_id=coupon_id,
            promotion_id=coupon_id,
            coupon_code=_coupon_code(ctx),
        )

    def apply(self, event_type: str, coupon: FabricCoupon, ctx: Context) -> FabricCoupon:
        status = _status(event_type)
        changes: dict[str, Any] = {"last_event": event_type, "status": status}
        kind = _KINDS[event_type]
        if kind is not None:
            # Lenient: an update or delete of a redemption never created gets one to refer to.
            fresh = (
                status == "CREATED"
                or coupon.redemption_id is None
                or coupon.redemption_kind != kind
            )
            redemption_id = values.object_id(ctx.rng, ctx.now) if fresh else coupon.redemption_id
            changes.update(
                redemption_id=redemption_id,
                redemption_kind=kind,
                redemption_deleted=status == "DELETED",
            )
        else:
            changes.update(_FLAGS[event_type])
        return evolve(coupon, **changes)

    def build(self, event_type: str, coupon: FabricCoupon, ctx: Context) -> dict[str, Any]:
        status = _status(event_type)
        data: dict[str, Any]
        if event_type.startswith(_CODE):
            data = {
                "eventName": "COUPON-CODE",
                "status": status,
                "promotionId": coupon.promotion_id,
                "couponCode": coupon.coupon_code,
                "callbackUrls": [ctx.link(SLUG, _code_path(coupon))],
            }
        elif event_type.startswith(_COUPON):
            data = {
                "eventName": "COUPON",
                "status": status,
                "id": coupon.coupon_id,
                "callbackUrls": [ctx.link(SLUG, f"api-offers/coupons/{coupon.coupon_id}")],
            }
        else:
            if coupon.redemption_id is None:
                raise BuildError(
                    f"fabric cannot build {event_type!r}: the coupon has no redemption yet; "
                    f"apply the event to the coupon first (Fabric().apply) so it gets one"
                )
            data = {
                "eventName": "REDEMPTION",
                "status": status,
                "id": coupon.redemption_id,
                "callbackUrls": [ctx.link(SLUG, f"api-offers/redemptions/{coupon.redemption_id}")],
            }
        event = {
            "id": values.uuid4(ctx.rng),
            "time": values.iso_millis(ctx.now),
            "source": SOURCE,
            "subject": None,
            "data": data,
        }
        # envelope() without its copy: the event is the body's own.
        return {
            "specversion": SPECVERSION,
            "type": event_type,
            "tenantid": coupon.tenant_id,
            "events": [event],
        }

    def dedupe_keys(self, body: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(str(event["id"]) for event in body["events"])

    def batch(self, bodies: Sequence[Mapping[str, Any]], *, owned: bool = False) -> dict[str, Any]:
        return merge(bodies, owned=owned)

    def observe(self, body: Mapping[str, Any]) -> tuple[Observation, ...]:
        # One observation per event of the envelope, every one of them typed by the envelope.
        # Coupon-code events name their coupon as promotionId; redemption events name only the
        # redemption. fabric documents no ordering: the event received last is the one held.
        kind = body.get("type")
        event_type = kind if kind in _SUMMARIES else None
        events = body.get("events")
        if not isinstance(events, list):
            return ()
        return tuple(
            Observation(
                event_type=event_type,
                key=text_or_none(event.get("id")),
                coupon_id=text_or_none(
                    dig(event, "data", "id") or dig(event, "data", "promotionId")
                ),
                status=text_or_none(dig(event, "data", "status")),
            )
            for event in events
            if isinstance(event, Mapping)
        )

    def with_unknown_type(self, body: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
        status = UNKNOWN_TYPE.rsplit(":", 1)[1].upper()
        events = [
            {**e, "id": values.uuid4(rng), "data": {**e["data"], "status": status}}
            for e in body["events"]
        ]
        return {**body, "type": UNKNOWN_TYPE, "events": events}

    def with_fixed(self, coupon: FabricCoupon, values: Mapping[str, Any]) -> FabricCoupon:
        return scenario.with_fixed(coupon, values)

    def fixed_extras(self, values: Mapping[str, Any]) -> Mapping[str, Any]:
        # A fixed tenant is the run's: every coupon of the flow, and the batches, carry it.
        return {TENANT_EXTRA: values["tenant_id"]} if "tenant_id" in values else {}


def envelope(
    event_type: str, tenant: str, events: Sequence[Mapping[str, Any]], *, owned: bool = False
) -> dict[str, Any]:
    """The wire body carrying ``events`` of one type for one tenant, keys in fabric's order; the
    events are copied unless ``owned`` (the caller gives them up)."""
    return {
        "specversion": SPECVERSION,
        "type": event_type,
        "tenantid": tenant,
        "events": list(events) if owned else [_copied(dict(e)) for e in events],
    }


def _copied(value: Any) -> Any:
    """A deep copy of JSON data, as ``copy.deepcopy`` makes it (which costs several times more);
    anything but dicts, lists and scalars goes to ``copy.deepcopy``."""
    kind = type(value)
    if kind is dict:
        return {k: _copied(v) for k, v in value.items()}
    if kind is list:
        return [_copied(v) for v in value]
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    return copy.deepcopy(value)


def merge(bodies: Sequence[Mapping[str, Any]], *, owned: bool = False) -> dict[str, Any]:
    """One envelope with every event of ``bodies``, which must share their ``type`` and tenant.

    Whether fabric mixes types in one envelope is undocumented; one type per envelope is the safe
    reading, since consumers dispatch on the envelope's ``type``.
    """
    if not bodies:
        raise BuildError("fabric cannot batch zero bodies; pass at least one built body")
    first = bodies[0]
    for index, body in enumerate(bodies[1:], start=1):
        for key in ("type", "tenantid"):
            if body[key] != first[key]:
                raise BuildError(
                    f"fabric batches share one {key!r}: body 0 has {first[key]!r}, body {index} "
                    f"has {body[key]!r}; batch each {key} separately"
                )
    events = [e for b in bodies for e in b["events"]]
    return envelope(first["type"], first["tenantid"], events, owned=owned)


def tenant_id(ctx: Context) -> str:
    """The run's tenant: ``ctx.extras[TENANT_EXTRA]``, else one drawn from the run's seed.

    Drawn from the seed rather than ``ctx.rng`` so every coupon of a run shares it (a batch holds
    one tenant) without taking a value out of the run's random stream.
    """
    given = ctx.extras.get(TENANT_EXTRA)
    if given is not None:
        if not isinstance(given, str) or not _OBJECT_ID.match(given):
            raise BuildError(f"{TENANT_EXTRA} must be 24 lowercase hex digits, got {given!r}")
        return given
    return _drawn_tenant(ctx.fake.seed)


@lru_cache(maxsize=64, typed=True)  # one per seed, asked for by every coupon of a run
def _drawn_tenant(seed: int) -> str:
    rng = random.Random(f"{SLUG}:tenant:{seed}")
    signed_up = values.EPOCH - timedelta(seconds=rng.randint(30 * 86400, 3 * 365 * 86400))
    return values.object_id(rng, signed_up)


def _status(event_type: str) -> str:
    status = _STATUSES.get(event_type)
    if status is None:
        raise BuildError(
            f"fabric has no event type {event_type!r}; valid types: {', '.join(_SUMMARIES)}"
        )
    return status


def _redemption_kind(event_type: str) -> str | None:
    if event_type.startswith(_COUPON_REDEMPTION):
        return "coupon"
    if event_type.startswith(_PROMOTION_REDEMPTION):
        return "promotion"
    return None


def _flags(event_type: str) -> dict[str, bool]:
    """The coupon flags an event type sets; coupon-code and redemption events leave them alone."""
    if not event_type.startswith(_COUPON):
        return {}
    action = event_type.removeprefix(_COUPON)
    if action == "created":
        return {"enabled": True, "active": False, "deleted": False}
    if action == "deleted":
        return {"deleted": True}
    if action in ("enabled", "disabled"):
        return {"enabled": action == "enabled"}
    if action in ("activated", "deactivated"):
        return {"active": action == "activated"}
    return {}


# Per event type, worked out once rather than on every event: the ``data.status`` (the name's last
# part), the redemption kind and the flags it sets.
_STATUSES = {name: name.rsplit(":", 1)[1].upper() for name in _SUMMARIES}
_KINDS = {name: _redemption_kind(name) for name in _SUMMARIES}
_FLAGS = {name: MappingProxyType(_flags(name)) for name in _SUMMARIES}


def _code_path(coupon: FabricCoupon) -> str:
    code = quote(coupon.coupon_code, safe="")
    return f"api-offers/promotions/{coupon.promotion_id}/coupon-codes/{code}"


def _coupon_code(ctx: Context) -> str:
    """A merchant-style code: ``ABC-123`` as in the examples, or one named after the offer."""
    rng = ctx.rng
    if rng.random() < 0.5:
        letters = values.code(rng, 3, string.ascii_uppercase)
        return f"{letters}-{values.code(rng, 3, string.digits)}"
    offer = ctx.fake.offer(rng)
    word = offer.product.upper().replace(" ", "")
    return f"{word}{offer.percent}-{values.code(rng, 4, _LETTERS_DIGITS)}"


_LETTERS_DIGITS = string.ascii_uppercase + string.digits
