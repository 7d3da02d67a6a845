"""What a scenario may set on a Punchh coupon: the fields a flow fixes (the coupon type must agree
with the flow's issuance), the fields its shared users, offers and sites give, and the guest a
shared user's person becomes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from emulator.core.fakedata import Person
from emulator.core.vendor import FixedField
from emulator.vendors.punchh.events import DISCOUNT, UNLOCK
from emulator.vendors.punchh.model import PunchhCoupon

FIXED_FIELDS: Mapping[str, FixedField] = {
    "coupon_id": FixedField("int64", unique=True, help="the first coupon's; the next count up"),
    "code": FixedField("text"),
    "coupon_type": FixedField("choice", choices=("unlock", "discount")),
    "flat_discount": FixedField("amount"),
    "percentage_discount": FixedField("percent"),
    "business_id": FixedField("int64"),
}
SHARED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "users": ("user",),
    "offers": (
        "coupon_campaign_id", "campaign_label", "redeemable", "flat_discount",
        "percentage_discount", "valid_days", "menu_items",
    ),
    "sites": ("business_id", "business_uuid", "business_slug"),
}  # fmt: skip
_ISSUANCE = {UNLOCK: "unlock", DISCOUNT: "discount"}


def with_fixed(coupon: PunchhCoupon, values: Mapping[str, Any]) -> PunchhCoupon:
    """A discount is flat or a percentage: fixing one zeroes the other."""
    changes = dict(values)
    if "flat_discount" in changes:
        changes["percentage_discount"] = 0
    if "percentage_discount" in changes:
        changes["flat_discount"] = 0
    return replace(coupon, **changes)


def fixed_conflict(values: Mapping[str, Any], events: set[str]) -> tuple[str, str] | None:
    """The issuance event fixes the coupon's type: a fixed ``coupon_type`` must agree with it."""
    kind = values.get("coupon_type")
    if kind is None:
        return None
    other = [e for e, t in _ISSUANCE.items() if t != kind and e in events]
    if other:
        mine = next(e for e, t in _ISSUANCE.items() if t == kind)
        return (
            "coupon_type",
            f"coupon_type {kind} contradicts the step {other[0]}; issue with {mine}",
        )
    return None


def as_person(coupon: PunchhCoupon, person: Person) -> PunchhCoupon:
    """The guest becomes ``person``; Punchh knows only male and female, and a phone only if given."""
    user = coupon.user
    gender = person.gender if person.gender in ("male", "female") else None
    phone = person.phone if user.phone is not None else None
    return replace(coupon, user=replace(user, person=person, gender=gender, phone=phone))
