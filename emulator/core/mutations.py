"""Body mutations for edge cases, one implementation for scenario injection and the contract suite.

Which fields are optional or nullable is read from the event's JSON Schema, never from a hand list:
``omit_optional`` removes every field whose removal leaves the body valid, ``null_nullable`` sets
to null every field that may be null. Both keep what identifies the event (the vendor's
``observe`` reading must not change): some vendors' definitions make every top-level field optional,
and a body without its type and ids tests nothing.

Pure: the schema comes in as an argument (anything with ``is_valid``, as a ``jsonschema`` validator
has), loaded by the caller (``emulator.readers.schemas``); randomness comes in as a seeded
``random.Random``. Every function returns a new body and leaves its argument alone.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from emulator.core.vendor import Vendor, encode

Body = dict[str, Any]

UNKNOWN_FIELD = "coupon_emulator_unknown_field"
UNKNOWN_VALUE: Mapping[str, Any] = {"added": True, "items": [1, "two", None]}
# The ways real senders break JSON: cut short, a trailing comma, a ``//`` comment (one vendor's
# documented examples carry them).
MALFORMED_WAYS = ("cut", "trailing-comma", "comment")


class Schema(Protocol):
    """An event type's JSON Schema, ready to judge bodies (a ``jsonschema`` validator is one)."""

    def is_valid(self, instance: Any) -> bool: ...


def omit_optional(body: Mapping[str, Any], schema: Schema, vendor: Vendor) -> Body:
    """``body`` without every field its schema does not require (the event's identity kept)."""
    return _reduce(body, schema, vendor, _delete)


def null_nullable(body: Mapping[str, Any], schema: Schema, vendor: Vendor) -> Body:
    """``body`` with every field its schema lets be null set to null (the identity kept)."""
    return _reduce(body, schema, vendor, _nullify)


def add_unknown_fields(body: Mapping[str, Any]) -> Body:
    """``body`` with ``UNKNOWN_FIELD`` added to every object in it, the top level included, as
    vendors do when their payloads grow."""
    out = copy.deepcopy(dict(body))
    for node in list(_objects(out)):  # listed first: the added values hold objects too
        node[UNKNOWN_FIELD] = copy.deepcopy(dict(UNKNOWN_VALUE))
    return out


def unknown_type(vendor: Vendor, body: Mapping[str, Any], rng: random.Random) -> tuple[str, Body]:
    """``body`` relabelled as the one event type ``vendor`` declares it does not send (yet), with
    fresh event ids drawn from ``rng``: (that type's name, the new body). Consumers must
    acknowledge such an event and ignore it."""
    return vendor.unknown_type, vendor.with_unknown_type(body, rng)


def malformed(wire: bytes, how: str) -> bytes:
    """The body's bytes broken one of the ``MALFORMED_WAYS``."""
    if how == "cut":
        return wire[: max(1, len(wire) // 2)]
    if how == "trailing-comma":
        return wire[:-1] + b",}"
    if how == "comment":
        return b"{// sent broken on purpose by coupon-emulator\n" + wire[1:]
    raise ValueError(f"unknown way to break JSON {how!r}; valid: {', '.join(MALFORMED_WAYS)}")


def oversized(wire: bytes, size: int) -> bytes:
    """The same JSON, padded with insignificant whitespace before its last brace to ``size``."""
    return wire[:-1] + b" " * max(0, size - len(wire)) + wire[-1:]


# Text a consumer must store as sent: two-, three- and four-byte UTF-8 characters.
NON_ASCII = " · Zoë Ångström, 東京 ☕ 🎟"
# Attribute keys of a sender's choosing, each a way real keys break naive consumers: a space, a
# dot and a dollar sign (document stores), non-ASCII, a name longer than a database column.
ARBITRARY_KEYS = ("Favourite store", "profile.tier", "$locale", "Prénom 名前", "attr_" + "x" * 120)
ARBITRARY_VALUES: tuple[Any, ...] = ("", 42, 3.5, True, None, ["a", 1], {"nested": {"k": "v"}})
# Integers above 2**53 that a double cannot hold: an id parsed as a float comes out changed.
LARGE_INT_FROM = 2**53


def non_ascii_text(body: Mapping[str, Any], schema: Schema, vendor: Vendor) -> Body:
    """``body`` with ``NON_ASCII`` appended to every string the schema lets carry it (formats,
    patterns and enums keep the rest as they are; the event's identity is kept)."""

    def append(node: dict[str, Any], key: str) -> Body | None:
        if not isinstance(node[key], str):
            return None
        before = dict(node)
        node[key] = node[key] + NON_ASCII
        return before

    return _reduce(body, schema, vendor, append)


def large_ids(body: Mapping[str, Any], schema: Schema, rng: random.Random) -> Body:
    """``body`` with every integer id (a key ending in ``id``) the schema lets be large set to a
    distinct odd integer above 2**53, drawn from ``rng``."""
    out = copy.deepcopy(dict(body))
    for node in list(_objects(out)):
        for key, value in list(node.items()):
            if isinstance(value, bool) or not isinstance(value, int):
                continue
            if not key.lower().endswith("id"):
                continue
            node[key] = LARGE_INT_FROM + 2 * rng.randrange(1, 2**60) + 1
            if not schema.is_valid(out):
                node[key] = value
    return out


def arbitrary_keys(body: Mapping[str, Any], path: tuple[str | int, ...]) -> Body:
    """``body`` with ``ARBITRARY_KEYS`` added to the object at ``path``, their values of every
    JSON type in turn (``ARBITRARY_VALUES``)."""
    out = copy.deepcopy(dict(body))
    node: Any = out
    for step in path:
        node = node[step]
    for index, key in enumerate(ARBITRARY_KEYS):
        node[key] = copy.deepcopy(ARBITRARY_VALUES[index % len(ARBITRARY_VALUES)])
    node[ARBITRARY_KEYS[0] + " (list)"] = copy.deepcopy(ARBITRARY_VALUES[5])
    node[ARBITRARY_KEYS[0] + " (object)"] = copy.deepcopy(ARBITRARY_VALUES[6])
    return out


def grown(body: Mapping[str, Any], schema: Schema, vendor: Vendor, size: int) -> bytes:
    """``body``'s wire bytes grown to ``size``: the first free-text string the schema lets grow
    (a long description, say) takes the extra length, so the bytes stay the compact form a
    vendor sends; a body without one is padded with whitespace (``oversized``)."""
    wire = encode(body)
    extra = size - len(wire)
    if extra <= 0:
        return wire
    identity = vendor.observe(body)
    out = copy.deepcopy(dict(body))
    for node in _objects(out):
        for key, value in list(node.items()):
            if not isinstance(value, str):
                continue
            node[key] = value + "x" * extra
            if schema.is_valid(out) and vendor.observe(out) == identity:
                return encode(out)
            node[key] = value
    return oversized(wire, size)


def reformatted(body: Mapping[str, Any]) -> bytes:
    """The same JSON document in other bytes than the compact wire form: keys in reverse order,
    indented, non-ASCII written as ``\\u`` escapes. A signature over the bytes must still hold."""

    def reverse(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: reverse(v) for k, v in reversed(list(node.items()))}
        if isinstance(node, list):
            return [reverse(item) for item in node]
        return node

    return json.dumps(reverse(body), indent=2, ensure_ascii=True).encode("ascii")


# --- reduction against the schema ------------------------------------------------------------


def _reduce(
    body: Mapping[str, Any],
    schema: Schema,
    vendor: Vendor,
    change: Callable[[dict[str, Any], str], Body | None],
) -> Body:
    """Try ``change`` on every field, top down; keep each change that leaves the body valid and
    identified as before, and descend into the fields where it did not."""
    identity = vendor.observe(body)
    out = copy.deepcopy(dict(body))

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
            elif not (schema.is_valid(out) and vendor.observe(out) == identity):
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
