"""Punchh's coupon life: issued (unlock or discount) once, then honored by a redemption or voided;
both are final."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from emulator.core.lifecycle import Machine, State
from emulator.vendors.punchh.events import DISCOUNT, EVENT_TYPES, REDEMPTION, SLUG, UNLOCK, VOID

_NEXT: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "new": {UNLOCK: "issued", DISCOUNT: "issued"},
        "issued": {REDEMPTION: "honored", VOID: "void"},
        "honored": {},
        "void": {},
    }
)


def _next(state: State, event: str) -> State | None:
    return _NEXT[state].get(event)


MACHINE = Machine(SLUG, "new", tuple(et.name for et in EVENT_TYPES), _next, str)
