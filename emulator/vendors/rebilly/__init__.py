"""Rebilly: one HAL-style object per coupon or redemption event, the resources embedded in full.

Seed 002 and Rebilly/api-definitions (``CouponWebhook.yaml``, ``CouponRedemptionWebhook.yaml``).
Coupon events carry ``{couponId, eventType, _embedded: {coupon}, _links}``; redemption events add
``redemptionId``, ``customerId`` and embed the redemption and the customer. There is no event id:
consumers dedupe on (eventType, couponId, revision), or (eventType, redemptionId).

``revision`` (our rule; Rebilly says only "number of times the coupon data has been modified"):
a new coupon has revision 0, and each ``coupon-modified``, ``coupon-expiration-modified`` and
``coupon-expired`` adds one. Issuing and the redemption events leave it alone, so every coupon event
of a coupon's life has a distinct dedupe key.

Redemptions (our reading; Rebilly documents only the event names): ``coupon-applied`` opens a
redemption for the coupon's customer, ``coupon-redeemed`` raises ``redemptionsCount``, and the
removal and cancel events set ``canceledTime`` (a cancel of a redeemed one lowers the count). An
event that cannot happen to the current redemption opens a new one, so no dedupe key repeats.
Times are whole-second UTC with a ``Z``, as in Rebilly's rendered samples.

Links point at the emulator's own resources, served later by the service under
``{links_base}/vendors/rebilly/``: ``coupons/{couponId}``, ``coupons-redemptions/{redemptionId}``
and ``customers/{customerId}``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
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
    Story,
    Vendor,
    dig,
    single,
    text_or_none,
)
from emulator.vendors.rebilly import resources as res
from emulator.vendors.rebilly import scenario
from emulator.vendors.rebilly.events import (
    APPLICATION_REMOVED,
    APPLIED,
    COUPON_EVENTS,
    EVENT_TYPES,
    EXPIRATION_MODIFIED,
    EXPIRED,
    ISSUED,
    MODIFIED,
    REDEEMED,
    REDEMPTION_CANCELED,
    REDEMPTION_EVENTS,
    SLUG,
)
from emulator.vendors.rebilly.lifecycle import MACHINE
from emulator.vendors.rebilly.resources import (
    RebillyCoupon,
    RebillyCustomer,
)

# A type Rebilly does not send, for checking that consumers acknowledge and ignore new types.
UNKNOWN_TYPE = "coupon-archived"

# Events that count as a modification of the coupon's data (see the module docstring).
_REVISING = frozenset((MODIFIED, EXPIRATION_MODIFIED, EXPIRED))

# Rebilly retries (its webhook log has an attempt counter) but publishes no schedule or timeout;
# success is any 2xx (documented). The ladder, the retried failures and the timeout are our choice.
_LADDER = (60, 300, 1800, 7200, 21600)  # seconds
USER_AGENT_BUILD = "1.0"  # Rebilly's example shows `Rebilly/<build>`; which build is not public
PROFILE = DeliveryProfile(
    auth_types=("none", "basic", "digest"),
    methods=("POST", "GET", "PUT", "PATCH", "DELETE"),
    timeout=15,
    retry=(RetryRule(on=("3xx", "4xx", "5xx", "timeout", "connection"), delays=_LADDER),),
    # The request headers of Rebilly's documented example delivery; the build number is ours.
    content_type="application/json; charset=utf-8",
    user_agent=f"Rebilly/{USER_AGENT_BUILD}",
    unverified=("retry delays", "retries on 3xx/4xx", "timeout", "User-Agent build number"),
)


_REVISION_DOC = (
    'seed 002 and Rebilly/api-definitions Coupon.yaml: revision, "use the revision number ... to '
    'determine if a change should take precedence"; deliveries may be delayed or repeated'
)
# Rules about one coupon's events that follow from the revision deciding precedence (VENDORS.md).
# Eleven modifications take the revision past 9, where comparing it as text goes wrong.
STORIES = MappingProxyType(
    {
        "precedence-revision-sequence": Story(
            "keeps the highest revision over a sequence (revisions 0-11, the newest first): "
            "compared as numbers, not text",
            ((ISSUED, 0), *((MODIFIED, 10.0 * n) for n in range(1, 12))),
            (11, *range(11)),
            _REVISION_DOC,
        ),
        "precedence-redemption-events": Story(
            "orders redemption events by the coupon revision they carry: an old redemption "
            "arriving late does not win",
            ((REDEEMED, 0), (EXPIRED, 60)),
            (1, 0),
            _REVISION_DOC + "; CouponRedemptionWebhook.yaml embeds the coupon",
        ),
        "applies-distinct-events": Story(
            "applies two revisions of one event type as two events (the revision is in the "
            "dedupe key)",
            ((ISSUED, 0), (MODIFIED, 10), (MODIFIED, 20)),
            (1, 2),
            "VENDORS.md dedupe key (eventType, couponId, _embedded.coupon.revision); seed 002",
            all_applied=True,
        ),
    }
)


class Rebilly(Vendor):
    slug = SLUG
    title = "Rebilly"
    event_types = EVENT_TYPES
    profile = PROFILE
    # Web-side facts: resources served, auth towards the built-in sink, precedence case.
    # The strongest auth Rebilly documents; the revision orders events, so an issue arriving after
    # the expiry (revision 1) must not win.
    resources = res.ROUTES
    sink_auth = MappingProxyType({"type": "digest"})
    precedence = ((ISSUED, 0), (EXPIRED, 60))
    stories = STORIES
    machine = MACHINE
    planning_cost = 1.5  # benchmarks/planning.py (per CPU second): relative to komo's 1.0
    fixed_fields = scenario.FIXED_FIELDS
    shared_fields = scenario.SHARED_FIELDS
    unknown_type = UNKNOWN_TYPE

    def new_coupon(self, ctx: Context) -> RebillyCoupon:
        """A draft coupon, scheduled to start within two weeks, held for one customer."""
        rng, now = ctx.rng, _now(ctx)
        created = values.earlier(now, rng, 3)
        issued = values.later(now, rng, 1, 14)
        discount = res.discount(ctx)
        joined = values.earlier(created, rng, 365)
        customer = RebillyCustomer(
            id="cus_" + values.ulid(rng, joined),
            website_id="web_" + values.ulid(rng, joined),
            person=ctx.fake.person(rng),
            created_time=joined,
        )
        return RebillyCoupon(
            id="cpn_" + values.ulid(rng, created),
            discount=discount,
            restrictions=res.restrictions(ctx),
            description=res.description(discount, ctx),
            status="draft",
            issued_time=issued,
            expired_time=values.later(issued, rng, 30, 180) if rng.random() < 0.6 else None,
            created_time=created,
            updated_time=created,
            customer=customer,
        )

    def apply(self, event_type: str, coupon: RebillyCoupon, ctx: Context) -> RebillyCoupon:
        """The coupon after ``event_type``; lenient: missing prerequisites are made up silently."""
        _check(event_type)
        now = _now(ctx)
        if event_type in REDEMPTION_EVENTS:
            return _apply_redemption(event_type, coupon, ctx, now)
        revision = coupon.revision + (event_type in _REVISING)
        changes: dict[str, Any]
        if event_type == ISSUED:
            past = coupon.expired_time is not None and coupon.expired_time <= now
            # Issuing again lifts a past expiration.
            changes = {"status": "issued", "issued_time": min(coupon.issued_time, now)}
            changes["expired_time"] = None if past else coupon.expired_time
        elif event_type == MODIFIED:
            changes = _modification(coupon, ctx)
        elif event_type == EXPIRATION_MODIFIED:
            # A later expiration revives an expired coupon.
            status = "issued" if coupon.status == "expired" else coupon.status
            expires = values.later(max(now, coupon.issued_time), ctx.rng, 7, 90)
            changes = {"status": status, "expired_time": expires}
        else:
            expired = now if coupon.expired_time is None else min(coupon.expired_time, now)
            changes = {"status": "expired", "expired_time": expired}
            changes["issued_time"] = min(coupon.issued_time, expired)
        return evolve(coupon, **changes, revision=revision, updated_time=now)

    def build(self, event_type: str, coupon: RebillyCoupon, ctx: Context) -> dict[str, Any]:
        """The complete body announcing ``event_type`` for ``coupon`` in its current state."""
        _check(event_type)
        coupon_href = ctx.link(SLUG, f"coupons/{coupon.id}")
        embedded_coupon = res.coupon_wire(coupon, coupon_href)
        if event_type in COUPON_EVENTS:
            return {
                "couponId": coupon.id,
                "eventType": event_type,
                "_embedded": {"coupon": embedded_coupon},
                "_links": [{"href": coupon_href, "rel": "coupon"}],
            }
        redemption, customer = coupon.redemption, coupon.customer
        if redemption is None:
            raise BuildError(
                f"rebilly {event_type} needs a redemption and coupon {coupon.id} has none; "
                f"apply {APPLIED!r} (or {event_type!r}) to the coupon before building"
            )
        redemption_href = ctx.link(SLUG, f"coupons-redemptions/{redemption.id}")
        customer_href = ctx.link(SLUG, f"customers/{customer.id}")
        return {
            "couponId": coupon.id,
            "redemptionId": redemption.id,
            "customerId": customer.id,
            "eventType": event_type,
            "_embedded": {
                "coupon": embedded_coupon,
                "redemption": {
                    "id": redemption.id,
                    "couponId": coupon.id,
                    "customerId": customer.id,
                    "additionalRestrictions": [
                        r.wire() for r in redemption.additional_restrictions
                    ],
                    "createdTime": values.iso_seconds(redemption.created_time),
                    "updatedTime": values.iso_seconds(redemption.updated_time),
                    "canceledTime": res.time_or_none(redemption.canceled_time),
                    "_links": res.links(
                        (redemption_href, "self"),
                        (coupon_href, "coupon"),
                        (customer_href, "customer"),
                    ),
                },
                "customer": res.customer_wire(customer, customer_href),
            },
            "_links": res.links(
                (coupon_href, "coupon"),
                (redemption_href, "redemption"),
                (customer_href, "customer"),
            ),
        }

    def dedupe_keys(self, body: Mapping[str, Any]) -> tuple[str, ...]:
        event_type = body["eventType"]
        if event_type in REDEMPTION_EVENTS:
            return (f"{event_type}:{body['redemptionId']}",)
        return (f"{event_type}:{body['couponId']}:{body['_embedded']['coupon']['revision']}",)

    def batch(self, bodies: Sequence[Mapping[str, Any]], *, owned: bool = False) -> dict[str, Any]:
        return single(SLUG, bodies)

    def observe(self, body: Mapping[str, Any]) -> tuple[Observation, ...]:
        # Rebilly's documented rule: the revision decides precedence, so an event carrying a lower
        # revision than the one held must not replace it. Every top-level field is optional in
        # Rebilly's definitions, so each may be missing.
        event_type = body.get("eventType")
        known = event_type in COUPON_EVENTS + REDEMPTION_EVENTS
        coupon_id = text_or_none(body.get("couponId"))
        revision = dig(body, "_embedded", "coupon", "revision")
        if isinstance(revision, bool) or not isinstance(revision, int):
            revision = None
        key = None
        if known and event_type in REDEMPTION_EVENTS:
            redemption_id = text_or_none(body.get("redemptionId"))
            key = f"{event_type}:{redemption_id}" if redemption_id is not None else None
        elif known and coupon_id is not None and revision is not None:
            key = f"{event_type}:{coupon_id}:{revision}"
        return (
            Observation(
                event_type=event_type if known else None,
                key=key,
                coupon_id=coupon_id,
                status=text_or_none(dig(body, "_embedded", "coupon", "status")),
                revision=revision,
                order=revision,
            ),
        )

    def with_unknown_type(self, body: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
        # The type is part of Rebilly's dedupe key, so the copy needs no fresh id to stand apart.
        return {**body, "eventType": UNKNOWN_TYPE}

    def with_fixed(self, coupon: RebillyCoupon, values: Mapping[str, Any]) -> RebillyCoupon:
        return scenario.with_fixed(coupon, values)

    def as_person(self, coupon: RebillyCoupon, person: Person) -> RebillyCoupon:
        return replace(coupon, customer=replace(coupon.customer, person=person))


def _check(event_type: str) -> None:
    if event_type not in COUPON_EVENTS + REDEMPTION_EVENTS:
        valid = ", ".join(COUPON_EVENTS + REDEMPTION_EVENTS)
        raise BuildError(f"rebilly has no event type {event_type!r}; valid: {valid}")


def _now(ctx: Context) -> datetime:
    # Rebilly's timestamps have whole seconds; keep the state in the same precision it is sent in.
    return values.whole_second(ctx.now)


def _apply_redemption(
    event_type: str, coupon: RebillyCoupon, ctx: Context, now: datetime
) -> RebillyCoupon:
    status, issued_time = coupon.status, coupon.issued_time
    if status == "draft":
        # A redemption implies a started coupon: issue it first (no event for that).
        status, issued_time = "issued", min(issued_time, now)
    # A fresh redemption whenever this event could not happen to the current one, so that each
    # (eventType, redemptionId) pair, the dedupe key, occurs at most once.
    redemption = coupon.redemption
    if (
        redemption is None
        or event_type == APPLIED
        or redemption.canceled_time is not None
        or (event_type == REDEEMED and redemption.redeemed)
    ):
        redemption = res.new_redemption(ctx, now)
    count = coupon.redemptions_count
    if event_type == REDEEMED:
        redemption = evolve(redemption, redeemed=True, updated_time=now)
        count += 1
    elif event_type in (APPLICATION_REMOVED, REDEMPTION_CANCELED):
        if redemption.redeemed:
            count = max(0, count - 1)
        redemption = evolve(redemption, canceled_time=now, redeemed=False, updated_time=now)
    changed = count != coupon.redemptions_count or status != coupon.status
    return evolve(
        coupon,
        status=status,
        issued_time=issued_time,
        redemption=redemption,
        redemptions_count=count,
        updated_time=now if changed else coupon.updated_time,
    )


def _modification(coupon: RebillyCoupon, ctx: Context) -> dict[str, Any]:
    """A visible change to the coupon's data: a new discount (and description) or restrictions."""
    rng = ctx.rng
    if rng.random() < 0.5:
        discount = res.discount(ctx)
        if discount == coupon.discount:  # a modification must change something
            other = "items" if discount.context != "items" else "items-and-shipping"
            discount = replace(discount, context=other)
        return {"discount": discount, "description": res.description(discount, ctx)}
    present = [r.type for r in coupon.restrictions]
    missing = [kind for kind in res.RESTRICTION_TYPES if kind not in present]
    if missing and (not present or rng.random() < 0.6):
        kinds = [*present, values.choice(rng, missing)]
    else:
        dropped = values.choice(rng, present)
        kinds = [kind for kind in present if kind != dropped]
    kept = {r.type: r for r in coupon.restrictions}
    restrictions = tuple(
        kept.get(kind) or res.restriction(kind, ctx)
        for kind in sorted(kinds, key=res.RESTRICTION_TYPES.index)
    )
    return {"restrictions": restrictions}
