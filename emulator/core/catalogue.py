"""The explicit list of vendors and their event types, and one-call sampling of any of them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from emulator.core.errors import UnknownNameError
from emulator.core.values import EPOCH
from emulator.core.vendor import DEFAULT_LINKS_BASE, Context, EventType, Vendor
from emulator.vendors import fabric, komo, punchh, rebilly

# One line per vendor. Adding a vendor: one module, one schema folder, one line here.
VENDORS: Mapping[str, Vendor] = MappingProxyType(
    {v.slug: v for v in (komo.Komo(), fabric.Fabric(), rebilly.Rebilly(), punchh.Punchh())}
)


def vendor(slug: str) -> Vendor:
    """The vendor called ``slug``; an unknown slug lists the valid ones."""
    try:
        return VENDORS[slug]
    except KeyError:
        raise UnknownNameError("vendor", slug, VENDORS) from None


def event_types(slug: str | None = None) -> tuple[EventType, ...]:
    """Every event type, or those of one vendor, in catalogue order."""
    if slug is not None:
        return vendor(slug).event_types
    return tuple(et for v in VENDORS.values() for et in v.event_types)


def event_type(slug: str, name: str) -> EventType:
    """The event type ``name`` of vendor ``slug``; an unknown name lists that vendor's types."""
    types = vendor(slug).event_types
    for et in types:
        if et.name == name:
            return et
    raise UnknownNameError(
        f"{slug} event type",
        name,
        (et.name for et in types),
        hint=f"List them with: coupon-emulator events --vendor {slug}",
    )


def sample(
    slug: str,
    name: str,
    seed: int = 0,
    now: datetime = EPOCH,
    links_base: str = DEFAULT_LINKS_BASE,
) -> dict[str, Any]:
    """One body of event type ``name``: a fresh coupon that has just gone through that event."""
    et = event_type(slug, name)
    v = vendor(slug)
    ctx = Context.from_seed(seed, now=now, links_base=links_base)
    coupon = v.apply(et.name, v.new_coupon(ctx), ctx)
    return v.build(et.name, coupon, ctx)
