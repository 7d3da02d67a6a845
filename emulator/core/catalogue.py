"""The explicit list of vendors and their event types, and one-call sampling of any of them.

The built-in vendors are listed on one line below. A vendor of one's own (a private API, a vendor not
shipped yet) is a package implementing ``emulator.core.vendor.Vendor``, with its JSON Schemas in a
``schemas/`` folder inside the package, named in the environment variable
``COUPON_EMULATOR_VENDORS`` as ``module:Class`` (several separated by commas)::

    COUPON_EMULATOR_VENDORS=acme_coupons:Acme coupon-emulator events --vendor acme

Those vendors follow the built-in ones, in the order named. The variable is read once, by the
top-level package (``emulator.EXTRA_VENDORS``), so that the pure core reads no environment; the
classes are imported and instantiated here. Nothing registers itself by being imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from emulator import EXTRA_VENDORS, VENDORS_VAR
from emulator.core.errors import UnknownNameError, UsageError
from emulator.core.values import EPOCH
from emulator.core.vendor import DEFAULT_LINKS_BASE, Context, EventType, Vendor
from emulator.vendors import fabric, komo, punchh, rebilly

# What a vendor must define itself; the protocol's other members have defaults (core/vendor.py).
_REQUIRED = ("slug", "title", "event_types", "profile", "machine", "unknown_type")


def load(spec: str) -> Vendor:
    """An instance of the vendor class that ``spec`` (``module:Class``) names."""
    where = f"{VENDORS_VAR}: {spec!r}"
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name:
        raise UsageError(f"{where} is not module:Class, e.g. acme_coupons.vendor:Acme")
    try:
        vendor = getattr(importlib.import_module(module_name), class_name)()
    except Exception as exc:
        raise UsageError(f"{where} could not be loaded: {exc}") from exc
    missing = [name for name in _REQUIRED if not hasattr(vendor, name)]
    if missing:
        raise UsageError(f"{where} is not a Vendor: it lacks {', '.join(missing)}")
    return vendor


def listing(vendors: Iterable[Vendor]) -> Mapping[str, Vendor]:
    """``vendors`` by slug, read-only; a slug listed twice is an error."""
    by_slug: dict[str, Vendor] = {}
    for v in vendors:
        if v.slug in by_slug:
            raise UsageError(f"two vendors have the slug {v.slug!r}; slugs must be unique")
        by_slug[v.slug] = v
    return MappingProxyType(by_slug)


# One line per built-in vendor. Adding one: a package under emulator/vendors/ and a line here.
BUILT_IN = (komo.Komo(), fabric.Fabric(), rebilly.Rebilly(), punchh.Punchh())
VENDORS: Mapping[str, Vendor] = listing((*BUILT_IN, *map(load, EXTRA_VENDORS)))


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
    extras: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One body of event type ``name``: a fresh coupon that has just gone through that event.

    ``extras`` reach the builders as ``ctx.extras`` (a run's ``timestamp_unit``, say)."""
    et = event_type(slug, name)
    v = vendor(slug)
    ctx = Context.from_seed(seed, now=now, links_base=links_base)
    ctx.extras = dict(extras or {})
    coupon = v.apply(et.name, v.new_coupon(ctx), ctx)
    return v.build(et.name, coupon, ctx)
