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
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from emulator.core.fakedata import FakeData, Person
from emulator.core.resources import ResourceRoute
from emulator.core.values import EPOCH

if TYPE_CHECKING:
    from emulator.core.lifecycle import Machine

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
class CircuitBreaker:
    """A vendor's webhook circuit breaker: after more than ``failures`` failed requests in a row the
    webhook is suspended (nothing is sent), then pinged with a GET after each of ``pings`` seconds
    in turn, each counted from the previous ping; the first ping answered 200 reactivates it, and
    when the last one fails too the webhook is deactivated (what it still held fails)."""

    failures: int
    pings: tuple[float, ...]


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
    # The breaker the vendor documents, if any; off unless a target's settings turn it on.
    circuit_breaker: CircuitBreaker | None = None
    unverified: tuple[str, ...] = ()
    # Per auth type, the values its optional fields take unless the settings give them, where the
    # vendor's differ from the emulator's defaults (e.g. ``{"basic": {"scheme": "basic"}}`` for a
    # vendor that writes the scheme in lowercase).
    auth_defaults: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    # The units of the epoch timestamps the vendor sends, the default first; empty when it sends
    # none. A non-empty tuple enables the ``timestamp_unit`` setting, which reaches the builders as
    # ``ctx.extras["timestamp_unit"]``.
    timestamp_units: tuple[str, ...] = ()
    # The largest body the vendor sends. No vendor documents one: 1 MiB is our choice, the size
    # above which the ``oversized`` edge case lets a consumer refuse a body.
    body_limit: int = 1024 * 1024

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


@dataclass(frozen=True)
class Story:
    """Events of one coupon that a vendor's documents oblige consumers to handle in an order of
    arrival, checked by the contract suite (its cases are named after the keys of ``stories``).

    ``steps`` (event type, seconds after the first) are built for one coupon; ``arrival`` gives the
    order they are delivered in (indices into ``steps``). Once all are delivered, the coupon must
    hold step ``holds`` (by default the last, the newest), and with ``all_applied`` every event
    delivered must have been applied once (they are distinct events, however alike). ``summary``
    says the rule, ``documented`` where the vendor documents it.
    """

    summary: str
    steps: tuple[tuple[str, float], ...]
    arrival: tuple[int, ...]
    documented: str
    all_applied: bool = False
    holds: int = -1


@dataclass(frozen=True)
class FixedField:
    """One field a scenario's flow may fix (its ``coupon:`` section). ``unique``: it identifies the
    coupon, so coupons of a flow need distinct values (a ``{n}`` template in text, counting up from
    an integer).

    Kinds (checked by the scenario reader, typed in the published JSON Schema): uuid, object-id,
    text, code (text or a number), int64, amount, percent, choice (one of ``choices``) and
    discount (``{type: fixed, amount, currency}`` or ``{type: percent, value}``).
    """

    kind: str
    unique: bool = False
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    help: str = ""


_NOTHING: Mapping[str, Any] = MappingProxyType({})


class Vendor(Protocol):
    """What each vendor package provides; the catalogue lists one instance per vendor.

    A vendor class may subclass this protocol to inherit the defaults of the optional members
    (everything from ``planning_cost`` on); the others it must define.
    """

    slug: str
    title: str
    event_types: tuple[EventType, ...]
    profile: DeliveryProfile
    # The strict coupon life (``emulator.core.lifecycle.Machine``): which events may follow which.
    machine: Machine

    # --- optional members, with their defaults -------------------------------------------------
    # Relative cost of building one event, to balance planning across processes (1.0: komo's;
    # measured with benchmarks/planning.py).
    planning_cost: float = 1.0
    # The fields a scenario's flow may fix, by name (the ``coupon:`` section of a flow).
    fixed_fields: Mapping[str, FixedField] = _NOTHING
    # The coupon fields that a scenario's shared users, offers and sites give each coupon they
    # hold, by kind (``users``, ``offers``, ``sites``); a kind the vendor lacks is left out.
    shared_fields: Mapping[str, tuple[str, ...]] = _NOTHING

    def with_fixed(self, coupon: Any, values: Mapping[str, Any]) -> Any:
        """``coupon`` with a flow's fixed fields (``values``, already numbered for this coupon).

        By default each value replaces the coupon's field of that name."""
        return replace(coupon, **values)

    def fixed_conflict(self, values: Mapping[str, Any], events: set[str]) -> tuple[str, str] | None:
        """The fixed field that contradicts a flow able to send ``events``, and why; None when
        ``values`` fit every step."""
        return None

    def fixed_extras(self, values: Mapping[str, Any]) -> Mapping[str, Any]:
        """What a flow's fixed fields add to its builders' ``ctx.extras`` (fields that belong to the
        whole run rather than to one coupon)."""
        return _NOTHING

    def as_person(self, coupon: Any, person: Person) -> Any:
        """``coupon`` held by ``person``: a shared user's template takes the scenario's person (the
        same name and email across vendors). By default the coupon is left as it is."""
        return coupon

    def new_coupon(self, ctx: Context) -> Any:
        """A fresh coupon's identity (ids, owner, offer, code), before any event happened to it."""

    def apply(self, event_type: str, coupon: Any, ctx: Context) -> Any:
        """The coupon's state once ``event_type`` has happened to it (status, revision, redemption)."""

    def build(self, event_type: str, coupon: Any, ctx: Context) -> dict[str, Any]:
        """The complete wire body announcing ``event_type`` for ``coupon`` in its current state."""

    def dedupe_keys(self, body: Mapping[str, Any]) -> tuple[str, ...]:
        """The keys a consumer dedupes on, one per event the body carries (VENDORS.md)."""

    def batch(self, bodies: Sequence[Mapping[str, Any]], *, owned: bool = False) -> dict[str, Any]:
        """One body carrying every event of ``bodies``; vendors without batching accept only one.
        ``owned``: the caller gives ``bodies`` up (a run's freshly planned ones), so the batch
        may hold their parts instead of copies."""

    def observe(self, body: Mapping[str, Any]) -> tuple[Observation, ...]:
        """The consumer's reading of a body, one Observation per event it carries; never raises."""

    # Edge-case facts: the one event type the vendor does not send (yet), its catalogue-style name
    # and how a body is relabelled as it (edge cases and contract cases: emulator.core.mutations).
    unknown_type: str

    def with_unknown_type(self, body: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
        """A copy of ``body`` relabelled as ``unknown_type``, with fresh event ids from ``rng``
        where the vendor dedupes on them: consumers must acknowledge such events and ignore them."""

    # Web-side facts: what the service and the contract suite read from each vendor.
    # The resources its payload links point at, served under ``/vendors/<slug>/``. Default: none.
    resources: tuple[ResourceRoute, ...] = ()
    # The auth it uses towards the built-in sink: ``type`` (one of ``profile.auth_types``) and any
    # fields that are not credentials; the sink's settings add the credentials. Default (None): the
    # strongest type the profile documents (``emulator.readers.sink_settings.default_auth``).
    sink_auth: Mapping[str, str] | None = None
    # Two steps (event type, seconds after the first) of one coupon, the later of which must win
    # even when it arrives first: the vendor documents an order key. None: no such rule.
    precedence: tuple[tuple[str, float], tuple[str, float]] | None = None
    # Further rules about events of one coupon (an order key past one digit, redemption events
    # ordered too, which events are distinct), by contract case name. Default: none.
    stories: Mapping[str, Story] = _NOTHING
    # Where a body carries keys of the sender's choosing (captured user attributes, say): the path
    # of that object (``()``: the top level). None: every key of the body is documented.
    open_keys: tuple[str | int, ...] | None = None


def single(vendor: str, bodies: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``batch`` for vendors that send one event per request."""
    from emulator.core.errors import BuildError

    if len(bodies) != 1:
        raise BuildError(f"{vendor} sends one event per request; cannot batch {len(bodies)} bodies")
    return dict(bodies[0])


# json.dumps with these options makes an encoder per call; one made once writes the same text.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode(body: Mapping[str, Any]) -> bytes:
    """The wire bytes of a body: compact JSON in UTF-8, keys in the order the builder set them."""
    return _JSON(body).encode()
