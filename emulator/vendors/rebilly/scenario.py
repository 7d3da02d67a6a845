"""What a scenario may set on a Rebilly coupon: the fields a flow fixes, and the fields its shared
users (the customer) and offers (the discount and its terms) give."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from emulator.core.vendor import FixedField
from emulator.vendors.rebilly.resources import Discount, RebillyCoupon

FIXED_FIELDS: Mapping[str, FixedField] = {
    "coupon_id": FixedField("text", unique=True, max_length=50, help="e.g. cpn_SUMMER_{n}"),
    "customer_id": FixedField("text", max_length=50),
    "discount": FixedField(
        "discount", help="{type: fixed, amount, currency} or {type: percent, value}"
    ),
    "description": FixedField("text"),
}
SHARED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "users": ("customer",),
    "offers": ("discount", "restrictions", "description"),
}


def with_fixed(coupon: RebillyCoupon, values: Mapping[str, Any]) -> RebillyCoupon:
    """A fixed discount also rewrites the description, unless the flow fixes that too."""
    changes: dict[str, Any] = {}
    if "coupon_id" in values:
        changes["id"] = values["coupon_id"]
    if "customer_id" in values:
        changes["customer"] = replace(coupon.customer, id=values["customer_id"])
    if "discount" in values:
        discount = Discount(**values["discount"])
        changes["discount"] = discount
        changes["description"] = _describe(discount)
    if "description" in values:
        changes["description"] = values["description"]
    return replace(coupon, **changes)


def _describe(d: Discount) -> str:
    if d.type == "percent":
        return f"{d.value:g}% off"
    return f"{d.amount:g} {d.currency} off"
