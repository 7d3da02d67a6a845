"""Edge cases a scenario injects into its events: what each does to a body or a request.

Each kind is also the label of the events it produces, so a plan says which events are not plain:

- ``duplicate``: the same body again, later (at-least-once delivery).
- ``out_of_order``: the event is delivered after the coupon's next event.
- ``late``: the event is delivered long after it happened (its timestamps unchanged).
- ``omit_optional``: the optional fields the body carries are left out.
- ``nullable_null``: nullable fields that carry a value are sent as null.
- ``unknown_fields``: a field the vendor does not document (yet), in every object of the body.
- ``unknown_event_type``: an extra event of a type the vendor does not have.
- ``wrong_auth``, ``missing_auth``: an extra copy of the request signed with a wrong secret, or
  without its auth headers; a consumer must refuse it (4xx).
- ``malformed_json``: an extra request whose body is broken JSON; a consumer must refuse it.
- ``oversized``: an extra copy padded with JSON whitespace to ``size`` bytes (default just over
  1 MiB); a consumer may take it (it is the same event) or refuse it (413), but not fail.

The extra requests come right before the event they copy. What each kind does to a body is one of
``emulator.core.mutations``, the functions the contract suite uses too: which fields are optional or
nullable comes from the event's JSON Schema, which the scenario's reader hands the plan.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Mapping
from typing import Any

from emulator.core import mutations
from emulator.core.mutations import Schema
from emulator.core.vendor import Vendor

KINDS = (
    "duplicate", "out_of_order", "late", "omit_optional", "nullable_null", "unknown_fields",
    "unknown_event_type", "wrong_auth", "missing_auth", "malformed_json", "oversized",
)  # fmt: skip
MUTATIONS = ("omit_optional", "nullable_null", "unknown_fields")  # change the event's own body
EXTRA_REQUESTS = ("wrong_auth", "missing_auth", "malformed_json", "oversized")
# Labels of requests that are not a step of the coupon's life: copies and extras.
NOT_A_STEP = frozenset(("duplicate", "unknown_event_type", *EXTRA_REQUESTS))
REORDERING = frozenset(("out_of_order", "late"))
# Bodies that break their vendor's schema on purpose (a future field, a future type).
BREAKS_SCHEMA = frozenset(("unknown_fields", "unknown_event_type"))
# Requests a correct consumer refuses; ``oversized`` may also be taken.
MUST_REFUSE = frozenset(("wrong_auth", "missing_auth", "malformed_json"))
DEFAULT_DELAYS = {"duplicate": (0.0, 30.0), "out_of_order": (1.0, 10.0), "late": (600.0, 7200.0)}
DEFAULT_SIZE = 1024 * 1024 + 1


def mutate(
    chosen: Collection[str], vendor: Vendor, body: dict[str, Any], schema: Callable[[], Schema]
) -> tuple[dict[str, Any], list[str]]:
    """The event's own body with the chosen ``MUTATIONS`` done, and the kinds that changed it.

    ``schema`` gives the event type's schema, asked for only when a mutation needs it.
    """
    labels = []
    for kind in MUTATIONS:
        if kind not in chosen:
            continue
        if kind == "omit_optional":
            changed = mutations.omit_optional(body, schema(), vendor)
        elif kind == "nullable_null":
            changed = mutations.null_nullable(body, schema(), vendor)
        else:
            changed = mutations.add_unknown_fields(body)
        if changed != body:
            body = changed
            labels.append(kind)
    return body, labels


def extra_bytes(kind: str, wire: bytes, rng: random.Random, size: int | None) -> bytes | None:
    """The raw body of an ``EXTRA_REQUESTS`` copy, or None when it is sent as the event's own."""
    if kind == "malformed_json":
        return mutations.malformed(wire, mutations.MALFORMED_WAYS[rng.randrange(3)])
    if kind == "oversized":
        return mutations.oversized(wire, size or DEFAULT_SIZE)
    return None


def unknown_event_type(
    vendor: Vendor, body: Mapping[str, Any], rng: random.Random
) -> tuple[str, dict[str, Any]]:
    """A copy of ``body`` announcing the type the vendor declares it does not have."""
    return mutations.unknown_type(vendor, body, rng)
