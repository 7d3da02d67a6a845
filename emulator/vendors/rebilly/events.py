"""Rebilly's event types under their wire names (the ``eventType`` field)."""

from __future__ import annotations

from emulator.core.vendor import EventType

SLUG = "rebilly"

ISSUED = "coupon-issued"
MODIFIED = "coupon-modified"
EXPIRATION_MODIFIED = "coupon-expiration-modified"
EXPIRED = "coupon-expired"
APPLIED = "coupon-applied"
APPLICATION_REMOVED = "coupon-application-removed"
REDEEMED = "coupon-redeemed"
REDEMPTION_CANCELED = "coupon-redemption-canceled"

COUPON_EVENTS = (ISSUED, MODIFIED, EXPIRATION_MODIFIED, EXPIRED)
REDEMPTION_EVENTS = (APPLIED, APPLICATION_REMOVED, REDEEMED, REDEMPTION_CANCELED)


def _event(name: str, summary: str) -> EventType:
    return EventType(SLUG, name, summary, f"{name}.json")


EVENT_TYPES = (
    _event(ISSUED, "a coupon is issued (status becomes issued)"),
    _event(MODIFIED, "a coupon's discount or restrictions change"),
    _event(EXPIRATION_MODIFIED, "a coupon's expiration time changes"),
    _event(EXPIRED, "a coupon expires (status becomes expired)"),
    _event(APPLIED, "a coupon is applied for a customer (a redemption is created)"),
    _event(APPLICATION_REMOVED, "a coupon application is removed"),
    _event(REDEEMED, "a coupon is redeemed (redemptionsCount rises)"),
    _event(REDEMPTION_CANCELED, "a coupon redemption is canceled"),
)
