"""What a scenario may set on a fabric coupon: the fields a flow fixes, and the tenant, which a
flow fixes for the whole run (every coupon of a batch belongs to one tenant)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from emulator.core.vendor import FixedField

if TYPE_CHECKING:
    from emulator.vendors.fabric import FabricCoupon

FIXED_FIELDS: Mapping[str, FixedField] = {
    "coupon_id": FixedField("object-id", unique=True, help="24 hex digits; also the promotionId"),
    "coupon_code": FixedField("text", help="the code shoppers enter, e.g. SUMMER-{n}"),
    "tenant_id": FixedField("object-id"),
}


def with_fixed(coupon: FabricCoupon, values: Mapping[str, Any]) -> FabricCoupon:
    """A coupon is its own promotion in fabric's model: a fixed coupon id fixes both."""
    changes = dict(values)
    if "coupon_id" in changes:
        changes["promotion_id"] = changes["coupon_id"]
    return replace(coupon, **changes)
