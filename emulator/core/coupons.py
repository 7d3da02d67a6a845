"""Who holds a scenario's coupons: shared users, offers and sites, and a flow's fixed fields.

A vendor's ``new_coupon`` draws a whole new identity. A scenario with a population instead gives
each coupon one of N users, M offers and K sites: each of those is a template coupon, made once by
the vendor's own ``new_coupon`` from a seed of its own, whose fields are copied onto the coupon.
A user is one person (name, email) across vendors. Overrides then fix fields per flow.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from emulator.core import catalogue
from emulator.core.fakedata import FakeData, Person
from emulator.core.vendor import Context
from emulator.vendors.rebilly import resources as rebilly_resources

# Fields copied from a template, per vendor and kind of holder. fabric coupons belong to a
# merchant, not a shopper: it has no users, offers or sites to share.
SHARED: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "komo": {
        "users": ("user_session_id", "user_profile_id", "attributes"),
        "offers": ("offer_id", "offer_name"),
        "sites": ("site_id", "site_name"),
    },
    "fabric": {},
    "rebilly": {"users": ("customer",), "offers": ("discount", "restrictions", "description")},
    "punchh": {
        "users": ("user",),
        "offers": (
            "coupon_campaign_id", "campaign_label", "redeemable", "flat_discount",
            "percentage_discount", "valid_days", "menu_items",
        ),
        "sites": ("business_id", "business_uuid", "business_slug"),
    },
}  # fmt: skip
KINDS = ("users", "offers", "sites")
# How komo names the captured attributes that come from the person (komo.py's keys).
_KOMO_PERSON = {
    "First name": "first_name",
    "Last name": "last_name",
    "Email": "email",
    "Date of birth": "birthday",
    "Postcode": "postcode",
    "Preferred store": "city",
}


@dataclass(frozen=True)
class Field:
    """One field a flow may fix. ``unique``: it identifies the coupon, so coupons of a flow need
    distinct values (a ``{n}`` template in text, counting up from an integer)."""

    kind: str  # uuid, object-id, text, code, int64, amount, percent, choice, discount
    unique: bool = False
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    help: str = ""


OVERRIDES: Mapping[str, Mapping[str, Field]] = {
    "komo": {
        "coupon_id": Field("uuid", unique=True, help="the coupon's uuid"),
        "coupon_code": Field("code", help="a string (may use {n}) or a number"),
        "offer_id": Field("uuid"),
        "offer_name": Field("text"),
        "site_id": Field("uuid"),
        "site_name": Field("text"),
        "coupon_location": Field("text"),
    },
    "fabric": {
        "coupon_id": Field("object-id", unique=True, help="24 hex digits; also the promotionId"),
        "coupon_code": Field("text", help="the code shoppers enter, e.g. SUMMER-{n}"),
        "tenant_id": Field("object-id"),
    },
    "rebilly": {
        "coupon_id": Field("text", unique=True, max_length=50, help="e.g. cpn_SUMMER_{n}"),
        "customer_id": Field("text", max_length=50),
        "discount": Field("discount", help="{type: fixed, amount, currency} or {type: percent, value}"),
        "description": Field("text"),
    },
    "punchh": {
        "coupon_id": Field("int64", unique=True, help="the first coupon's; the next count up"),
        "code": Field("text"),
        "coupon_type": Field("choice", choices=("unlock", "discount")),
        "flat_discount": Field("amount"),
        "percentage_discount": Field("percent"),
        "business_id": Field("int64"),
    },
}  # fmt: skip
DISCOUNT_CONTEXTS = ("items", "shipping", "items-and-shipping")
_ISSUANCE = {"coupon-issuance-unlock": "unlock", "coupon-issuance-discount": "discount"}


def override_conflict(slug: str, values: Mapping[str, Any], events: set[str]) -> str | None:
    """Why fixed fields contradict the flow's steps (punchh's type is fixed by its issuance)."""
    kind = values.get("coupon_type") if slug == "punchh" else None
    if kind is None:
        return None
    other = [e for e, t in _ISSUANCE.items() if t != kind and e in events]
    if other:
        mine = next(e for e, t in _ISSUANCE.items() if t == kind)
        return f"coupon_type {kind} contradicts the step {other[0]}; issue with {mine}"
    return None


def fixed(slug: str, coupon: Any, values: Mapping[str, Any], n: int) -> Any:
    """``coupon`` with a flow's fixed fields; ``n`` is the coupon's number in its flow, from 1."""
    if not values:
        return coupon
    v = {k: _nth(value, n, OVERRIDES[slug][k]) for k, value in values.items()}
    if slug == "komo":
        return replace(coupon, **v)
    if slug == "fabric":
        changes = dict(v)
        if "coupon_id" in changes:
            changes["promotion_id"] = changes["coupon_id"]
        return replace(coupon, **changes)
    if slug == "rebilly":
        changes: dict[str, Any] = {}
        if "coupon_id" in v:
            changes["id"] = v["coupon_id"]
        if "customer_id" in v:
            changes["customer"] = replace(coupon.customer, id=v["customer_id"])
        if "discount" in v:
            discount = rebilly_resources.Discount(**v["discount"])
            changes["discount"] = discount
            changes["description"] = _describe_discount(discount)
        if "description" in v:
            changes["description"] = v["description"]
        return replace(coupon, **changes)
    changes = dict(v)  # punchh
    if "flat_discount" in changes:
        changes["percentage_discount"] = 0
    if "percentage_discount" in changes:
        changes["flat_discount"] = 0
    return replace(coupon, **changes)


def _nth(value: Any, n: int, spec: Field) -> Any:
    if isinstance(value, str) and spec.kind in ("text", "code"):
        return value.format(n=n)
    if spec.kind == "int64" and spec.unique:
        return value + n - 1
    return value


def _describe_discount(d: rebilly_resources.Discount) -> str:
    if d.type == "percent":
        return f"{d.value:g}% off"
    return f"{d.amount:g} {d.currency} off"


class Holders:
    """Users, offers and sites of one run, each made on first use.

    Only the shared field values are kept (a few hundred bytes each), up to ``memo`` of them; past
    that the oldest are dropped and made again when drawn, identical, at some cost in speed.
    """

    def __init__(
        self,
        seed: int,
        start: datetime,
        fake: FakeData,
        links_base: str,
        counts: Mapping[str, int | None],
        memo: int = 50_000,
    ) -> None:
        self.seed, self.start, self.fake, self.links_base = seed, start, fake, links_base
        self.counts = {k: counts.get(k) for k in KINDS}
        self.memo_size = memo
        self._memo: dict[tuple[str, str, int], Any] = {}

    def personalise(self, slug: str, coupon: Any, rng: random.Random) -> Any:
        """``coupon`` held by one of the run's users, of one of its offers, at one of its sites."""
        shared = SHARED.get(slug, {})
        changes: dict[str, Any] = {}
        for kind in KINDS:
            count, fields = self.counts[kind], shared.get(kind)
            if not count or not fields:
                continue
            changes.update(zip(fields, self.shared(slug, kind, rng.randrange(count)), strict=True))
        return replace(coupon, **changes) if changes else coupon

    def shared(self, slug: str, kind: str, index: int) -> tuple[Any, ...]:
        """The field values that ``kind`` number ``index`` gives every coupon it holds."""
        key = (slug, kind, index)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= self.memo_size:
                del self._memo[next(iter(self._memo))]  # oldest first; entries are reproducible
            rng = random.Random(f"{self.seed}:{kind}:{index}:{slug}")
            ctx = Context(rng=rng, now=self.start, fake=self.fake, links_base=self.links_base)
            template = catalogue.vendor(slug).new_coupon(ctx)
            if kind == "users":
                template = _as_person(slug, template, self.person(index))
            found = tuple(getattr(template, f) for f in SHARED[slug][kind])
            self._memo[key] = found
        return found

    def person(self, index: int) -> Person:
        """User ``index``'s person: the same name and email whichever vendor holds the coupon."""
        return self.fake.person(random.Random(f"{self.seed}:person:{index}"))


def _as_person(slug: str, coupon: Any, person: Person) -> Any:
    if slug == "komo":
        attributes = tuple(
            (k, getattr(person, _KOMO_PERSON[k]) if k in _KOMO_PERSON else v)
            for k, v in coupon.attributes
        )
        return replace(coupon, attributes=attributes)
    if slug == "rebilly":
        return replace(coupon, customer=replace(coupon.customer, person=person))
    if slug == "punchh":
        user = coupon.user
        gender = person.gender if person.gender in ("male", "female") else None
        phone = person.phone if user.phone is not None else None
        return replace(coupon, user=replace(user, person=person, gender=gender, phone=phone))
    return coupon
