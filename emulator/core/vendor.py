"""The vendor model: the protocol every vendor package implements, and the context its builders
draw from.

A vendor module turns (event type, coupon state, context) into the exact body the vendor sends. It
does no I/O and never reads the clock or global randomness: the context carries the seeded random
generator, the clock reading and the fake-data pools.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from emulator.core.fakedata import FakeData
from emulator.core.values import EPOCH

# Where the emulator serves the resources that payload links point at (rebilly `_links`, fabric
# `callbackUrls`). Configurable per run; this is the service's default address.
DEFAULT_LINKS_BASE = "http://127.0.0.1:8025"


@dataclass(frozen=True)
class EventType:
    """One event type of one vendor, under the vendor's own wire name."""

    vendor: str
    name: str
    summary: str
    schema_file: str
    inferred: bool = False

    @property
    def schema_path(self) -> str:
        """The schema's name: ``schemas/<vendor>/<file>``; the file is in the vendor's package,
        ``<vendor>/schemas/<file>`` (``emulator.readers.schemas.file_of`` finds it)."""
        return f"schemas/{self.vendor}/{self.schema_file}"


@dataclass
class Context:
    """What a builder may draw from: randomness, time, fake data, and where links point."""

    rng: random.Random
    now: datetime
    fake: FakeData
    links_base: str = DEFAULT_LINKS_BASE
    extras: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_seed(
        cls, seed: int, now: datetime = EPOCH, links_base: str = DEFAULT_LINKS_BASE
    ) -> Context:
        return cls(rng=random.Random(seed), now=now, fake=FakeData(seed), links_base=links_base)

    def link(self, vendor: str, path: str) -> str:
        """A URL on the emulator's own vendor resources: ``{links_base}/vendors/{vendor}/{path}``."""
        return f"{self.links_base.rstrip('/')}/vendors/{vendor}/{path.lstrip('/')}"


@dataclass(frozen=True)
class RetryRule:
    """Failures of the kinds in ``on`` are retried after each of ``delays`` seconds in turn.

    Kinds: a status code (``"429"``), a status class (``"5xx"``), ``"timeout"`` (no answer within the
    profile's timeout) or ``"connection"`` (refused, reset, DNS). Empty ``delays``: never retried.
    """

    on: tuple[str, ...]
    delays: tuple[float, ...]


@dataclass(frozen=True)
class DeliveryProfile:
    """How a vendor delivers: the defaults that delivery settings may override.

    ``unverified`` names every field whose value is our choice rather than the vendor's documented
    behaviour (VENDORS.md); the CLI and docs say so wherever those values show.
    """

    auth_types: tuple[str, ...]
    retry: tuple[RetryRule, ...]
    timeout: float
    method: str = "POST"
    methods: tuple[str, ...] = ("POST",)
    success: tuple[int, ...] | None = None  # None: any 2xx
    batching: bool = False
    verification_get: bool = False
    content_type: str = "application/json"
    user_agent: str = ""  # empty: the emulator's own
    unverified: tuple[str, ...] = ()

    def rule_for(self, kind: str, status: int | None = None) -> RetryRule | None:
        """The rule of this profile that governs a failure (see ``match_rule``)."""
        return match_rule(self.retry, kind, status)

    def is_success(self, status: int) -> bool:
        return succeeded(self.success, status)


def succeeded(success: tuple[int, ...] | None, status: int) -> bool:
    """Whether ``status`` is a success: one of ``success``, or any 2xx when it is None."""
    return status in success if success is not None else 200 <= status < 300


def match_rule(
    rules: Sequence[RetryRule], kind: str, status: int | None = None
) -> RetryRule | None:
    """The rule governing a failure: an exact status code first, then its class, then ``kind``.

    ``kind`` is ``"timeout"`` or ``"connection"`` when no status came back.
    """
    keys = (str(status), f"{status // 100}xx") if status is not None else (kind,)
    for key in keys:
        for rule in rules:
            if key in rule.on:
                return rule
    return None


@dataclass(frozen=True)
class Observation:
    """What a consumer reads from one event of a body: how to dedupe it, what it is about, and
    what the probe reports once it is current (DESIGN.md, "Probe protocol").

    Every field is None when the body does not carry it (a consumer acknowledges and ignores such
    an event). ``event_type`` is the catalogue name, None for a type the vendor does not send.
    ``coupon_id`` is the id the probe's ``/coupon`` question takes: the coupon's, or for fabric's
    redemption events, which do not name their coupon, the redemption's. ``order`` decides
    precedence between two events of one coupon: a lower one arriving later must not win (rebilly
    the revision, punchh the timestamp in seconds); None where the vendor has no such rule.
    """

    event_type: str | None
    key: str | None
    coupon_id: str | None
    status: str | None
    revision: int | None = None
    order: float | None = None


def dig(body: Any, *path: str | int) -> Any:
    """The value at ``path`` inside nested mappings and lists, or None wherever it is not there.

    Observing must never fail on a body a consumer receives, however odd it is.
    """
    node = body
    for step in path:
        if isinstance(step, int):
            if not isinstance(node, list) or not -len(node) <= step < len(node):
                return None
        elif not isinstance(node, Mapping) or step not in node:
            return None
        node = node[step]
    return node


def text_or_none(value: Any) -> str | None:
    """A string id as a consumer would store it: strings as they are, integers in decimal."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value)


class Vendor(Protocol):
    """What each vendor module provides; the catalogue lists one instance per vendor."""

    slug: str
    title: str
    event_types: tuple[EventType, ...]
    profile: DeliveryProfile

    def new_coupon(self, ctx: Context) -> Any:
        """A fresh coupon's identity (ids, owner, offer, code), before any event happened to it."""

    def apply(self, event_type: str, coupon: Any, ctx: Context) -> Any:
        """The coupon's state once ``event_type`` has happened to it (status, revision, redemption)."""

    def build(self, event_type: str, coupon: Any, ctx: Context) -> dict[str, Any]:
        """The complete wire body announcing ``event_type`` for ``coupon`` in its current state."""

    def dedupe_keys(self, body: Mapping[str, Any]) -> tuple[str, ...]:
        """The keys a consumer dedupes on, one per event the body carries (VENDORS.md)."""

    def batch(self, bodies: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """One body carrying every event of ``bodies``; vendors without batching accept only one."""

    def observe(self, body: Mapping[str, Any]) -> tuple[Observation, ...]:
        """The consumer's reading of a body, one Observation per event it carries; never raises."""

    # Edge-case facts: the one event type the vendor does not send (yet), its catalogue-style name
    # and how a body is relabelled as it (edge cases and contract cases: emulator.core.mutations).
    unknown_type: str

    def with_unknown_type(self, body: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
        """A copy of ``body`` relabelled as ``unknown_type``, with fresh event ids from ``rng``
        where the vendor dedupes on them: consumers must acknowledge such events and ignore them."""


def single(vendor: str, bodies: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``batch`` for vendors that send one event per request."""
    from emulator.core.errors import BuildError

    if len(bodies) != 1:
        raise BuildError(f"{vendor} sends one event per request; cannot batch {len(bodies)} bodies")
    return dict(bodies[0])


def encode(body: Mapping[str, Any]) -> bytes:
    """The wire bytes of a body: compact JSON in UTF-8, keys in the order the builder set them."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
