"""Planned events: what a run intends to deliver, before any envelope, signature or socket."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from emulator.core import catalogue
from emulator.core.vendor import DEFAULT_LINKS_BASE, Context


@dataclass(frozen=True)
class PlannedEvent:
    """One event of a run: which vendor sends it, about which coupon, with which body, and when.

    ``due`` is seconds after the run starts, in vendor time (``time_scale`` shrinks it at delivery).
    ``label`` names the injected edge cases, comma-separated (empty for a plain event; see
    ``emulator.core.inject``). ``raw_body`` replaces the encoded body on the wire (malformed or
    oversized requests); ``auth`` ``"wrong"`` or ``"missing"`` sends the request with a wrong
    secret or without auth headers. Such requests are never batched.
    """

    vendor: str
    event_type: str
    coupon_key: str
    body: dict[str, Any]
    due: float = 0.0
    label: str = ""
    raw_body: bytes | None = None
    auth: str | None = None


Share = tuple[int, int]  # (index, count): one of ``count`` disjoint parts of a plan, by coupon


def check_share(share: Share | None) -> Share:
    """``share`` itself, ``(0, 1)`` (the whole plan) for None; ValueError when it cannot exist."""
    if share is None:
        return (0, 1)
    index, count = share
    if not 0 <= index < count:
        raise ValueError(f"share {index} of {count} does not exist; expected 0 <= index < count")
    return share


def owner(number: int, count: int) -> int:
    """The share (of ``count``) that plans coupon ``number``: coupons are numbered from 0 across
    the whole plan (a scenario's flows one after the other) and dealt out in turn, so every share
    gets its part of every flow, and each coupon's whole life is in exactly one share."""
    return number % count


def simple_plan(
    items: Iterable[tuple[str, str, int, float]],
    seed: int,
    start: datetime,
    links_base: str = DEFAULT_LINKS_BASE,
    extras: Mapping[str, Any] | None = None,
    share: Share | None = None,
) -> Iterator[PlannedEvent]:
    """Independent events, each about a fresh coupon, from ``(vendor, type, count, every)`` items.

    The plain event list that ``run`` accepts; deterministic in ``seed``. An item's events are
    ``every`` seconds apart in vendor time and follow the previous item's. ``share`` keeps only
    the events of that share's coupons (``owner``); the others are still built, since every
    event draws from the one stream of the seed in turn, but never encoded or sent.
    """
    mine, shares = check_share(share)
    ctx = Context.from_seed(seed, now=start, links_base=links_base)
    ctx.extras = dict(extras or {})
    clock = 0.0
    last: float | None = None
    n = 0
    for slug, name, count, every in items:
        name = catalogue.event_type(slug, name).name
        vendor = catalogue.vendor(slug)
        new_coupon, apply, build = vendor.new_coupon, vendor.apply, vendor.build
        for i in range(count):
            if i:
                clock += every
            if clock != last:  # events due together share one instant
                ctx.now, last = start + timedelta(seconds=clock), clock
            body = build(name, apply(name, new_coupon(ctx), ctx), ctx)
            if shares == 1 or owner(n, shares) == mine:
                yield PlannedEvent(slug, name, f"{slug}:{n}", body, due=clock)
            n += 1


def builder_extras(settings: Any) -> dict[str, Any]:
    """What the vendor builders need from delivery settings: the ``timestamp_unit`` of a vendor
    whose profile has ``timestamp_units``. One run-wide unit: the first configured vendor's."""
    for target in settings.vendors.values():
        if target.timestamp_unit:
            return {"timestamp_unit": target.timestamp_unit}
    return {}
