"""Komo's event types under their wire names (the ``event`` field)."""

from __future__ import annotations

from emulator.core.vendor import EventType

SLUG = "komo"

ISSUED = "CouponIssued"
VIEWED = "CouponViewed"
REDEEMED = "CouponRedemptionSuccess"
FAILED = "CouponRedemptionError"

EVENT_TYPES = (
    EventType(SLUG, ISSUED, "a coupon is issued to a user", f"{ISSUED}.json"),
    EventType(SLUG, VIEWED, "a user views a coupon (not a redemption)", f"{VIEWED}.json"),
    EventType(SLUG, REDEEMED, "a user redeems a coupon", f"{REDEEMED}.json"),
    EventType(SLUG, FAILED, "a redemption attempt fails (e.g. already redeemed)", f"{FAILED}.json"),
)
