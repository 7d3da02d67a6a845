"""Komo's coupon life: issued once, viewed any number of times, a redemption succeeds once.

An error may follow anything after issuance (Komo's own example error is "Already redeemed"), and a
failed redemption may be tried again.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from emulator.core.lifecycle import Machine, State
from emulator.vendors.komo.events import EVENT_TYPES, FAILED, ISSUED, REDEEMED, SLUG, VIEWED

_REDEEMABLE = {
    VIEWED: "viewed",
    REDEEMED: "redeemed",
    FAILED: "redemption-failed",
}
_NEXT: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "new": {ISSUED: "issued"},
        "issued": _REDEEMABLE,
        "viewed": _REDEEMABLE,
        "redemption-failed": _REDEEMABLE,
        "redeemed": {VIEWED: "redeemed", FAILED: "redeemed"},
    }
)


def _next(state: State, event: str) -> State | None:
    return _NEXT[state].get(event)


MACHINE = Machine(SLUG, "new", tuple(et.name for et in EVENT_TYPES), _next, str)
