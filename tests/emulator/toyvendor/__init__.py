"""A toy vendor outside the project, as a user would write a private one: Komo-like flat bodies,
two event types, its schemas in ``schemas/`` beside this module. ``test_fifth_vendor`` names it in
``COUPON_EMULATOR_VENDORS`` as ``tests.emulator.toyvendor:Toy``; nothing in the project names it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from emulator.core import values
from emulator.core.errors import BuildError
from emulator.core.lifecycle import Machine
from emulator.core.vendor import (
    Context,
    DeliveryProfile,
    EventType,
    FixedField,
    Observation,
    RetryRule,
    Vendor,
    single,
    text_or_none,
)

SLUG = "toy"
ISSUED = "ToyIssued"
REDEEMED = "ToyRedeemed"
EVENT_TYPES = (
    EventType(SLUG, ISSUED, "a toy coupon is issued", f"{ISSUED}.json"),
    EventType(SLUG, REDEEMED, "a toy coupon is redeemed", f"{REDEEMED}.json"),
)
_STATUS = {ISSUED: "issued", REDEEMED: "redeemed"}
_NEXT = MappingProxyType({"new": {ISSUED: "issued"}, "issued": {REDEEMED: "redeemed"}})


@dataclass(frozen=True)
class ToyCoupon:
    coupon_id: str
    code: str
    status: str = "new"


class Toy(Vendor):
    slug = SLUG
    title = "Toy Coupons"
    event_types = EVENT_TYPES
    profile = DeliveryProfile(
        auth_types=("none", "api-key"),
        retry=(
            RetryRule(on=("3xx", "4xx"), delays=()),
            RetryRule(on=("5xx", "timeout", "connection"), delays=(5, 30)),
        ),
        timeout=10,
    )
    machine = Machine(
        SLUG, "new", (ISSUED, REDEEMED), lambda state, event: _NEXT.get(state, {}).get(event), str
    )
    fixed_fields = MappingProxyType(
        {
            "coupon_id": FixedField("uuid", unique=True),
            "code": FixedField("text", help="e.g. TOY-{n}"),
        }
    )

    def new_coupon(self, ctx: Context) -> ToyCoupon:
        return ToyCoupon(values.uuid4(ctx.rng), values.code(ctx.rng, 8))

    def apply(self, event_type: str, coupon: ToyCoupon, ctx: Context) -> ToyCoupon:
        if event_type not in _STATUS:
            raise BuildError(f"toy has no event type {event_type!r}")
        return replace(coupon, status=_STATUS[event_type])

    def build(self, event_type: str, coupon: ToyCoupon, ctx: Context) -> dict[str, Any]:
        if event_type not in _STATUS:
            raise BuildError(f"toy has no event type {event_type!r}")
        return {
            "id": values.uuid4(ctx.rng),
            "event": event_type,
            "timestamp": values.iso_millis(ctx.now),
            "coupon_id": coupon.coupon_id,
            "code": coupon.code,
        }

    def dedupe_keys(self, body: Mapping[str, Any]) -> tuple[str, ...]:
        return (str(body["id"]),)

    def batch(self, bodies: Sequence[Mapping[str, Any]], *, owned: bool = False) -> dict[str, Any]:
        return single(SLUG, bodies)

    def observe(self, body: Mapping[str, Any]) -> tuple[Observation, ...]:
        event = body.get("event")
        return (
            Observation(
                event_type=event if event in _STATUS else None,
                key=text_or_none(body.get("id")),
                coupon_id=text_or_none(body.get("coupon_id")),
                status=event if isinstance(event, str) else None,
            ),
        )

    unknown_type = "ToyTransferred"

    def with_unknown_type(self, body: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
        return {**body, "event": self.unknown_type, "id": values.uuid4(rng)}
