"""Punchh's event types: Punchh has no single type string, so these are the catalogue's names."""

from __future__ import annotations

from emulator.core.vendor import EventType

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
