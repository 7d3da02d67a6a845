"""Drawing a Punchh coupon from the context: ids, business, campaign, redeemable, menu lines and
guest; and the receipt a redemption honors it against."""

from __future__ import annotations

import random
import re
import string
from dataclasses import fields
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from emulator.core import values
from emulator.core.fakedata import MenuItem
from emulator.core.frozen import evolve, make
from emulator.core.vendor import Context
from emulator.vendors.punchh.events import SLUG
from emulator.vendors.punchh.model import MenuLine, PunchhCoupon, PunchhUser, Redeemable
from emulator.vendors.punchh.payload import money

# Ids are int64 (meta-field page). Most are drawn at realistic sizes, a few across the whole range,
# so that a consumer parsing ids as doubles (JavaScript, some JSON libraries) meets one above 2**53.
_BIG_ID_SHARE = 0.1
_REVENUE = (("dine-in", "1"), ("to-go", "2"), ("call-in pickup", "3"), ("call-in deliver", "4"))
_SIGNUP_CHANNELS = ("MobileEmail", "WebEmail", "ApplePay", "POS")
_LEVELS = ("level 1", "Silver Level", "Gold Level")
_CAMPAIGN_LABELS = ("Coupon Mobile", "Dynamic Coupon", "Mass Coupon", "Welcome Coupon")


def new_coupon(ctx: Context) -> PunchhCoupon:
    """A coupon of either type, its terms for both drawn, before issuance picks one."""
    rng = ctx.rng
    now = values.whole_second(ctx.now)
    slug = _slug(ctx.fake.company(rng))
    # Terms for both coupon types are drawn up front, in a fixed order: the issuance event only
    # picks the type, so the rest of a coupon does not depend on which issuance it goes through.
    flat = rng.random() < 0.7
    # An unlock coupon's redeemable is a dish, and the first line of the receipt it is honored
    # against is that dish, so the redemption never discounts what the guest did not buy.
    dish = ctx.fake.menu_item(rng)
    # make: the constructor would store the dozen redemption fields' defaults one by one too.
    return make(
        PunchhCoupon,
        business_id=_id(rng, 1, 9_999),
        business_uuid=values.uuid4(rng),
        business_slug=slug,
        coupon_id=_id(rng, 1_000_000, 999_999_999),
        code=values.code(rng, values.choice(rng, (6, 7, 8, 10))),
        coupon_campaign_id=_id(rng, 1_000, 999_999),
        campaign_label=values.choice(rng, _CAMPAIGN_LABELS),
        coupon_type=values.choice(rng, ("unlock", "discount")),
        redeemable=_redeemable(ctx, dish),
        flat_discount=values.choice(rng, (1, 2, 2.5, 3, 5)) if flat else 0,
        percentage_discount=0 if flat else values.choice(rng, (10, 15, 20, 25)),
        valid_days=values.choice(rng, (7, 10, 14, 30)),
        menu_items=_menu_lines(ctx, dish),
        user=_user(ctx),
        created_at=now,
        updated_at=now,
    )


# What a redemption sets (the fields that default to None), as it is before one.
UNREDEEMED: dict[str, Any] = {f.name: None for f in fields(PunchhCoupon) if f.default is None}


@lru_cache(maxsize=8192)  # companies come from a pool: the same few thousand names recur
def _slug(company: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", company.lower()) or "slugname"


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
        discount_amount=money(dish.price) if rng.random() < 0.5 else values.choice(rng, (2, 3, 5)),
        points_required=values.choice(rng, (None, None, 50, 100, 150)),
        redemption_expiry=values.choice(rng, (None, 30, 60, 120)),
        loyalty_redemption=rng.random() < 0.2,
        image_url=ctx.link(SLUG, f"redeemables/{redeemable_id}/image.png"),
        created_at=created,
        updated_at=edited.replace(microsecond=0),
    )


def _menu_lines(ctx: Context, dish: MenuItem) -> tuple[MenuLine, ...]:
    rng = ctx.rng
    lines = []
    for serial in range(1, values.randint(rng, 1, 3) + 1):
        item = dish if serial == 1 else ctx.fake.menu_item(rng)
        qty = values.choice(rng, (1, 1, 1, 2, 3))
        lines.append(
            MenuLine(
                item_name=item.name,
                item_qty=qty,
                item_amount=money(item.price * qty),
                **_pos_codes(item.family, item.name, item.major_group),
                serial_number=str(serial),
            )
        )
    return tuple(lines)


@lru_cache(maxsize=1024)  # menu items: a few dozen, on every line of every coupon
def _pos_codes(family: str, name: str, major_group: str) -> dict[str, str]:
    """A menu line's POS codes. They are opaque digit strings in Punchh's examples ("800", "9501",
    "152"); ours are fixed per family, item and group so the same dish always has one code."""
    return {
        "menu_family": str(100 + _stable(family) % 900),
        "menu_item_id": str(1000 + _stable(name) % 9000),
        "menu_major_group": str(100 + _stable(major_group) % 900),
    }


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
        preferred_locale=values.choice(rng, (None, "en")),
        signup_channel=values.choice(rng, _SIGNUP_CHANNELS),
        external_source_id=values.code(rng, 8, string.digits) if rng.random() < 0.3 else None,
        last_activity_at=values.earlier(ctx.now, rng, 30),
        membership_level=values.choice(rng, _LEVELS),
        points=values.randint(rng, 0, 500),
        visits=values.randint(rng, 0, 40),
        marketing_email=rng.random() < 0.7,
        marketing_pn=rng.random() < 0.7,
        sms=rng.random() < 0.3,
    )


def redeem(coupon: PunchhCoupon, ctx: Context, now: datetime) -> PunchhCoupon:
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
    paid = max(coupon.created_at, now - timedelta(seconds=values.randint(rng, 30, 1800)))
    return evolve(
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
        revenue=values.choice(rng, _REVENUE) if rng.random() < 0.6 else None,
    )
