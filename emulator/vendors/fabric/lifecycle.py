"""fabric's coupon life: created once, then flags (enabled, active), a code and redemptions, until
it is deleted. Enable/disable and activate/deactivate are independent, and each only flips its flag.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from emulator.core.lifecycle import Machine, State
from emulator.vendors.fabric.events import (
    _CODE,
    _COUPON,
    _COUPON_REDEMPTION,
    _PROMOTION_REDEMPTION,
    EVENT_TYPES,
    SLUG,
)


@dataclass(frozen=True)
class FabricState:
    """A fabric coupon's flags: enable/disable and activate/deactivate are independent."""

    created: bool = False
    deleted: bool = False
    enabled: bool = True
    active: bool = False  # a created coupon is scheduled until it is activated
    code: bool = False
    redemption: str | None = None  # the open redemption: "coupon" or "promotion"

    def __str__(self) -> str:
        if not self.created:
            return "new (not created yet)"
        if self.deleted:
            return "deleted"
        parts = [
            "enabled" if self.enabled else "disabled",
            "active" if self.active else "scheduled (not active)",
            "with a code" if self.code else "without a code",
        ]
        if self.redemption:
            parts.append(f"with an open {self.redemption} redemption")
        return ", ".join(parts)


_REDEMPTION = {_COUPON_REDEMPTION: "coupon", _PROMOTION_REDEMPTION: "promotion"}


def _next(s: State, event: str) -> State | None:
    assert isinstance(s, FabricState)
    if not s.created:
        return replace(s, created=True) if event == f"{_COUPON}created" else None
    if s.deleted:
        return None
    prefix, _, action = event.rpartition(":")
    prefix += ":"
    if prefix == _COUPON:
        if action == "updated":
            return s
        if action == "deleted":
            return replace(s, deleted=True)
        if action in ("enabled", "disabled"):  # only a disabled coupon can be enabled, and back
            wanted = action == "enabled"
            return replace(s, enabled=wanted) if s.enabled != wanted else None
        if action in ("activated", "deactivated"):
            wanted = action == "activated"
            return replace(s, active=wanted) if s.active != wanted else None
        return None
    if prefix == _CODE:
        if action == "created":
            return None if s.code else replace(s, code=True)
        return s if action == "updated" and s.code else None
    kind = _REDEMPTION.get(prefix)
    if kind is None:
        return None
    if action == "created":  # shoppers cannot use a disabled coupon (our reading)
        return replace(s, redemption=kind) if s.enabled else None
    if s.redemption != kind:
        return None
    return s if action == "updated" else replace(s, redemption=None)


MACHINE = Machine(SLUG, FabricState(), tuple(et.name for et in EVENT_TYPES), _next, str)
