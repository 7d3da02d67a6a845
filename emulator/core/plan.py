"""Planned events: what a run intends to deliver, before any envelope, signature or socket."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
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
    secret or without auth headers. Such requests are never batched. ``block_end`` marks the last
    event of a block of an event list (``BLOCK``): no batch holds events of two blocks, so each
    block's requests can be made apart from the others (on several processes).
    """

    vendor: str
    event_type: str
    coupon_key: str
    body: dict[str, Any]
    due: float = 0.0
    label: str = ""
    raw_body: bytes | None = None
    auth: str | None = None
    block_end: bool = False


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


# Events of an event list per block. The first block draws from ``random.Random(seed)`` itself,
# each later one from a random stream of its own (``block_random``), and no batch holds events of
# two blocks: so a list can be planned and made into requests block by block on several processes
# (``emulator.delivery.planners``) and come out the same. A list of up to BLOCK events is one
# stream, as it always was.
BLOCK = 1000


def block_random(seed: int, block: int) -> random.Random:
    """The random stream of an event list's ``block``-th block of ``BLOCK`` events."""
    return random.Random(seed) if block == 0 else random.Random(f"{seed}:events:{block}")


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
    event of a block draws from the block's stream in turn, but never encoded or sent.
    """
    return itertools.chain.from_iterable(
        simple_blocks(items, seed, start, links_base, extras, share)
    )


@dataclass(frozen=True)
class Parts:
    """A plan that can be planned in parts: ``plan((index, count))`` yields that part's blocks
    (``simple_blocks``), and the parts taken a block each in turn are the plan; ``blocks`` of
    them in all. What ``emulator.delivery.planners`` spreads over processes."""

    blocks: int
    plan: Callable[[Share], Iterator[list[PlannedEvent]]]


def simple_parts(
    items: Sequence[tuple[str, str, int, float]],
    seed: int,
    start: datetime,
    links_base: str = DEFAULT_LINKS_BASE,
    extras: Mapping[str, Any] | None = None,
    share: Share | None = None,
) -> Parts:
    """``simple_plan`` of the same arguments, as ``Parts``."""
    total = sum(count for _, _, count, _ in items)
    return Parts(
        -(-total // BLOCK),
        lambda part: simple_blocks(items, seed, start, links_base, extras, share, part),
    )


def simple_blocks(
    items: Iterable[tuple[str, str, int, float]],
    seed: int,
    start: datetime,
    links_base: str = DEFAULT_LINKS_BASE,
    extras: Mapping[str, Any] | None = None,
    share: Share | None = None,
    part: Share | None = None,
) -> Iterator[list[PlannedEvent]]:
    """``simple_plan``'s events, a list per block of ``BLOCK`` (fewer after ``share``'s filter).

    ``part=(index, count)``: only blocks ``index``, ``index + count``, ... of the plan; the
    ``count`` parts, taken a block from each in turn, are the whole plan. The blocks of other
    parts are skipped, not planned: each block has its own random stream.
    """
    mine, shares = check_share(share)
    part_index, parts = check_share(part)
    items = [(slug, catalogue.event_type(slug, name).name, count, every)
             for slug, name, count, every in items]  # fmt: skip
    ctx = Context.from_seed(seed, now=start, links_base=links_base)
    ctx.extras = dict(extras or {})
    clock = 0.0
    last: float | None = None
    n = 0
    block: list[PlannedEvent] = []
    started = False  # whether the part has begun a block (yielded when the next begins)
    for slug, name, count, every in items:
        vendor = catalogue.vendor(slug)
        new_coupon, apply, build = vendor.new_coupon, vendor.apply, vendor.build
        for i in range(count):
            if i:
                clock += every
            number, at = divmod(n, BLOCK)
            n += 1
            if number % parts != part_index:
                continue  # another part's block; only the clock moves on
            if at == 0:
                if started:
                    yield _ended(block)
                    block = []
                started = True
                ctx.rng = block_random(seed, number)
            if clock != last:  # events due together share one instant
                ctx.now, last = start + timedelta(seconds=clock), clock
            body = build(name, apply(name, new_coupon(ctx), ctx), ctx)
            if shares == 1 or owner(n - 1, shares) == mine:
                block.append(PlannedEvent(slug, name, f"{slug}:{n - 1}", body, due=clock))
    if started:
        yield _ended(block)


def _ended(block: list[PlannedEvent]) -> list[PlannedEvent]:
    if block:
        block[-1] = replace(block[-1], block_end=True)
    return block


def builder_extras(settings: Any) -> dict[str, Any]:
    """What the vendor builders need from delivery settings: the ``timestamp_unit`` of a vendor
    whose profile has ``timestamp_units``. One run-wide unit: the first configured vendor's."""
    for target in settings.vendors.values():
        if target.timestamp_unit:
            return {"timestamp_unit": target.timestamp_unit}
    return {}
