"""Edge cases a scenario injects into its events: what each does to a body or a request.

Each kind is also the label of the events it produces, so a plan says which events are not plain:

- ``duplicate``: the same body again, later (at-least-once delivery).
- ``out_of_order``: the event is delivered after the coupon's next event.
- ``late``: the event is delivered long after it happened (its timestamps unchanged).
- ``omit_optional``: the optional fields the body carries are left out.
- ``nullable_null``: nullable fields that carry a value are sent as null.
- ``unknown_fields``: fields the vendor does not document (yet), at the top and inside.
- ``unknown_event_type``: an extra event of a type the vendor does not have.
- ``wrong_auth``, ``missing_auth``: an extra copy of the request signed with a wrong secret, or
  without its auth headers; a consumer must refuse it (4xx).
- ``malformed_json``: an extra request whose body is broken JSON; a consumer must refuse it.
- ``oversized``: an extra copy padded with JSON whitespace to ``size`` bytes (default just over
  1 MiB); a consumer may take it (it is the same event) or refuse it (413), but not fail.

The extra requests come right before the event they copy. Which fields are optional or nullable is
listed per vendor below (a test checks the lists against the schemas).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping
from typing import Any

from emulator.core import values

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

Path = tuple[str, ...]  # keys from the body's root; "*" is every element of a list

_COUPON, _REDEMPTION = ("_embedded", "coupon"), ("_embedded", "redemption")
OPTIONAL: Mapping[str, tuple[Path, ...]] = {
    "komo": (("user_profile_id",), ("coupon_code",), ("competition_entry_id",)),
    # Rebilly documents no required top-level field; the ids, the type, the coupon's status and
    # revision stay, since dedupe keys and precedence depend on them.
    "rebilly": (
        ("_links",),
        (*_COUPON, "restrictions"),
        (*_COUPON, "redemptionsCount"),
        (*_COUPON, "description"),
        (*_COUPON, "expiredTime"),
        (*_COUPON, "createdTime"),
        (*_COUPON, "updatedTime"),
        (*_COUPON, "_links"),
        (*_REDEMPTION, "additionalRestrictions"),
        (*_REDEMPTION, "canceledTime"),
        (*_REDEMPTION, "_links"),
        ("_embedded", "customer"),
    ),
}  # fabric and punchh always send every key
NULLABLE: Mapping[str, tuple[Path, ...]] = {
    "rebilly": (
        (*_COUPON, "expiredTime"),
        (*_REDEMPTION, "canceledTime"),
        ("_embedded", "customer", "email"),
        ("_embedded", "customer", "firstName"),
        ("_embedded", "customer", "lastName"),
        ("_embedded", "customer", "primaryAddress"),
    ),
    "punchh": tuple(
        ("payload", k)
        for k in (
            "app_device_id",
            "bar_code",
            "email",
            "employee_id",
            "gift_count",
            "revenue_code",
            "revenue_id",
        )
    )
    + tuple(
        ("payload", "user", k)
        for k in (
            "phone",
            "gender",
            "birthday",
            "first_name",
            "last_name",
            "preferred_locale",
            "external_source_id",
            "last_activity_at",
        )
    )
    + tuple(
        ("payload", "redeemable", k)
        for k in (
            "description",
            "discount_amount",
            "redeemable_image_url",
            "meta_data",
        )
    ),
}  # komo has no nullable field; fabric's only one, subject, is always null
# Where unknown fields go inside the body, besides its top level.
_INNER: Mapping[str, tuple[Path, ...]] = {
    "fabric": (("events", "*"), ("events", "*", "data")),
    "rebilly": (_COUPON,),
    "punchh": (("payload",),),
}


def omit_optional(slug: str, body: dict[str, Any]) -> bool:
    """Drop the optional fields ``body`` carries (in place); False when it carries none."""
    return _each(body, OPTIONAL.get(slug, ()), lambda parent, key: parent.pop(key))


def nullable_null(slug: str, body: dict[str, Any]) -> bool:
    """Set nullable fields that hold a value to null (in place); False when none does."""

    def null(parent: dict[str, Any], key: str) -> None:
        if parent[key] is None:
            raise KeyError(key)  # nothing to change here
        parent[key] = None

    return _each(body, NULLABLE.get(slug, ()), null)


def unknown_fields(slug: str, body: dict[str, Any], rng: random.Random) -> bool:
    """Add fields the vendor does not document, at the top level and inside (in place)."""
    targets = [body]
    for path in _INNER.get(slug, ()):
        targets.extend(o for o in _find(body, path) if isinstance(o, dict))
    for i, target in enumerate(targets):
        target[f"x_unknown_field_{i + 1}"] = rng.choice(
            ("added later", 42, 3.5, True, None, ["a", 1], {"nested": {"deeper": "value"}})
        )
    return True


# The type each vendor's ``unknown_event_type`` copies announce: plausible, and not in the catalogue.
UNKNOWN_TYPES: Mapping[str, str] = {
    "komo": "CouponExpired",
    "fabric": "offers:coupon:archived",
    "rebilly": "coupon-archived",
    "punchh": "coupon-delete",  # event_name coupons, action delete
}


def unknown_event_type(
    slug: str, body: Mapping[str, Any], rng: random.Random
) -> tuple[str, dict[str, Any]] | None:
    """A copy of ``body`` announcing a type the vendor does not have, with fresh event ids."""
    name = UNKNOWN_TYPES.get(slug)
    if name is None:
        return None
    out = copy.deepcopy(dict(body))
    if slug == "komo":
        out["event"], out["id"] = name, values.uuid4(rng)
    elif slug == "fabric":
        out["type"] = name
        for event in out["events"]:
            event["id"] = values.uuid4(rng)
            event["data"]["status"] = "ARCHIVED"
    elif slug == "rebilly":
        out["eventType"] = name
    else:
        out["content_id"], out["action"] = values.uuid4(rng), "delete"
    return name, out


def malformed(wire: bytes, rng: random.Random) -> bytes:
    """The body's bytes broken the ways real senders break them: cut short, a trailing comma,
    or a ``//`` comment (as in Komo's documented examples)."""
    how = rng.randrange(3)
    if how == 0:
        return wire[: max(1, len(wire) // 2)]
    if how == 1:
        return wire[:-1] + b",}"
    return b"{// sent broken on purpose by coupon-emulator\n" + wire[1:]


def oversized(wire: bytes, size: int) -> bytes:
    """The same JSON, padded with insignificant whitespace before its last brace to ``size``."""
    return wire[:-1] + b" " * max(0, size - len(wire)) + wire[-1:]


def _find(body: Any, path: Path) -> list[Any]:
    found = [body]
    for key in path:
        nxt = []
        for obj in found:
            if key == "*" and isinstance(obj, list):
                nxt.extend(obj)
            elif isinstance(obj, dict) and key in obj:
                nxt.append(obj[key])
        found = nxt
    return found


def _each(body: dict[str, Any], paths: tuple[Path, ...], change) -> bool:
    changed = False
    for path in paths:
        for parent in _find(body, path[:-1]):
            if isinstance(parent, dict) and path[-1] in parent:
                try:
                    change(parent, path[-1])
                except KeyError:
                    continue
                changed = True
    return changed
