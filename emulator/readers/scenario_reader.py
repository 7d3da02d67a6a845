"""Scenario files -> Scenario: every value checked where it stands, every flow against its vendor's
state machine, each error naming file, line, column and key path like the settings' errors do.

Durations are seconds (``90``) or text (``250ms``, ``30s``, ``5m``, ``2h``, ``1d``); a range
``1m..1h`` is drawn uniformly. Rates are ``10/s``, ``600/m``, ``5/h``, ``2/d`` or a number per
second. The ``vendors:``, ``time_scale``, ``links_base`` and ``ordering`` sections are delivery
settings, read by ``config.parse``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml

from emulator.core import catalogue, coupons, inject, lifecycle
from emulator.core.errors import ConfigError
from emulator.core.scenario import DEFAULT_DELAY, Flow, Rule, Scenario, Span, Step
from emulator.readers import bounds, config, schemas
from emulator.readers.scenario_checks import NOT_APPLICABLE, applicable, check_fixed, check_steps
from emulator.readers.yamlread import WHOLE, YamlReader, compose, shape, type_name

SCENARIO_KEYS = ("name", "description", "seed", "start", "population", "inject", "flows")
FLOW_KEYS = (
    "name", "vendor", "coupons", "start", "rate", "spread", "delay", "coupon", "inject", "steps",
)  # fmt: skip
STEP_KEYS = ("event", "one_of", "probability", "otherwise", "repeat", "delay", "rate", "inject")
OTHERWISE = ("skip", "end")
# Options of each edge case besides its probability.
RULE_OPTIONS = {k: ("delay",) for k in inject.DEFAULT_DELAYS} | {"oversized": ("size",)}
MAX_COUPONS = 100_000_000

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|m|h|d)\s*$")
_RANGE = re.compile(r"^\s*(\d+)\s*\.\.\s*(\d+)\s*$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|kB|KB|KiB|MB|MiB|GB|GiB)?\s*$")
_BYTES = {None: 1, "B": 1, "kB": 1000, "KB": 1000, "KiB": 1024, "MB": 10**6, "MiB": 2**20}
_BYTES |= {"GB": 10**9, "GiB": 2**30}
DURATION_HELP = "a duration (90, 250ms, 30s, 5m, 2h, 1d) or a range (1m..1h)"
RATE_HELP = "a rate (10/s, 600/m, 5/h, 2/d) or a number per second"


@dataclass(frozen=True)
class Loaded:
    """A read scenario file: the model, its delivery settings, and those settings as written."""

    scenario: Scenario
    settings: config.Settings
    raw_settings: dict[str, Any]  # ``${VAR}`` unexpanded: what a run stores, so secrets stay out
    source: str | None = None

    @property
    def vendors(self) -> tuple[str, ...]:
        """The vendors the flows use, in order of first use."""
        return tuple(dict.fromkeys(flow.vendor for flow in self.scenario.flows))


def parse(
    data: str | bytes | yaml.Node,
    *,
    source: str | None = None,
    env: Mapping[str, str],
    name: str = "scenario",
) -> Loaded:
    """A scenario from YAML text or a composed node; ``name`` when the file gives none."""
    node = compose(data, source) if isinstance(data, str | bytes) else data
    if node is None:
        raise ConfigError("the scenario is empty; expected a mapping with 'flows:'", source=source)
    reader = _Reader(source, env)
    reader.safe(node)
    settings = config.parse(node, source=source, env=env, extra_keys=SCENARIO_KEYS)
    items = reader.mapping(node, "", "a mapping with 'flows:'")
    scenario = reader.scenario(node, items, name)
    raw = {
        key: yaml.constructor.SafeConstructor().construct_object(value, deep=True)
        for key, (_, value) in items.items()
        if key in config.TOP_KEYS
    }
    return Loaded(scenario, settings, raw, source)


class _Reader(YamlReader):
    def __init__(self, source: str | None, env: Mapping[str, str]) -> None:
        super().__init__(source, env, "scenarios")
        self.per_vendor: dict[str, int] = {}  # flows read so far per vendor: default names

    def scenario(self, node: yaml.Node, items, default_name: str) -> Scenario:
        if "flows" not in items:
            example = next(iter(catalogue.VENDORS))
            raise self.fail(
                node, "flows", f"required: a list of flows, e.g. [{{vendor: {example}, ...}}]"
            )
        name = self.text(items["name"][1], "name") if "name" in items else default_name
        description = (
            self.text(items["description"][1], "description") if "description" in items else ""
        )
        seed = self.integer(items["seed"][1], "seed") if "seed" in items else 0
        start = self.instant(items["start"][1], "start") if "start" in items else None
        population = self.population(items["population"][1]) if "population" in items else {}
        shared = self.injection(items["inject"][1], "inject", None) if "inject" in items else {}
        flow_nodes = self.sequence(items["flows"][1], "flows")
        if not flow_nodes:
            raise self.fail(items["flows"][1], "flows", "expected at least one flow")
        flows: list[Flow] = []
        names: dict[str, int] = {}
        for i, flow_node in enumerate(flow_nodes):
            flow = self.flow(flow_node, f"flows[{i}]", shared, flows)
            if flow.name in names:
                raise self.fail(
                    flow_node, f"flows[{i}].name",
                    f"flows[{names[flow.name]}] is also named {flow.name!r}; flow names key "
                    "their coupons and must be unique",
                )  # fmt: skip
            names[flow.name] = i
            flows.append(flow)
        return Scenario(
            name, tuple(flows), seed, start, population, description, schemas=schemas.of
        )

    # --- sections ----------------------------------------------------------------------------

    def population(self, node: yaml.Node) -> dict[str, int]:
        items = self.mapping(node, "population", "a mapping with users, offers, sites")
        self.known(items, "population", coupons.KINDS)
        return {
            k: int(self.number(v, f"population.{k}", minimum=1, what=WHOLE))
            for k, (_, v) in items.items()
        }

    def flow(self, node: yaml.Node, path: str, shared, before: list[Flow]) -> Flow:
        items = self.mapping(node, path, "a mapping with vendor and steps")
        self.known(items, path, FLOW_KEYS)
        for key in ("vendor", "steps"):
            if key not in items:
                raise self.fail(node, f"{path}.{key}", _REQUIRED[key])
        vendors = tuple(catalogue.VENDORS)
        slug = self.choice(items["vendor"][1], f"{path}.vendor", vendors, "vendor")
        count = 1
        if "coupons" in items:
            value = self.number(items["coupons"][1], f"{path}.coupons", minimum=1, what=WHOLE)
            if value > MAX_COUPONS:
                raise self.fail(items["coupons"][1], f"{path}.coupons", f"at most {MAX_COUPONS:,}")
            count = int(value)
        same = self.per_vendor.get(slug, 0)
        self.per_vendor[slug] = same + 1
        name = f"{slug}-{same + 1}" if same else slug
        if "name" in items:
            name = self.text(items["name"][1], f"{path}.name")
            if not name or any(c.isspace() or c == ":" for c in name):
                message = f"expected a name without spaces or ':', got {name!r}"
                raise self.fail(items["name"][1], f"{path}.name", message)
        start = self.duration(items["start"][1], f"{path}.start").low if "start" in items else 0.0
        if "rate" in items and "spread" in items:
            message = "give rate (coupons start 1/rate apart) or spread (over a window), not both"
            raise self.fail(items["spread"][0], f"{path}.spread", message)
        rate = self.rate(items["rate"][1], f"{path}.rate") if "rate" in items else None
        spread = None
        if "spread" in items:
            spread = self.duration(items["spread"][1], f"{path}.spread", fixed=True).low
        delay = self.duration(items["delay"][1], f"{path}.delay") if "delay" in items else None
        rules = dict(shared)
        if "inject" in items:
            rules |= self.injection(items["inject"][1], f"{path}.inject", slug)
        rules = applicable(slug, rules)
        steps_node = items["steps"][1]
        step_nodes = self.sequence(steps_node, f"{path}.steps")
        if not step_nodes:
            raise self.fail(steps_node, f"{path}.steps", "expected at least one step")
        steps, event_nodes = [], []
        for j, step_node in enumerate(step_nodes):
            step, nodes = self.step(step_node, f"{path}.steps[{j}]", slug, rules)
            steps.append(step)
            event_nodes.append(nodes)
        check_steps(self, lifecycle.machine(slug), steps, event_nodes, f"{path}.steps")
        fixed = {}
        if "coupon" in items:
            fixed = check_fixed(self, slug, items["coupon"][1], f"{path}.coupon", count, steps)
        return Flow(
            name, slug, tuple(steps), count, start, rate, spread, delay or DEFAULT_DELAY, fixed
        )

    def step(self, node: yaml.Node, path: str, slug: str, rules) -> tuple[Step, list]:
        names = tuple(et.name for et in catalogue.event_types(slug))
        what = f"{slug} event type"
        if isinstance(node, yaml.ScalarNode):
            event = self.choice(node, path, names, what)
            return Step((event,), inject=rules), [(event, node, path)]
        items = self.mapping(node, path, "an event name or a mapping with event or one_of")
        self.known(items, path, STEP_KEYS)
        if ("event" in items) == ("one_of" in items):
            message = "give event (one event type) or one_of (a choice of them), exactly one"
            raise self.fail(node, path, message)
        if "event" in items:
            event = self.choice(items["event"][1], f"{path}.event", names, what)
            events, weights = (event,), ()
            nodes = [(event, items["event"][1], f"{path}.event")]
        else:
            events, weights, nodes = self.one_of(items["one_of"][1], f"{path}.one_of", names, what)
        probability = 1.0
        if "probability" in items:
            probability = self.probability(items["probability"][1], f"{path}.probability")
        otherwise = "skip"
        if "otherwise" in items:
            otherwise = self.choice(
                items["otherwise"][1], f"{path}.otherwise", OTHERWISE, "otherwise"
            )
            if probability == 1:
                message = "otherwise applies only to a step with probability below 1"
                raise self.fail(items["otherwise"][0], f"{path}.otherwise", message)
        repeat = self.repeat(items["repeat"][1], f"{path}.repeat") if "repeat" in items else (1, 1)
        if "delay" in items and "rate" in items:
            message = "give delay (a fixed or ranged wait) or rate (random gaps), not both"
            raise self.fail(items["rate"][0], f"{path}.rate", message)
        delay = self.duration(items["delay"][1], f"{path}.delay") if "delay" in items else None
        rate = self.rate(items["rate"][1], f"{path}.rate") if "rate" in items else None
        if "inject" in items:
            rules = applicable(
                slug, {**rules, **self.injection(items["inject"][1], f"{path}.inject", slug)}
            )
        step = Step(events, weights, probability, otherwise, repeat, delay, rate, rules)
        return step, nodes

    def one_of(self, node: yaml.Node, path: str, names, what):
        if isinstance(node, yaml.SequenceNode):
            events = tuple(
                self.choice(n, f"{path}[{i}]", names, what) for i, n in enumerate(node.value)
            )
            nodes = [
                (e, n, f"{path}[{i}]")
                for i, (e, n) in enumerate(zip(events, node.value, strict=True))
            ]
            weights: tuple[float, ...] = ()
        else:
            items = self.mapping(
                node, path, "a list of event types, or a mapping of event type to weight"
            )
            events, weights, nodes = (), (), []
            for event, (key, value) in items.items():
                self.choice(key, f"{path}.{event}", names, what)
                w = self.number(
                    value, f"{path}.{event}", minimum=0, exclusive=True, what="a weight"
                )
                events, weights = (*events, event), (*weights, w)
                nodes.append((event, key, f"{path}.{event}"))
        if not events:
            raise self.fail(node, path, "expected at least one event type")
        if len(set(events)) != len(events):
            raise self.fail(node, path, "an event type appears twice; give it once (with a weight)")
        return events, weights, nodes

    def injection(self, node: yaml.Node, path: str, slug: str | None) -> dict[str, Rule]:
        if isinstance(node, yaml.SequenceNode):
            kinds = [
                self.choice(n, f"{path}[{i}]", inject.KINDS, "edge case")
                for i, n in enumerate(node.value)
            ]
            entries = {k: (n, None) for k, n in zip(kinds, node.value, strict=True)}
        else:
            items = self.mapping(
                node, path, "a mapping of edge case to probability, or a list of them"
            )
            for kind, (key, _) in items.items():
                self.choice(key, f"{path}.{kind}", inject.KINDS, "edge case")
            entries = {k: (key, value) for k, (key, value) in items.items()}
        rules = {}
        for kind, (key, value) in entries.items():
            here = f"{path}.{kind}"
            if slug is not None and applicable(slug, {kind: None}) == {}:
                raise self.fail(key, here, f"{slug} {NOT_APPLICABLE[kind]}; remove {kind} here")
            rules[kind] = self.rule(kind, value, here)
        return rules

    def rule(self, kind: str, node: yaml.Node | None, path: str) -> Rule:
        if node is None:
            return Rule(1.0)
        if not isinstance(node, yaml.MappingNode):
            return Rule(self.probability(node, path, allow_zero=True))
        items = self.mapping(node, path, "a probability or a mapping with probability")
        options = RULE_OPTIONS.get(kind, ())
        self.known(items, path, ("probability", *options))
        probability = 1.0
        if "probability" in items:
            probability = self.probability(
                items["probability"][1], f"{path}.probability", allow_zero=True
            )
        delay = self.duration(items["delay"][1], f"{path}.delay") if "delay" in items else None
        size = self.size(items["size"][1], f"{path}.size") if "size" in items else None
        return Rule(probability, delay, size)

    # --- values ------------------------------------------------------------------------------

    def integer(self, node: yaml.Node, path: str) -> int:
        value, expanded = self.scalar(node, path)
        if expanded and isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(node, path, f"expected a whole number, got {shape(node, value)}")
        return value

    def instant(self, node: yaml.Node, path: str) -> datetime:
        value, _ = self.scalar(node, path)
        expected = "an ISO 8601 time with a zone, e.g. 2026-01-15T09:30:00Z"
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise self.fail(node, path, f"expected {expected}, got {value!r}") from None
        if not isinstance(value, datetime):
            raise self.fail(node, path, f"expected {expected}, got {type_name(node)}")
        if value.tzinfo is None:
            raise self.fail(node, path, f"expected {expected}: add Z or +00:00")
        if problem := bounds.instant_problem(value):
            raise self.fail(node, path, problem)
        return value

    def probability(self, node: yaml.Node, path: str, allow_zero: bool = False) -> float:
        value, _ = self.scalar(node, path)
        low = "0" if allow_zero else "above 0"
        expected = f"a probability from {low} to 1 (0.25 is one in four)"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(node, path, f"expected {expected}, got {shape(node, value)}")
        if not (0 <= value <= 1) or (value == 0 and not allow_zero):
            raise self.fail(node, path, f"expected {expected}, got {value:g}")
        return float(value)

    def duration(self, node: yaml.Node, path: str, fixed: bool = False) -> Span:
        value, _ = self.scalar(node, path)
        expected = "a duration (90, 250ms, 30s, 5m, 2h, 1d)" if fixed else DURATION_HELP
        if _finite(value) and value >= 0:
            return Span(*[bounds.seconds(self, node, path, float(value))] * 2)
        if isinstance(value, str):
            low, sep, high = value.partition("..")
            if sep and not fixed:
                a, b = _seconds(low), _seconds(high)
                if a is not None and b is not None:
                    if a > b:
                        raise self.fail(node, path, f"the range {value!r} ends before it starts")
                    return Span(a, bounds.seconds(self, node, path, b))
            elif not sep and (seconds := _seconds(value)) is not None:
                return Span(*[bounds.seconds(self, node, path, seconds)] * 2)
        raise self.fail(node, path, f"expected {expected}, got {shape(node, value)}")

    def rate(self, node: yaml.Node, path: str) -> float:
        value, _ = self.scalar(node, path)
        if _finite(value) and value > 0:
            return self.gap(node, path, float(value))
        if isinstance(value, str) and (m := _RATE.match(value)) and float(m.group(1)) > 0:
            return self.gap(node, path, float(m.group(1)) / _UNITS[m.group(2)])
        raise self.fail(node, path, f"expected {RATE_HELP} (above 0), got {shape(node, value)}")

    def gap(self, node: yaml.Node, path: str, rate: float) -> float:
        """``rate`` per second, if its mean gap is no longer than any one wait may be."""
        bounds.seconds(self, node, f"{path} (its mean gap, 1/rate)", 1 / rate)
        return rate

    def repeat(self, node: yaml.Node, path: str) -> tuple[int, int]:
        value, _ = self.scalar(node, path)
        expected = "a count of at least 1 (3) or a range (0..3)"
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return check_repeat(self, node, path, value, value)
        if isinstance(value, str) and (m := _RANGE.match(value)):
            low, high = int(m.group(1)), int(m.group(2))
            if low <= high and high >= 1:
                return check_repeat(self, node, path, low, high)
        raise self.fail(node, path, f"expected {expected}, got {shape(node, value)}")

    def size(self, node: yaml.Node, path: str) -> int:
        value, _ = self.scalar(node, path)
        m = _SIZE.match(str(value)) if not isinstance(value, bool) else None
        if m and float(m.group(1)) >= 1:
            return bounds.body_size(self, node, path, int(float(m.group(1)) * _BYTES[m.group(2)]))
        expected = "a size in bytes (2000000) or with a unit (512KiB, 2MB, 1MiB)"
        raise self.fail(node, path, f"expected {expected}, got {shape(node, value)}")


# --- bounds: what a small input may cost ------------------------------------------------------

MAX_REPEAT = 10_000  # repetitions of one step


def check_repeat(reader: YamlReader, node: yaml.Node, path: str, low: int, high: int):
    if high > MAX_REPEAT:
        raise reader.fail(
            node, path, f"at most {MAX_REPEAT:,} repetitions of a step, got {high:,}; for more "
            "events, raise the flow's coupons",
        )  # fmt: skip
    return low, high


_REQUIRED = {
    "vendor": f"required: the vendor of this flow's coupons ({', '.join(catalogue.VENDORS)})",
    "steps": "required: the events of each coupon's life, e.g. [CouponIssued, CouponViewed]",
}


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _seconds(text: str) -> float | None:
    m = _DURATION.match(text)
    if m:
        return float(m.group(1)) * _UNITS[m.group(2)]
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None
