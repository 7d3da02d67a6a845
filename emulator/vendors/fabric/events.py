"""fabric's event types under their wire names (the envelope's ``type``)."""

from __future__ import annotations

from emulator.core.vendor import EventType

SLUG = "fabric"

_COUPON = "offers:coupon:"
_CODE = "offers:couponCode:"
_PROMOTION_REDEMPTION = "offers:redemption:promotion:"
_COUPON_REDEMPTION = "offers:redemption:coupon:"

_SUMMARIES = {
    f"{_COUPON}created": "a coupon is created",
    f"{_COUPON}updated": "a coupon is updated",
    f"{_COUPON}deleted": "a coupon is deleted",
    f"{_COUPON}enabled": "a disabled coupon is enabled: shoppers can use it again",
    f"{_COUPON}disabled": "a coupon is disabled: shoppers can no longer use it",
    f"{_COUPON}activated": "a scheduled coupon becomes active and available for use",
    f"{_COUPON}deactivated": "a coupon is deactivated and no longer available for use",
    f"{_CODE}created": "a coupon code is created",
    f"{_CODE}updated": "a coupon code is updated",
    f"{_PROMOTION_REDEMPTION}created": "redemption details for a promotion are created",
    f"{_PROMOTION_REDEMPTION}updated": "redemption details for a promotion are updated",
    f"{_PROMOTION_REDEMPTION}deleted": "redemption details for a promotion are deleted",
    f"{_COUPON_REDEMPTION}created": "redemption details of a coupon are created",
    f"{_COUPON_REDEMPTION}updated": "redemption details of a coupon are updated",
    f"{_COUPON_REDEMPTION}deleted": "redemption details of a coupon are deleted",
}

EVENT_TYPES = tuple(
    EventType(SLUG, name, summary, f"{name.replace(':', '.')}.json")
    for name, summary in _SUMMARIES.items()
)
