"""Who holds a scenario's coupons: shared users, offers and sites, and a flow's fixed fields.

A vendor's ``new_coupon`` draws a whole new identity. A scenario with a population instead gives
each coupon one of N users, M offers and K sites: each of those is a template coupon, made once by
the vendor's own ``new_coupon`` from a seed of its own, whose fields are copied onto the coupon.
A user is one person (name, email) across vendors. A flow's fixed fields then override fields per
coupon. What each vendor shares and lets fix is its own (``Vendor.shared_fields``,
``Vendor.fixed_fields``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from emulator.core import catalogue
from emulator.core.fakedata import FakeData, Person
from emulator.core.frozen import evolve
from emulator.core.vendor import Context, FixedField

KINDS = ("users", "offers", "sites")
# The value kind ``discount`` (``FixedField``): where a fixed discount applies.
DISCOUNT_CONTEXTS = ("items", "shipping", "items-and-shipping")


def fixed(slug: str, coupon: Any, values: Mapping[str, Any], n: int) -> Any:
    """``coupon`` with a flow's fixed fields; ``n`` is the coupon's number in its flow, from 1."""
    if not values:
        return coupon
    vendor = catalogue.vendor(slug)
    fields = vendor.fixed_fields
    return vendor.with_fixed(coupon, {k: _nth(v, n, fields[k]) for k, v in values.items()})


def _nth(value: Any, n: int, spec: FixedField) -> Any:
    if isinstance(value, str) and spec.kind in ("text", "code"):
        return value.format(n=n)
    if spec.kind == "int64" and spec.unique:
        return value + n - 1
    return value


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
        shared = catalogue.vendor(slug).shared_fields
        changes: dict[str, Any] = {}
        for kind in KINDS:
            count, fields = self.counts[kind], shared.get(kind)
            if not count or not fields:
                continue
            changes.update(zip(fields, self.shared(slug, kind, rng.randrange(count)), strict=True))
        return evolve(coupon, **changes) if changes else coupon

    def shared(self, slug: str, kind: str, index: int) -> tuple[Any, ...]:
        """The field values that ``kind`` number ``index`` gives every coupon it holds."""
        key = (slug, kind, index)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= self.memo_size:
                del self._memo[next(iter(self._memo))]  # oldest first; entries are reproducible
            rng = random.Random(f"{self.seed}:{kind}:{index}:{slug}")
            ctx = Context(rng=rng, now=self.start, fake=self.fake, links_base=self.links_base)
            vendor = catalogue.vendor(slug)
            template = vendor.new_coupon(ctx)
            if kind == "users":
                template = vendor.as_person(template, self.person(index))
            found = tuple(getattr(template, f) for f in vendor.shared_fields[kind])
            self._memo[key] = found
        return found

    def person(self, index: int) -> Person:
        """User ``index``'s person: the same name and email whichever vendor holds the coupon."""
        return self.fake.person(random.Random(f"{self.seed}:person:{index}"))
