"""Rebilly's resources: the coupon, its redemption and its customer, as state and on the wire.

The state is what ``rebilly.Rebilly.apply`` evolves; the ``*_wire`` functions render it in
Rebilly's shapes (``Coupon.yaml``, ``CouponRedemption.yaml``, ``Customer.yaml``), key order as
Rebilly's samples print it. Pure, like every vendor module: randomness and time come from ``ctx``.
``ROUTES`` are where the events' ``_links`` point: each answers with the resource embedded in the
latest event that names it, since Rebilly's events embed their resources whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from emulator.core import values
from emulator.core.fakedata import Person
from emulator.core.resources import History, Render, ResourceRoute, needle, unseen
from emulator.core.vendor import Context

_CURRENCIES = ("USD", "USD", "USD", "EUR", "GBP", "CAD")
# Mostly item discounts, as in Rebilly's default context.
_CONTEXTS = ("items", "items", "items", "shipping", "items-and-shipping")
RESTRICTION_TYPES = (
    "minimum-order-amount",
    "redemptions-per-customer",
    "total-redemptions",
    "discounts-per-redemption",
)


@dataclass(frozen=True)
class Discount:
    """``fixed`` (amount, currency) or ``percent`` (value), and the context it applies to."""

    type: str
    context: str
    amount: float | None = None
    currency: str | None = None
    value: float | None = None

    def wire(self) -> dict[str, Any]:
        keys = ("type", "amount", "currency", "value", "context")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


@dataclass(frozen=True)
class Restriction:
    """One coupon restriction; a coupon holds at most one of each ``type``."""

    type: str
    quantity: int | None = None
    amount: int | None = None
    currency: str | None = None

    def wire(self) -> dict[str, Any]:
        keys = ("type", "quantity", "amount", "currency")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


@dataclass(frozen=True)
class RebillyCustomer:
    """The customer the coupon is held for; every redemption of the coupon is theirs."""

    id: str
    website_id: str
    person: Person
    created_time: datetime


@dataclass(frozen=True)
class RebillyRedemption:
    """The coupon's current redemption; ``redeemed`` is our bookkeeping and never sent."""

    id: str
    created_time: datetime
    updated_time: datetime
    canceled_time: datetime | None = None
    additional_restrictions: tuple[Restriction, ...] = ()
    redeemed: bool = False


@dataclass(frozen=True)
class RebillyCoupon:
    """One coupon: its identity (id, customer) and the state its last event left it in."""

    id: str
    discount: Discount
    restrictions: tuple[Restriction, ...]
    description: str
    status: str
    issued_time: datetime
    expired_time: datetime | None
    created_time: datetime
    updated_time: datetime
    customer: RebillyCustomer
    revision: int = 0
    redemptions_count: int = 0
    redemption: RebillyRedemption | None = None


def new_redemption(ctx: Context, now: datetime) -> RebillyRedemption:
    rng = ctx.rng
    extra: tuple[Restriction, ...] = ()
    if rng.random() < 0.25:
        extra = (Restriction("discounts-per-redemption", quantity=values.choice(rng, (1, 2, 3))),)
    return RebillyRedemption(
        id="cpn_rdm_" + values.ulid(rng, now),
        created_time=now,
        updated_time=now,
        additional_restrictions=extra,
    )


def discount(ctx: Context) -> Discount:
    rng = ctx.rng
    offer = ctx.fake.offer(rng)
    context = values.choice(rng, _CONTEXTS)
    if rng.random() < 0.5:
        return Discount("percent", context, value=offer.percent)
    return Discount(
        "fixed",
        context,
        amount=round(values.choice(rng, (offer.amount, offer.amount + 0.99, 4.99)), 2),
        currency=values.choice(rng, _CURRENCIES),
    )


def description(discount: Discount, ctx: Context) -> str:
    product = ctx.fake.offer(ctx.rng).product
    if discount.type == "percent":
        return f"{discount.value:g}% off your next {product}"
    return f"{discount.amount:g} {discount.currency} off any {product}"


def restriction(kind: str, ctx: Context) -> Restriction:
    rng = ctx.rng
    if kind == "minimum-order-amount":
        return Restriction(kind, amount=values.choice(rng, (10, 20, 25, 50, 100)), currency="USD")
    if kind == "total-redemptions":
        return Restriction(kind, quantity=values.choice(rng, (100, 500, 1000, 5000)))
    return Restriction(kind, quantity=values.choice(rng, (1, 1, 2, 3)))


def restrictions(ctx: Context) -> tuple[Restriction, ...]:
    kinds = ctx.rng.sample(RESTRICTION_TYPES, values.choice(ctx.rng, (0, 1, 1, 2, 3)))
    return tuple(restriction(kind, ctx) for kind in sorted(kinds, key=RESTRICTION_TYPES.index))


def links(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"href": href, "rel": rel} for href, rel in pairs]


def time_or_none(at: datetime | None) -> str | None:
    return None if at is None else values.iso_seconds(at)


def coupon_wire(coupon: RebillyCoupon, href: str) -> dict[str, Any]:
    # Key order follows Coupon.yaml, as Rebilly's own samples print it.
    return {
        "id": coupon.id,
        "discount": coupon.discount.wire(),
        "restrictions": [r.wire() for r in coupon.restrictions],
        "redemptionsCount": coupon.redemptions_count,
        "status": coupon.status,
        "description": coupon.description,
        "issuedTime": values.iso_seconds(coupon.issued_time),
        "expiredTime": time_or_none(coupon.expired_time),
        "revision": coupon.revision,
        "createdTime": values.iso_seconds(coupon.created_time),
        "updatedTime": values.iso_seconds(coupon.updated_time),
        "_links": links((href, "self")),
    }


def customer_wire(customer: RebillyCustomer, href: str) -> dict[str, Any]:
    person, created = customer.person, values.iso_seconds(customer.created_time)
    return {
        "id": customer.id,
        "email": person.email,
        "firstName": person.first_name,
        "lastName": person.last_name,
        "websiteId": customer.website_id,
        "createdTime": created,
        "updatedTime": created,
        "primaryAddress": {
            "firstName": person.first_name,
            "lastName": person.last_name,
            "city": person.city,
            "country": "US",  # Faker's en_US people
            "postalCode": person.postcode,
            "emails": [{"label": "main", "value": person.email, "primary": True}],
            "phoneNumbers": [{"label": "main", "value": person.phone, "primary": True}],
        },
        "revision": 0,
        "_links": links((href, "self")),
    }


# --- served resources ----------------------------------------------------------------------


def _embedded(field: str, embedded: str, what: str) -> Render:
    """The ``_embedded[embedded]`` of the latest event whose ``field`` is the path's one id."""

    def render(params: Mapping[str, str], history: History) -> Any:
        (ident,) = params.values()
        found = None
        for _, body in history(needle(field, ident), ""):
            if body.get(field) == ident and isinstance(body["_embedded"].get(embedded), dict):
                found = body["_embedded"][embedded]
        if found is None:
            raise unseen("rebilly", what, ident)
        return found

    return render


def _schema(name: str) -> dict[str, str]:
    return {"$ref": f"schemas/rebilly/common.json#/$defs/{name}"}


ROUTES = (
    ResourceRoute(
        "coupons/{coupon_id}",
        "a Rebilly coupon in its current state",
        _embedded("couponId", "coupon", "coupon"),
        _schema("coupon"),
    ),
    ResourceRoute(
        "coupons-redemptions/{redemption_id}",
        "a Rebilly coupon redemption",
        _embedded("redemptionId", "redemption", "coupon redemption"),
        _schema("redemption"),
    ),
    ResourceRoute(
        "customers/{customer_id}",
        "the Rebilly customer a coupon is held for",
        _embedded("customerId", "customer", "customer"),
        _schema("customer"),
    ),
)
