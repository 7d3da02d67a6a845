"""Komo ("legacy webhook events"): one flat JSON object per coupon event.

Seed 000. Every event carries ``id``, ``event``, ``timestamp``, the site, the session and the coupon;
each captured user attribute arrives as its own top-level key (keys may contain spaces). The doc
types ``coupon_code`` as Number but shows a string, so coupons carry either.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from emulator.core import values
from emulator.core.errors import BuildError
from emulator.core.fakedata import Person
from emulator.core.frozen import evolve
from emulator.core.vendor import (
    Context,
    DeliveryProfile,
    Observation,
    RetryRule,
    Vendor,
    single,
    text_or_none,
)
from emulator.vendors.komo import scenario
from emulator.vendors.komo.events import EVENT_TYPES, FAILED, ISSUED, REDEEMED, SLUG, VIEWED
from emulator.vendors.komo.lifecycle import MACHINE

# A type Komo does not send (yet), for checking that consumers acknowledge and ignore new types.
UNKNOWN_TYPE = "CouponExpired"

# The state a coupon is in once each event has happened.
_STATUS = {ISSUED: "issued", VIEWED: "viewed", REDEEMED: "redeemed", FAILED: "redemption-failed"}

# Attribute keys as a Komo hub captures them: profile attributes when the user signed in, else
# session attributes. Deliberately human-looking keys, spaces included.
_PROFILE_ATTRIBUTES = ("First name", "Last name", "Email", "Date of birth", "Postcode")
_SESSION_ATTRIBUTES = ("utm_source", "Preferred store", "Marketing opt-in")


@dataclass(frozen=True)
class KomoCoupon:
    """One coupon as Komo knows it: who holds it, on which site, from which offer."""

    site_id: str
    site_name: str
    offer_id: str
    offer_name: str
    coupon_id: str
    coupon_code: str | int | None
    competition_entry_id: str | None
    user_session_id: str
    user_profile_id: str | None
    attributes: tuple[tuple[str, Any], ...]
    coupon_location: str
    status: str = "new"
    redemption_error: str | None = None


# Komo documents no auth, retries or timeout: every value here is our choice (VENDORS.md).
PROFILE = DeliveryProfile(
    auth_types=("none", "bearer", "api-key"),
    retry=(
        RetryRule(on=("3xx", "4xx"), delays=()),
        RetryRule(on=("5xx", "429", "408", "timeout", "connection"), delays=(10, 60, 300)),
    ),
    timeout=15,
    unverified=("auth_types", "retry", "timeout", "success"),
)


class Komo(Vendor):
    slug = SLUG
    title = "Komo"
    event_types = EVENT_TYPES
    profile = PROFILE
    # Web-side facts: resources served, auth towards the built-in sink, precedence case.
    # Komo documents no auth (its auth types are our choice), so none towards the sink; no resources
    # and no ordering rule.
    resources = ()
    sink_auth = MappingProxyType({"type": "none"})
    precedence = None
    machine = MACHINE
    planning_cost = 1.0  # the unit (benchmarks/planning.py, per CPU second)
    fixed_fields = scenario.FIXED_FIELDS
    shared_fields = scenario.SHARED_FIELDS
    unknown_type = UNKNOWN_TYPE
    # Each captured user attribute is a top-level key of the hub's choosing (seed 000).
    open_keys = ()

    def new_coupon(self, ctx: Context) -> KomoCoupon:
        rng, fake = ctx.rng, ctx.fake
        person = fake.person(rng)
        signed_in = rng.random() < 0.6
        if signed_in:
            attributes = dict(
                zip(
                    _PROFILE_ATTRIBUTES,
                    (
                        person.first_name,
                        person.last_name,
                        person.email,
                        person.birthday,
                        person.postcode,
                    ),
                    strict=True,
                )
            )
        else:
            attributes = {
                "utm_source": values.choice(rng, ("instagram", "newsletter", "qr-code", "google")),
                "Preferred store": person.city,
                "Marketing opt-in": rng.random() < 0.5,
            }
        # Komo documents coupon_code as a Number yet shows a string: emit both shapes.
        digits = values.code(rng, values.choice(rng, (5, 6, 8)), alphabet="123456789")
        coupon_code: str | int | None = digits if rng.random() < 0.75 else int(digits)
        if rng.random() < 0.1:
            coupon_code = None
        return KomoCoupon(
            site_id=values.uuid4(rng),
            site_name=fake.site_name(rng),
            offer_id=values.uuid4(rng),
            offer_name=fake.offer(rng).name,
            coupon_id=values.uuid4(rng),
            coupon_code=coupon_code,
            competition_entry_id=values.uuid4(rng) if rng.random() < 0.3 else None,
            user_session_id=values.uuid4(rng),
            user_profile_id=values.uuid4(rng) if signed_in else None,
            attributes=tuple(attributes.items()),
            coupon_location=fake.location(rng),
        )

    def apply(self, event_type: str, coupon: KomoCoupon, ctx: Context) -> KomoCoupon:
        try:
            status = _STATUS[event_type]
        except KeyError:
            raise BuildError(f"komo has no event type {event_type!r}") from None
        error = ctx.fake.redemption_error(ctx.rng) if event_type == FAILED else None
        return evolve(coupon, status=status, redemption_error=error)

    def build(self, event_type: str, coupon: KomoCoupon, ctx: Context) -> dict[str, Any]:
        if event_type not in _STATUS:
            raise BuildError(f"komo has no event type {event_type!r}")
        body: dict[str, Any] = {
            "id": values.uuid4(ctx.rng),
            "event": event_type,
            "timestamp": values.iso_millis(ctx.now),
            "site_id": coupon.site_id,
            "site_name": coupon.site_name,
        }
        # Field order follows the vendor's examples: issue and view put the coupon before the
        # session; the redemption events put the session (and attributes) first.
        if event_type in (ISSUED, VIEWED):
            body.update(_coupon_fields(coupon))
            body.update(_session_fields(coupon))
        else:
            body.update(_session_fields(coupon))
            body.update(_coupon_fields(coupon))
            body["coupon_location"] = coupon.coupon_location
            if event_type == FAILED:
                body["coupon_redemption_error"] = coupon.redemption_error or "Already redeemed"
        return body

    def dedupe_keys(self, body: Mapping[str, Any]) -> tuple[str, ...]:
        return (str(body["id"]),)

    def batch(self, bodies: Sequence[Mapping[str, Any]], *, owned: bool = False) -> dict[str, Any]:
        return single(SLUG, bodies)

    def observe(self, body: Mapping[str, Any]) -> tuple[Observation, ...]:
        # Komo documents no ordering: the event received last is the one a consumer holds.
        event = body.get("event")
        return (
            Observation(
                event_type=event if event in _STATUS else None,
                key=text_or_none(body.get("id")),
                coupon_id=text_or_none(body.get("coupon_id")),
                status=event if isinstance(event, str) else None,
            ),
        )

    def with_unknown_type(self, body: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
        return {**body, "event": UNKNOWN_TYPE, "id": values.uuid4(rng)}

    def as_person(self, coupon: KomoCoupon, person: Person) -> KomoCoupon:
        return scenario.as_person(coupon, person)


def _coupon_fields(coupon: KomoCoupon) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "offer_id": coupon.offer_id,
        "coupon_id": coupon.coupon_id,
        "offer_name": coupon.offer_name,
    }
    if coupon.coupon_code is not None:
        fields["coupon_code"] = coupon.coupon_code
    if coupon.competition_entry_id is not None:
        fields["competition_entry_id"] = coupon.competition_entry_id
    return fields


def _session_fields(coupon: KomoCoupon) -> dict[str, Any]:
    fields: dict[str, Any] = {"user_session_id": coupon.user_session_id}
    if coupon.user_profile_id is not None:
        fields["user_profile_id"] = coupon.user_profile_id
    fields.update(coupon.attributes)
    return fields
