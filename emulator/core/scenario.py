"""Scenarios: the validated model of a scenario file, and its plan, a seeded stream of events.

The plan is produced in due-time order by merging the coupons' lives as they unfold, so memory
holds only the coupons alive at one moment (flow rate times lifetime), never the plan. Each coupon
draws from its own random stream, seeded by (seed, flow name, coupon number), so its bodies and
timing do not depend on other coupons or flows; edge cases draw from a stream of their own, so
injecting one changes nothing else.

A share of the plan (``plan(share=(index, count))``, see ``emulator.core.plan.owner``) is the plan
with only that share's coupons: the others are never made, since nothing of theirs reaches a
coupon of the share. Except in a flow that injects edge cases: its edge-case stream is drawn by
all its coupons in plan order, so there every coupon is still planned and only the share's
events are kept.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from emulator.core import catalogue, coupons, inject, lifecycle
from emulator.core.errors import BuildError
from emulator.core.fakedata import FakeData
from emulator.core.frozen import evolve
from emulator.core.mutations import Schema
from emulator.core.plan import PlannedEvent, Share, check_share, owner
from emulator.core.values import EPOCH
from emulator.core.vendor import DEFAULT_LINKS_BASE, Context, encode

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Span:
    """Seconds, fixed (``low == high``) or drawn uniformly between ``low`` and ``high``."""

    low: float
    high: float

    def draw(self, rng: random.Random) -> float:
        return self.low if self.low == self.high else rng.uniform(self.low, self.high)


DEFAULT_DELAY = Span(1.0, 60.0)  # between a coupon's events, unless a flow or step says otherwise


@dataclass(frozen=True)
class Rule:
    """An edge case injected into each event with ``probability``; ``delay``/``size`` options."""

    probability: float
    delay: Span | None = None
    size: int | None = None


@dataclass(frozen=True)
class Step:
    """One step of a flow: one of ``events`` (by weight), maybe skipped, maybe repeated.

    ``probability``: the step happens; when it does not, ``otherwise`` says whether the coupon
    goes on with the next step (``skip``) or its life ends (``end``). Each repetition waits
    ``delay`` (default: the flow's), or an exponential gap when ``rate`` (per second) is set.
    """

    events: tuple[str, ...]
    weights: tuple[float, ...] = ()
    probability: float = 1.0
    otherwise: str = "skip"
    repeat: tuple[int, int] = (1, 1)
    delay: Span | None = None
    rate: float | None = None
    inject: Mapping[str, Rule] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True)
class Flow:
    """``coupons`` coupons of one vendor, each living through ``steps``.

    Coupons start at ``start`` seconds, then ``1/rate`` apart, or spread evenly with jitter over
    ``spread`` seconds, or all at once. ``fixed`` holds field overrides (``Vendor.fixed_fields``).
    """

    name: str
    vendor: str
    steps: tuple[Step, ...]
    coupons: int = 1
    start: float = 0.0
    rate: float | None = None
    spread: float | None = None
    delay: Span = DEFAULT_DELAY
    fixed: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def expected_events(self) -> float:
        """How many events this flow plans on average (exactly, when nothing is left to chance)."""
        total, reach = 0.0, 1.0
        for step in self.steps:
            extra = sum(r.probability for k, r in step.inject.items() if k in inject.NOT_A_STEP)
            total += reach * step.probability * sum(step.repeat) / 2 * (1 + extra)
            if step.otherwise == "end":
                reach *= step.probability
        return self.coupons * total


@dataclass(frozen=True)
class Scenario:
    """A whole scenario: its flows, seed, start instant and population (users, offers, sites)."""

    name: str
    flows: tuple[Flow, ...]
    seed: int = 0
    start: datetime | None = None  # None: values.EPOCH when planning, now when running
    population: Mapping[str, int] = field(default_factory=lambda: _EMPTY)
    description: str = ""
    # (vendor, event type) -> that type's JSON Schema, for the edge cases that read it
    # (omit_optional, nullable_null); the reader, which may load files, hands it over.
    schemas: Callable[[str, str], Schema] | None = field(default=None, compare=False, repr=False)

    def expected_events(self) -> float:
        """How many events a plan holds on average (exactly, when nothing is left to chance)."""
        return sum(flow.expected_events() for flow in self.flows)


def plan(
    scenario: Scenario,
    *,
    seed: int | None = None,
    start: datetime | None = None,
    links_base: str = DEFAULT_LINKS_BASE,
    extras: Mapping[str, Any] | None = None,
    only: Collection[int] | None = None,
    share: Share | None = None,
) -> Iterator[PlannedEvent]:
    """Every event of ``scenario`` in due order; ``due`` is seconds after ``start``.

    ``seed`` and ``start`` default to the scenario's (then 0 and values.EPOCH); ``extras`` reach
    the vendor builders (``timestamp_unit``; a vendor's ``fixed_extras`` add the flow's). Events due at the same time come
    in flow order. ``only`` plans just those flows (by index): flows are independent, so merging
    separate plans of them by (due, flow index) gives exactly the whole plan. ``share`` plans just
    that share's coupons: its events are the whole plan's events of those coupons, in the same
    order, so the shares together are the plan.
    """
    planner = _Planner(scenario, seed, start, links_base, extras or {}, only, check_share(share))
    return planner.events()


class _Coupon:
    """One coupon alive in the plan: its random stream, vendor state, the rest of its life."""

    __slots__ = ("flow", "held", "key", "mine", "n", "next", "rng", "state", "timeline", "value")

    def __init__(self, flow: _FlowRun, n: int, mine: bool = True) -> None:
        self.flow, self.n, self.key, self.mine = flow, n, f"{flow.flow.name}:{n}", mine
        # An integer seed is cheaper than text; the flow's base keeps flows' streams apart.
        self.rng = random.Random(flow.base << 40 | n)
        self.value: Any = None
        self.state = flow.machine.initial
        self.timeline: Iterator[tuple[str, float, Step]] = iter(())
        self.next: tuple[str, float, Step] | None = None
        self.held: tuple[list[PlannedEvent], float] | None = None


@dataclass
class _FlowRun:
    flow: Flow
    vendor: Any
    machine: lifecycle.Machine
    index: int  # the flow's place in the scenario: it orders events due at the same time
    ctx: Context
    arrivals: random.Random  # start times (spread)
    chance: random.Random  # edge-case draws: apart from the coupons', so they change nothing else
    base: int  # from (seed, flow name): the high bits of its coupons' seeds
    first: int = 0  # the number of its first coupon in the whole plan (``plan.owner``)
    all_coupons: bool = True  # every coupon is made, the share's or not (edge cases injected)


_START, _ADVANCE, _EMIT = 0, 1, 2


class _Planner:
    def __init__(self, scenario, seed, start, links_base, extras, only, share) -> None:
        self.seed = scenario.seed if seed is None else seed
        self.share, self.shares = share
        self.schemas = scenario.schemas
        self.start = start or scenario.start or EPOCH
        self.fake = FakeData(self.seed)
        self.holders = coupons.Holders(
            self.seed, self.start, self.fake, links_base, scenario.population
        )
        self.flows = []
        numbered = 0  # the coupons of the flows before this one
        for index, flow in enumerate(scenario.flows):
            first, numbered = numbered, numbered + flow.coupons
            if only is not None and index not in only:
                continue
            ctx = Context(
                rng=random.Random(0), now=self.start, fake=self.fake, links_base=links_base
            )
            vendor = catalogue.vendor(flow.vendor)
            ctx.extras = {**extras, **vendor.fixed_extras(flow.fixed)}
            digest = hashlib.sha256(f"{self.seed}:{flow.name}".encode()).digest()
            run = _FlowRun(
                flow,
                vendor,
                vendor.machine,
                index,
                ctx,
                random.Random(f"{self.seed}:{flow.name}:arrivals"),
                random.Random(f"{self.seed}:{flow.name}:edge-cases"),
                int.from_bytes(digest[:8], "big"),
                first,
                self.shares == 1 or any(step.inject for step in flow.steps),
            )
            self.flows.append(run)
        self.heap: list[tuple[float, int, int, int, Any]] = []
        self.seq = 0

    def push(self, due: float, flow: _FlowRun, kind: int, item: Any) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (due, flow.index, self.seq, kind, item))

    def events(self) -> Iterator[PlannedEvent]:
        for run in self.flows:
            if run.flow.coupons:
                self.push(self.arrival(run, 1), run, _START, (run, 1))
        heap = self.heap
        while heap:
            due, _, _, kind, item = heapq.heappop(heap)
            if kind == _EMIT:
                yield item
            elif kind == _ADVANCE:
                now = self.advance(item, due)
                if now is not None:  # a plain event: due at once, no need to queue it
                    yield now
            else:
                run, n = item
                mine = self.shares == 1 or owner(run.first + n - 1, self.shares) == self.share
                if mine or run.all_coupons:
                    self.begin(run, n, due, mine)
                if n < run.flow.coupons:
                    self.push(self.arrival(run, n + 1), run, _START, (run, n + 1))

    def arrival(self, run: _FlowRun, n: int) -> float:
        flow = run.flow
        if flow.rate:
            return flow.start + (n - 1) / flow.rate
        if flow.spread:
            return flow.start + flow.spread * (n - 1 + run.arrivals.random()) / flow.coupons
        return flow.start

    def begin(self, run: _FlowRun, n: int, at: float, mine: bool = True) -> None:
        coupon = _Coupon(run, n, mine)
        ctx = run.ctx
        ctx.rng, ctx.now = coupon.rng, self.start + timedelta(seconds=at)
        value = run.vendor.new_coupon(ctx)
        value = self.holders.personalise(run.flow.vendor, value, coupon.rng)
        coupon.value = coupons.fixed(run.flow.vendor, value, run.flow.fixed, n)
        coupon.timeline = _timeline(run.flow, coupon.rng, at)
        coupon.next = next(coupon.timeline, None)
        if coupon.next is not None:
            self.push(coupon.next[1], run, _ADVANCE, coupon)

    def advance(self, coupon: _Coupon, at: float) -> PlannedEvent | None:
        """Apply and build the coupon's next event; return it when it is due now and plain."""
        run = coupon.flow
        event, _, step = coupon.next  # type: ignore[misc]
        state = run.machine.next(coupon.state, event)
        if state is None:  # the reader rules this out: a bug if seen
            error = lifecycle.TransitionError(run.machine, coupon.state, event)
            raise BuildError(f"{coupon.key}: {error}")
        coupon.state = state
        ctx = run.ctx
        ctx.rng, ctx.now = coupon.rng, self.start + timedelta(seconds=at)
        coupon.value = run.vendor.apply(event, coupon.value, ctx)
        body = run.vendor.build(event, coupon.value, ctx)
        coupon.next = next(coupon.timeline, None)
        if coupon.next is not None:
            self.push(coupon.next[1], run, _ADVANCE, coupon)
        if not step.inject:
            self.release(coupon, at)
            if not coupon.mine:
                return None
            return PlannedEvent(run.flow.vendor, event, coupon.key, body, at)
        bundle, late, hold = self.injected(coupon, event, body, step.inject)
        if not coupon.mine:  # planned for the draws it takes from the flow's edge-case stream
            bundle = []
        if hold is None:
            for planned in bundle:
                self.push(at + late + planned.due, run, _EMIT, _at(planned, at + late))
        self.release(coupon, at)
        coupon.held = None if hold is None else (bundle, hold)
        return None

    def release(self, coupon: _Coupon, at: float) -> None:
        """Queue the event held back for ``out_of_order``: after the one happening ``at``."""
        if coupon.held is not None:
            bundle, gap = coupon.held
            coupon.held = None
            for planned in bundle:
                self.push(at + gap + planned.due, coupon.flow, _EMIT, _at(planned, at + gap))

    def injected(self, coupon: _Coupon, event: str, body: dict, rules: Mapping[str, Rule]):
        """One event's requests with its edge cases: (bundle, lateness, hold gap or None).

        Bundle dues are offsets from when the event is delivered: lateness after it happened, or
        the hold gap after the coupon's next event. Draws come after the body's and timeline's,
        so injecting an edge case never changes a plain event.
        """
        rng, slug, key = coupon.flow.chance, coupon.flow.flow.vendor, coupon.key
        chosen = {k for k in inject.KINDS if k in rules and rng.random() < rules[k].probability}
        body, labels = inject.mutate(
            chosen, coupon.flow.vendor, body, lambda: self.schema(slug, event)
        )
        delay, hold = 0.0, None
        if "late" in chosen:
            delay = _span(rules["late"], "late").draw(rng)
            labels.append("late")
        # Delivered after the coupon's next event; not when the previous event already waits for
        # this one (two held in a row would keep their order).
        if "out_of_order" in chosen and coupon.next is not None and coupon.held is None:
            hold = _span(rules["out_of_order"], "out_of_order").draw(rng) + delay
            labels.append("out_of_order")
        label = ",".join(labels)
        bundle: list[PlannedEvent] = []
        wire = b""
        for kind in inject.EXTRA_REQUESTS:
            if kind not in chosen:
                continue
            raw, auth = None, None
            if kind in ("wrong_auth", "missing_auth"):
                auth = kind.removesuffix("_auth")
            else:
                wire = wire or encode(body)
                raw = inject.extra_bytes(kind, wire, rng, rules[kind].size)
            bundle.append(
                PlannedEvent(
                    slug, event, key, body, 0.0, _join(label, kind), raw_body=raw, auth=auth
                )
            )
        bundle.append(PlannedEvent(slug, event, key, body, 0.0, label))
        if "unknown_event_type" in chosen:
            name, other = inject.unknown_event_type(coupon.flow.vendor, body, rng)
            labels_other = _join(label, "unknown_event_type")
            bundle.append(PlannedEvent(slug, name, key, other, 0.0, labels_other))
        if "duplicate" in chosen:
            again = _span(rules["duplicate"], "duplicate").draw(rng)
            bundle.append(PlannedEvent(slug, event, key, body, again, _join(label, "duplicate")))
        return bundle, delay, hold

    def schema(self, vendor: str, event: str) -> Schema:
        if self.schemas is None:
            raise BuildError(
                f"{vendor} {event}: omit_optional and nullable_null need the event's JSON Schema; "
                "plan a scenario the reader loaded (it hands the schemas over)"
            )
        return self.schemas(vendor, event)


def _at(planned: PlannedEvent, base: float) -> PlannedEvent:
    return evolve(planned, due=base + planned.due)


def _join(label: str, kind: str) -> str:
    return f"{label},{kind}" if label else kind


def _span(rule: Rule, kind: str) -> Span:
    return rule.delay or Span(*inject.DEFAULT_DELAYS[kind])


def _timeline(flow: Flow, rng: random.Random, t: float) -> Iterator[tuple[str, float, Step]]:
    """The coupon's events and their times, decided step by step as the plan reaches them."""
    for step in flow.steps:
        if step.probability < 1 and rng.random() >= step.probability:
            if step.otherwise == "end":
                return
            continue
        low, high = step.repeat
        for _ in range(low if low == high else rng.randint(low, high)):
            if step.rate:
                t += rng.expovariate(step.rate)
            else:
                t += (step.delay or flow.delay).draw(rng)
            if len(step.events) == 1:
                yield step.events[0], t, step
            else:
                yield rng.choices(step.events, step.weights or None)[0], t, step
