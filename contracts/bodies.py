"""Bodies the cases send: the builders' full bodies, and the edge-case variants of them.

The variants are ``emulator.core.mutations``, the functions scenario injection uses too, given the
event's JSON Schema as their oracle: ``minimal`` removes every field whose removal leaves the body
valid, ``nulls`` sets to null every field that may be null (both keep what identifies the event),
``with_unknown_fields`` adds a field the vendor does not document to every object, and
``with_unknown_type`` relabels a body as the one type its vendor declares it does not send.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from emulator.core import catalogue, mutations
from emulator.core.mutations import UNKNOWN_FIELD, UNKNOWN_VALUE
from emulator.core.values import EPOCH
from emulator.core.vendor import Context, EventType, encode
from emulator.readers import schemas

__all__ = ["UNKNOWN_FIELD", "UNKNOWN_VALUE"]

Body = dict[str, Any]


def case_seed(seed: int, *parts: str) -> int:
    """A seed of its own for each case of a run: every case sends events with fresh ids."""
    return zlib.crc32(":".join((str(seed), *parts)).encode())


def full(et: EventType, seed: int) -> Body:
    """The complete body of one event type, as the vendor sends it."""
    return catalogue.sample(et.vendor, et.name, seed=seed)


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


def lifecycle(vendor: str, steps: Sequence[tuple[str, float]], seed: int) -> list[Body]:
    """The bodies of one coupon going through ``steps`` (event type, seconds after the start)."""
    v = catalogue.vendor(vendor)
    ctx = Context.from_seed(seed)
    coupon = v.new_coupon(ctx)
    out = []
    for event_type, after in steps:
        ctx.now = EPOCH + timedelta(seconds=after)
        coupon = v.apply(event_type, coupon, ctx)
        out.append(v.build(event_type, coupon, ctx))
    return out


def batch(vendor: str, event_type: str, count: int, seed: int) -> Body:
    """One body carrying ``count`` events of ``event_type``, each about a coupon of its own."""
    v = catalogue.vendor(vendor)
    ctx = Context.from_seed(seed)  # one context: the coupons share the run's tenant
    built = [
        v.build(event_type, v.apply(event_type, v.new_coupon(ctx), ctx), ctx) for _ in range(count)
    ]
    return v.batch(built)


def _vendor(et: EventType) -> Any:
    return catalogue.vendor(et.vendor)
