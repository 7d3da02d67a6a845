"""Bodies the cases send: the builders' full bodies, and variants derived from each event's JSON Schema.

The schema is the oracle, not a hand list: ``minimal`` removes every field whose removal leaves the
body valid, ``nulls`` sets to null every field that may be null. Both also keep what identifies the
event (the vendor's ``observe`` reading must not change): Rebilly's definitions make every top-level
field optional, and a body without its type and ids tests nothing. ``with_unknown_fields`` adds a
field the vendor does not document to every object, as vendors do when their payloads grow.
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

from emulator.core import catalogue
from emulator.core.values import EPOCH
from emulator.core.vendor import Context, EventType
from emulator.readers import schemas

UNKNOWN_FIELD = "coupon_emulator_unknown_field"
UNKNOWN_VALUE: Mapping[str, Any] = {"added": True, "items": [1, "two", None]}

Body = dict[str, Any]


def case_seed(seed: int, *parts: str) -> int:
    """A seed of its own for each case of a run: every case sends events with fresh ids."""
    return zlib.crc32(":".join((str(seed), *parts)).encode())


def full(et: EventType, seed: int) -> Body:
    """The complete body of one event type, as the vendor sends it."""
    return catalogue.sample(et.vendor, et.name, seed=seed)


def minimal(et: EventType, body: Body) -> Body:
    """``body`` with every field removed that its schema does not require."""
    return _reduce(et, body, _delete)


def nulls(et: EventType, body: Body) -> Body:
    """``body`` with every field its schema lets be null set to null."""
    return _reduce(et, body, _nullify)


def with_unknown_fields(body: Body) -> Body:
    """``body`` with ``UNKNOWN_FIELD`` added to every object in it, the top level included."""
    out = copy.deepcopy(body)
    for node in list(_objects(out)):  # listed first: the added values hold objects too
        node[UNKNOWN_FIELD] = copy.deepcopy(dict(UNKNOWN_VALUE))
    return out


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


# --- reduction against the schema ------------------------------------------------------------


def _reduce(
    et: EventType, body: Body, change: Callable[[dict[str, Any], str], Body | None]
) -> Body:
    """Try ``change`` on every field, top down; keep each change that leaves the body valid and
    identified as before, and descend into the fields where it did not."""
    validator = schemas.validator(et.schema_path)
    vendor = catalogue.vendor(et.vendor)
    identity = vendor.observe(body)
    out = copy.deepcopy(body)

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        for key in list(node):
            before = change(node, key)
            if before is None:
                walk(node[key])
            elif not (validator.is_valid(out) and vendor.observe(out) == identity):
                node.clear()
                node.update(before)  # undone, in the original key order
                walk(node[key])

    walk(out)
    return out


def _delete(node: dict[str, Any], key: str) -> Body:
    before = dict(node)
    del node[key]
    return before


def _nullify(node: dict[str, Any], key: str) -> Body | None:
    if node[key] is None:
        return None
    before = dict(node)
    node[key] = None
    return before


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in list(node.values()):
            yield from _objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from _objects(item)
