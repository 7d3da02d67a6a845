"""Bodies the cases send: the builders' full bodies, and the edge-case variants of them.

The variants are ``emulator.core.mutations``, the functions scenario injection uses too, given the
event's JSON Schema as their oracle: ``minimal`` removes every field whose removal leaves the body
valid, ``nulls`` sets to null every field that may be null (both keep what identifies the event),
``with_unknown_fields`` adds a field the vendor does not document to every object,
``with_unknown_type`` relabels a body as the one type its vendor declares it does not send, and
``non_ascii``, ``large_ids``, ``arbitrary_keys``, ``reformatted`` and ``padded`` make the bodies of
the cases about text, ids, attribute keys, signed bytes and size. Every builder takes the target's
``extras`` (its ``timestamp_unit``), read from the settings as ``run`` reads them.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Mapping, Sequence
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from emulator.core import catalogue, mutations
from emulator.core.mutations import UNKNOWN_FIELD, UNKNOWN_VALUE
from emulator.core.plan import builder_extras
from emulator.core.values import EPOCH
from emulator.core.vendor import Context, EventType, encode
from emulator.readers import schemas

__all__ = ["UNKNOWN_FIELD", "UNKNOWN_VALUE"]

Body = dict[str, Any]


def case_seed(seed: int, *parts: str) -> int:
    """A seed of its own for each case of a run: every case sends events with fresh ids."""
    return zlib.crc32(":".join((str(seed), *parts)).encode())


Extras = Mapping[str, Any] | None


def extras_of(target: Any) -> dict[str, Any]:
    """What the builders read from a target's settings, exactly as a run reads them."""
    return builder_extras(SimpleNamespace(vendors={target.vendor: target}))


def full(et: EventType, seed: int, extras: Extras = None) -> Body:
    """The complete body of one event type, as the vendor sends it."""
    return catalogue.sample(et.vendor, et.name, seed=seed, extras=extras)


def minimal(et: EventType, body: Body) -> Body:
    """``body`` with every field removed that its schema does not require."""
    return mutations.omit_optional(body, schemas.validator(et.schema_path), _vendor(et))


def nulls(et: EventType, body: Body) -> Body:
    """``body`` with every field its schema lets be null set to null."""
    return mutations.null_nullable(body, schemas.validator(et.schema_path), _vendor(et))


def with_unknown_fields(body: Body) -> Body:
    """``body`` with ``UNKNOWN_FIELD`` added to every object in it, the top level included."""
    return mutations.add_unknown_fields(body)


def with_unknown_type(vendor: str, body: Body, seed: int) -> Body:
    """``body`` relabelled as the event type ``vendor`` does not send, fresh ids drawn from ``seed``."""
    return mutations.unknown_type(catalogue.vendor(vendor), body, random.Random(seed))[1]


def malformed(body: Body) -> bytes:
    """``body``'s wire bytes cut in half: JSON no parser takes."""
    return mutations.malformed(encode(body), "cut")


def lifecycle(
    vendor: str, steps: Sequence[tuple[str, float]], seed: int, extras: Extras = None
) -> list[Body]:
    """The bodies of one coupon going through ``steps`` (event type, seconds after the start)."""
    v = catalogue.vendor(vendor)
    ctx = Context.from_seed(seed)
    ctx.extras = dict(extras or {})
    coupon = v.new_coupon(ctx)
    out = []
    for event_type, after in steps:
        ctx.now = EPOCH + timedelta(seconds=after)
        coupon = v.apply(event_type, coupon, ctx)
        out.append(v.build(event_type, coupon, ctx))
    return out


def batch(vendor: str, event_type: str, count: int, seed: int, extras: Extras = None) -> Body:
    """One body carrying ``count`` events of ``event_type``, each about a coupon of its own."""
    v = catalogue.vendor(vendor)
    ctx = Context.from_seed(seed)  # one context: the coupons share the run's tenant
    ctx.extras = dict(extras or {})
    built = [
        v.build(event_type, v.apply(event_type, v.new_coupon(ctx), ctx), ctx) for _ in range(count)
    ]
    return v.batch(built)


def non_ascii(vendor: str, seed: int, extras: Extras = None) -> tuple[EventType, Body]:
    """The first event type of ``vendor`` whose schema lets its text be non-ASCII, and a body of
    it with ``mutations.NON_ASCII`` in every string that may carry it."""
    found = None
    for et in catalogue.event_types(vendor):
        body = full(et, seed, extras)
        changed = mutations.non_ascii_text(body, schemas.validator(et.schema_path), _vendor(et))
        if changed != body:
            return et, changed
        found = found or (et, body)
    assert found is not None, f"{vendor} has no event types"
    return found


def large_ids(et: EventType, body: Body, seed: int) -> Body:
    """``body`` with its integer ids above 2**53 (``mutations.large_ids``)."""
    return mutations.large_ids(body, schemas.validator(et.schema_path), random.Random(seed))


def has_integer_ids(vendor: str) -> bool:
    """Whether the coupon id the probe asks about is an integer on this vendor's wire."""
    v = catalogue.vendor(vendor)
    et = v.event_types[0]
    body = full(et, 0)
    return [o.coupon_id for o in v.observe(body)] != [
        o.coupon_id for o in v.observe(large_ids(et, body, 0))
    ]


def arbitrary_keys(vendor: str, body: Body) -> Body:
    """``body`` with keys of the sender's choosing where the vendor has them (``open_keys``)."""
    path = catalogue.vendor(vendor).open_keys
    return mutations.arbitrary_keys(body, path or ())


def reformatted(body: Body) -> bytes:
    """The same document in other bytes: keys reversed, indented, non-ASCII escaped."""
    return mutations.reformatted(body)


def padded(et: EventType, body: Body, size: int) -> bytes:
    """``body``'s wire bytes grown to ``size`` bytes (``mutations.grown``)."""
    return mutations.grown(body, schemas.validator(et.schema_path), _vendor(et), size)


def _vendor(et: EventType) -> Any:
    return catalogue.vendor(et.vendor)
