"""PAR Punchh ("Webhooks manager"): one JSON envelope per event, the coupon in its ``payload``.

Seed 004 and developers.partech.com (meta fields, coupon issuance pages, webhook delivery). Punchh has
no single type string, so the catalogue names the four kinds of coupon event; ``coupon-void`` is
inferred: Punchh documents the ``void`` status but not how a void is delivered.

Here: the envelope, profile and reading of a body; ``events`` (names), ``model`` (the coupon),
``draw`` (new coupons, redemptions), ``payload`` (its wire shape), ``lifecycle``, ``scenario``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from emulator.core import values
from emulator.core.errors import BuildError
from emulator.core.fakedata import Person
from emulator.core.frozen import evolve
from emulator.core.vendor import (
    CircuitBreaker,
    Context,
    DeliveryProfile,
    Observation,
    RetryRule,
    Story,
    Vendor,
    dig,
    single,
    text_or_none,
)
from emulator.vendors.punchh import draw, scenario
from emulator.vendors.punchh.events import DISCOUNT, EVENT_TYPES, REDEMPTION, SLUG, UNLOCK, VOID
from emulator.vendors.punchh.lifecycle import MACHINE
from emulator.vendors.punchh.model import PunchhCoupon
from emulator.vendors.punchh.payload import payload
from emulator.vendors.punchh.resources import ROUTES

# (status, event_name, action) per event type. A void's delivery is undocumented: we send it the way
# Punchh announces other changes to a record, as an `update` of the `coupons` event (VENDORS.md).
_WIRE = {
    UNLOCK: ("issued", "coupons", "create"),
    DISCOUNT: ("issued", "coupons", "create"),
    REDEMPTION: ("honored", "user_coupon_redemptions", "create"),
    VOID: ("void", "coupons", "update"),
}

# Punchh names no type on the wire: an unknown type is an action on coupons it does not send (yet),
# for checking that consumers acknowledge and ignore it.
UNKNOWN_ACTION = "delete"
UNKNOWN_TYPE = "coupon-delete"

# Documented (webhook delivery and configuration pages): success is 200 or 202 only, 15 s limit, the
# 429/408 ladder, the 5xx ladder, 3xx never retried, GET verification. Our choice (unverified):
# connection errors are retried like timeouts, and 4xx other than 408/429 are not retried.
PROFILE = DeliveryProfile(
    auth_types=("none", "basic", "bearer", "hmac-sha1", "hmac-sha256"),
    retry=(
        RetryRule(on=("429", "408", "timeout", "connection"), delays=(15, 45, 180)),
        RetryRule(on=("5xx",), delays=(60, 120, 300, 600, 1800, 3600, 7200)),
        RetryRule(on=("3xx", "4xx"), delays=()),
    ),
    timeout=15,
    success=(200, 202),
    verification_get=True,
    # "After more than 1000 failures the webhook is suspended, pinged at 5 and 10 min then every
    # 2 h for 6 tries, then deactivated." Our reading (unverified): failures in a row, reset by a
    # success; eight pings in all; deliveries wait while it is suspended.
    circuit_breaker=CircuitBreaker(failures=1000, pings=(300, 300, *(7200,) * 6)),
    unverified=(
        "retry on connection errors",
        "no retry on other 4xx",
        "circuit breaker: failures counted in a row, deliveries held while suspended",
    ),
    # Punchh writes its Authorization schemes in lowercase.
    auth_defaults={"basic": {"scheme": "basic"}, "bearer": {"scheme": "bearer"}},
    # The meta-field page says milliseconds, yet every coupon example shows seconds (VENDORS.md).
    timestamp_units=("s", "ms"),
)


# Punchh dedupes on content_id: two events about one coupon are two events (VENDORS.md).
STORIES = MappingProxyType(
    {
        "applies-distinct-events": Story(
            "applies two events about one coupon (different content_id) as two events",
            ((DISCOUNT, 0), (REDEMPTION, 30)),
            (0, 1),
            "developers.partech.com Webhooks manager, Meta Fields: content_id identifies the "
            "message; seed 004",
            all_applied=True,
        ),
    }
)


class Punchh(Vendor):
    slug = SLUG
    title = "PAR Punchh"
    event_types = EVENT_TYPES
    profile = PROFILE
    # Web-side facts: resources served, auth towards the built-in sink, precedence case.
    # The strongest auth Punchh documents; the timestamp orders events, so an unlock arriving after
    # the void must not win.
    resources = ROUTES
    sink_auth = MappingProxyType({"type": "hmac-sha256"})
    precedence = ((UNLOCK, 0), (VOID, 60))
    stories = STORIES
    machine = MACHINE
    planning_cost = 1.9  # benchmarks/planning.py (per CPU second): relative to komo's 1.0
    fixed_fields = scenario.FIXED_FIELDS
    shared_fields = scenario.SHARED_FIELDS
    unknown_type = UNKNOWN_TYPE

    def new_coupon(self, ctx: Context) -> PunchhCoupon:
        return draw.new_coupon(ctx)

    def apply(self, event_type: str, coupon: PunchhCoupon, ctx: Context) -> PunchhCoupon:
        if event_type not in _WIRE:
            raise BuildError(f"punchh has no event type {event_type!r}")
        now = values.whole_second(ctx.now)
        status = _WIRE[event_type][0]
        if event_type in (UNLOCK, DISCOUNT):
            # Issuance makes a fresh, unredeemed coupon of the announced type.
            kind = "unlock" if event_type == UNLOCK else "discount"
            return evolve(
                coupon,
                **draw.UNREDEEMED,
                coupon_type=kind,
                status=status,
                created_at=now,
                updated_at=now,
            )
        if event_type == VOID:
            return evolve(coupon, status=status, updated_at=now)
        return draw.redeem(coupon, ctx, now)

    def build(self, event_type: str, coupon: PunchhCoupon, ctx: Context) -> dict[str, Any]:
        if event_type not in _WIRE:
            raise BuildError(f"punchh has no event type {event_type!r}")
        _, event_name, action = _WIRE[event_type]
        # The meta-field page says milliseconds, yet every coupon example shows seconds: seconds by
        # default, milliseconds when a run asks for them.
        if ctx.extras.get("timestamp_unit") == "ms":
            timestamp = values.epoch_millis(ctx.now)
        else:
            timestamp = values.epoch_seconds(ctx.now)
        return {
            "content_id": values.uuid4(ctx.rng),
            "timestamp": timestamp,
            "business_id": coupon.business_id,
            "business_uuid": coupon.business_uuid,
            "business_slug": coupon.business_slug,
            "event_name": event_name,
            "event_type": "",  # documented as an empty string, never null
            "action": action,
            "payload": payload(coupon),
        }

    def dedupe_keys(self, body: Mapping[str, Any]) -> tuple[str, ...]:
        return (str(body["content_id"]),)

    def batch(self, bodies: Sequence[Mapping[str, Any]], *, owned: bool = False) -> dict[str, Any]:
        return single(SLUG, bodies)

    def observe(self, body: Mapping[str, Any]) -> tuple[Observation, ...]:
        # Punchh guarantees no order: the timestamp decides, so an event older than the one held
        # must not replace it. Seconds by default, milliseconds allowed: both become seconds.
        timestamp = body.get("timestamp")
        order = None
        if isinstance(timestamp, int | float) and not isinstance(timestamp, bool):
            order = timestamp / 1000 if timestamp >= _MILLIS_FROM else timestamp
        return (
            Observation(
                event_type=_event_type(body),
                key=text_or_none(body.get("content_id")),
                coupon_id=text_or_none(dig(body, "payload", "coupon_id")),
                status=text_or_none(dig(body, "payload", "status")),
                order=order,
            ),
        )

    def with_unknown_type(self, body: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
        return {**body, "content_id": values.uuid4(rng), "action": UNKNOWN_ACTION}

    def with_fixed(self, coupon: PunchhCoupon, values: Mapping[str, Any]) -> PunchhCoupon:
        return scenario.with_fixed(coupon, values)

    def fixed_conflict(self, values: Mapping[str, Any], events: set[str]) -> tuple[str, str] | None:
        return scenario.fixed_conflict(values, events)

    def as_person(self, coupon: PunchhCoupon, person: Person) -> PunchhCoupon:
        return scenario.as_person(coupon, person)


# An epoch this large is in milliseconds: in seconds it would be past the year 5000.
_MILLIS_FROM = 10**11


def _event_type(body: Mapping[str, Any]) -> str | None:
    """The catalogue name of a body, from its event name, action and payload (see ``_WIRE``)."""
    wire = (dig(body, "payload", "status"), body.get("event_name"), body.get("action"))
    for name, expected in _WIRE.items():
        if wire == expected:
            if name in (UNLOCK, DISCOUNT):
                kind = "unlock" if name == UNLOCK else "discount"
                if dig(body, "payload", "coupon_type") != kind:
                    continue
            return name
    return None
