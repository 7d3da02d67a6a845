"""Rebilly's coupon life: a draft is issued, may be modified, expire and have its expiration moved;
redemptions are applied, then redeemed, removed or canceled.
"""

from __future__ import annotations

from emulator.core.lifecycle import Machine, State
from emulator.vendors.rebilly.events import (
    APPLICATION_REMOVED,
    APPLIED,
    EVENT_TYPES,
    EXPIRATION_MODIFIED,
    EXPIRED,
    ISSUED,
    MODIFIED,
    REDEEMED,
    REDEMPTION_CANCELED,
    SLUG,
)

# (status, redemption): status draft/issued/expired, the current redemption none, applied,
# redeemed or closed (removed or canceled). A redemption is applied before it is redeemed; an
# expired coupon takes no new redemptions until its expiration moves (our reading).

_COUPON_CHANGES = {MODIFIED, EXPIRATION_MODIFIED, EXPIRED}


def _next(state: State, event: str) -> State | None:
    status, redemption = state  # type: ignore[misc]
    if status == "draft":
        return ("issued", redemption) if event == ISSUED else None
    if event == APPLICATION_REMOVED:
        return (status, "closed") if redemption == "applied" else None
    if event == REDEMPTION_CANCELED:
        return (status, "closed") if redemption == "redeemed" else None
    if status == "expired":
        return ("issued", redemption) if event == EXPIRATION_MODIFIED else None
    if event in _COUPON_CHANGES:
        return ("expired" if event == EXPIRED else status, redemption)
    if event == APPLIED:
        return None if redemption == "applied" else (status, "applied")
    if event == REDEEMED:
        return (status, "redeemed") if redemption == "applied" else None
    return None


def _describe(state: State) -> str:
    status, redemption = state  # type: ignore[misc]
    names = {"draft": "a draft (not issued yet)", "issued": "issued", "expired": "expired"}
    text = names[status]
    if redemption == "applied":
        text += ", with an application not yet redeemed"
    elif redemption == "redeemed":
        text += ", with a redeemed redemption"
    return text


MACHINE = Machine(SLUG, ("draft", "none"), tuple(et.name for et in EVENT_TYPES), _next, _describe)
