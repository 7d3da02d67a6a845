"""PAR Punchh ("Webhooks manager"): one JSON envelope per event, the coupon in its ``payload``.

Seed 004 and developers.partech.com (meta fields, coupon issuance pages, webhook delivery). Punchh has
no single type string, so the catalogue names the four kinds of coupon event; ``coupon-void`` is
inferred: Punchh documents the ``void`` status but not how a void is delivered.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

from emulator.core import values
from emulator.core.errors import BuildError
from emulator.core.fakedata import MenuItem, Person
from emulator.core.vendor import (
    Context,
    DeliveryProfile,
    EventType,
    Observation,
    RetryRule,
    dig,
    single,
    text_or_none,
)
from emulator.vendors.punchh.payload import money, payload

SLUG = "punchh"

UNLOCK = "coupon-issuance-unlock"
DISCOUNT = "coupon-issuance-discount"
REDEMPTION = "coupon-redemption"
VOID = "coupon-void"

EVENT_TYPES = (
    EventType(SLUG, UNLOCK, "a coupon of unlock type (a redeemable) is issued", f"{UNLOCK}.json"),
    EventType(SLUG, DISCOUNT, "a coupon of discount type is issued", f"{DISCOUNT}.json"),
    EventType(SLUG, REDEMPTION, "a coupon is redeemed and honored", f"{REDEMPTION}.json"),
    EventType(
        SLUG,
        VOID,
        "a coupon is voided (inferred: undocumented, sent as coupons/update with status void)",
        f"{VOID}.json",
        inferred=True,
    ),
)

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

# Ids are int64 (meta-field page). Most are drawn at realistic sizes, a few across the whole range,
# so that a consumer parsing ids as doubles (JavaScript, some JSON libraries) meets one above 2**53.
_BIG_ID_SHARE = 0.1
_REVENUE = (("dine-in", "1"), ("to-go", "2"), ("call-in pickup", "3"), ("call-in deliver", "4"))
_SIGNUP_CHANNELS = ("MobileEmail", "WebEmail", "ApplePay", "POS")
_LEVELS = ("level 1", "Silver Level", "Gold Level")
_CAMPAIGN_LABELS = ("Coupon Mobile", "Dynamic Coupon", "Mass Coupon", "Welcome Coupon")


@dataclass(frozen=True)
class PunchhUser:
    """The guest holding the coupon: the payload's ``user`` object and its ``account_balance``."""

    user_id: int
    person: Person
    gender: str | None
    phone: str | None
    preferred_locale: str | None
    signup_channel: str
    external_source_id: str | None
    last_activity_at: datetime
    membership_level: str
    points: int
    visits: int
    marketing_email: bool
    marketing_pn: bool
    sms: bool


@dataclass(frozen=True)
class Redeemable:
    """What an unlock coupon unlocks (the payload's ``redeemable`` object)."""

    redeemable_id: int
    name: str
    discount_amount: float
    points_required: int | None
    redemption_expiry: int | None
    loyalty_redemption: bool
    image_url: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class MenuLine:
    """One line of ``redeemed_menu_items``; Punchh sends the POS codes as strings."""

    item_name: str
    item_qty: int
    item_amount: float
    menu_family: str
    menu_item_id: str
    menu_major_group: str
    serial_number: str
    menu_item_type: str = "M"


@dataclass(frozen=True)
class PunchhCoupon:
    """One coupon as Punchh knows it: business, campaign, guest, terms and, once used, the receipt."""

    business_id: int
    business_uuid: str
    business_slug: str
    coupon_id: int
    code: str
    coupon_campaign_id: int
    campaign_label: str
    coupon_type: str  # "unlock" or "discount"; the issuance event fixes it
    redeemable: Redeemable  # sent for unlock coupons only
    flat_discount: float  # discount coupons: an amount off, or (when 0)
    percentage_discount: float  # a percentage off
    valid_days: int
    menu_items: tuple[MenuLine, ...]
    user: PunchhUser
    status: str = "new"
    created_at: datetime = values.EPOCH
    updated_at: datetime = values.EPOCH
    # Set by a redemption.
    user_coupon_redemption_id: int | None = None
    discount: float | None = None
    processed_at: datetime | None = None
    receipt_amount: float | None = None
    receipt_datetime: datetime | None = None
    receipt_subtotal_amount: float | None = None
    transaction_no: str | None = None
    location_id: int | None = None
    employee_id: str | None = None
    bar_code: str | None = None
    revenue: tuple[str, str] | None = None  # (revenue_code, revenue_id)

    @property
    def campaign_name(self) -> str:
        if self.coupon_type == "unlock":
            return f"{self.campaign_label} - {self.redeemable.name}"
        if self.flat_discount:
            return f"{self.campaign_label} - ${money(self.flat_discount)} OFF"
        return f"{self.campaign_label} - {money(self.percentage_discount)}% OFF"

    @property
    def expiry_at(self) -> datetime | None:
        """Discount coupons end at 07:59:59Z (end of a US Pacific day), as Punchh's example shows."""
        if self.coupon_type != "discount":
            return None
        end = self.created_at + timedelta(days=self.valid_days)
        return end.replace(hour=7, minute=59, second=59, microsecond=0)


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
    unverified=("retry on connection errors", "no retry on other 4xx"),
)


class Punchh:
    slug = SLUG
    title = "PAR Punchh"
    event_types = EVENT_TYPES
    profile = PROFILE
    unknown_type = UNKNOWN_TYPE

    def new_coupon(self, ctx: Context) -> PunchhCoupon:
        rng = ctx.rng
        now = ctx.now.replace(microsecond=0)
        slug = re.sub(r"[^a-z0-9]+", "", ctx.fake.company(rng).lower())
        # Terms for both coupon types are drawn up front, in a fixed order: the issuance event only
        # picks the type, so the rest of a coupon does not depend on which issuance it goes through.
        flat = rng.random() < 0.7
        # An unlock coupon's redeemable is a dish, and the first line of the receipt it is honored
        # against is that dish, so the redemption never discounts what the guest did not buy.
        dish = ctx.fake.menu_item(rng)
        return PunchhCoupon(
            business_id=_id(rng, 1, 9_999),
            business_uuid=values.uuid4(rng),
            business_slug=slug or "slugname",
            coupon_id=_id(rng, 1_000_000, 999_999_999),
            code=values.code(rng, rng.choice((6, 7, 8, 10))),
            coupon_campaign_id=_id(rng, 1_000, 999_999),
            campaign_label=rng.choice(_CAMPAIGN_LABELS),
            coupon_type=rng.choice(("unlock", "discount")),
            redeemable=_redeemable(ctx, dish),
            flat_discount=rng.choice((1, 2, 2.5, 3, 5)) if flat else 0,
            percentage_discount=0 if flat else rng.choice((10, 15, 20, 25)),
            valid_days=rng.choice((7, 10, 14, 30)),
            menu_items=_menu_lines(ctx, dish),
            user=_user(ctx),
            created_at=now,
            updated_at=now,
        )

    def apply(self, event_type: str, coupon: PunchhCoupon, ctx: Context) -> PunchhCoupon:
        if event_type not in _WIRE:
            raise BuildError(f"punchh has no event type {event_type!r}")
        now = ctx.now.replace(microsecond=0)
        status = _WIRE[event_type][0]
        if event_type in (UNLOCK, DISCOUNT):
            # Issuance makes a fresh, unredeemed coupon of the announced type.
            kind = "unlock" if event_type == UNLOCK else "discount"
            return replace(
                coupon,
                **_UNREDEEMED,
                coupon_type=kind,
                status=status,
                created_at=now,
                updated_at=now,
            )
        if event_type == VOID:
            return replace(coupon, status=status, updated_at=now)
        return _redeem(coupon, ctx, now)

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

    def batch(self, bodies: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
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


# What a redemption sets (the fields that default to None), as it is before one.
_UNREDEEMED: dict[str, Any] = {f.name: None for f in fields(PunchhCoupon) if f.default is None}


def _id(rng: random.Random, low: int, high: int) -> int:
    if rng.random() < _BIG_ID_SHARE:
        return values.int_id(rng, 2**53 + 1)
    return values.int_id(rng, low, high)


def _redeemable(ctx: Context, dish: MenuItem) -> Redeemable:
    rng = ctx.rng
    created = values.earlier(ctx.now, rng, 1500)
    edited = created + (ctx.now - created) * rng.random()
    redeemable_id = _id(rng, 100, 999_999)
    return Redeemable(
        redeemable_id=redeemable_id,
        name=dish.name,
        discount_amount=money(dish.price) if rng.random() < 0.5 else rng.choice((2, 3, 5)),
        points_required=rng.choice((None, None, 50, 100, 150)),
        redemption_expiry=rng.choice((None, 30, 60, 120)),
        loyalty_redemption=rng.random() < 0.2,
        image_url=ctx.link(SLUG, f"redeemables/{redeemable_id}/image.png"),
        created_at=created,
        updated_at=edited.replace(microsecond=0),
    )


def _menu_lines(ctx: Context, dish: MenuItem) -> tuple[MenuLine, ...]:
    rng = ctx.rng
    lines = []
    for serial in range(1, rng.randint(1, 3) + 1):
        item = dish if serial == 1 else ctx.fake.menu_item(rng)
        qty = rng.choice((1, 1, 1, 2, 3))
        lines.append(
            MenuLine(
                item_name=item.name,
                item_qty=qty,
                item_amount=money(item.price * qty),
                # POS codes are opaque digit strings in Punchh's examples ("800", "9501", "152");
                # ours are fixed per family, item and group so the same dish always has one code.
                menu_family=str(100 + _stable(item.family) % 900),
                menu_item_id=str(1000 + _stable(item.name) % 9000),
                menu_major_group=str(100 + _stable(item.major_group) % 900),
                serial_number=str(serial),
            )
        )
    return tuple(lines)


def _stable(text: str) -> int:
    """A small number fixed by ``text`` alone (``hash()`` of a str changes per process)."""
    return sum((i + 1) * ord(c) for i, c in enumerate(text))


def _user(ctx: Context) -> PunchhUser:
    rng = ctx.rng
    person = ctx.fake.person(rng)
    return PunchhUser(
        user_id=_id(rng, 1_000_000, 999_999_999),
        person=person,
        gender=person.gender if person.gender in ("male", "female") else None,
        phone=person.phone if rng.random() < 0.5 else None,
        preferred_locale=rng.choice((None, "en")),
        signup_channel=rng.choice(_SIGNUP_CHANNELS),
        external_source_id=values.code(rng, 8, string.digits) if rng.random() < 0.3 else None,
        last_activity_at=values.earlier(ctx.now, rng, 30),
        membership_level=rng.choice(_LEVELS),
        points=rng.randint(0, 500),
        visits=rng.randint(0, 40),
        marketing_email=rng.random() < 0.7,
        marketing_pn=rng.random() < 0.7,
        sms=rng.random() < 0.3,
    )


def _redeem(coupon: PunchhCoupon, ctx: Context, now: datetime) -> PunchhCoupon:
    """The coupon honored against a receipt of its menu lines, at ``now``."""
    rng = ctx.rng
    gross = sum(line.item_amount for line in coupon.menu_items)
    if coupon.coupon_type == "unlock":
        off = min(coupon.redeemable.discount_amount, gross)
    elif coupon.flat_discount:
        off = min(coupon.flat_discount, gross)
    else:
        off = gross * coupon.percentage_discount / 100
    amount = money(gross - money(off))
    # The guest paid shortly before the POS processed the redemption, never before issuance.
    paid = max(coupon.created_at, now - timedelta(seconds=rng.randint(30, 1800)))
    return replace(
        coupon,
        status="honored",
        updated_at=now,
        user_coupon_redemption_id=_id(rng, 1_000, 999_999_999),
        discount=money(off),
        processed_at=now,
        receipt_amount=amount,
        receipt_datetime=paid,
        receipt_subtotal_amount=amount,  # "Same as receipt_amount" (payload table)
        transaction_no=values.code(rng, 10, string.digits),
        location_id=_id(rng, 1_000, 999_999),
        employee_id=values.code(rng, 6, string.digits) if rng.random() < 0.5 else None,
        bar_code=values.code(rng, 11, string.digits) if rng.random() < 0.5 else None,
        revenue=rng.choice(_REVENUE) if rng.random() < 0.6 else None,
    )
