"""One loader: a source (a file, or inline text named like ``request:yaml``) plus settings layers
-> a checked scenario or event list -> a lazy plan. ``validate``, ``plan``, ``run``, ``send``,
``resume``, ``load``, ``verify`` and the service's API all read through it.

Settings of a run, weakest first (a later layer replaces a top-level key, and a vendor's whole
entry):

1. each vendor's defaults: its documented retries, timeout and method;
2. the file's own settings (``vendors:``, ``time_scale``, ``links_base``, ``ordering``);
3. a settings file: ``--config``, or the service's ``--config`` (with its ``--time-scale``);
4. flags or API fields: ``--target V=URL`` / ``targets`` (a URL only: the entry's auth stays)
   and ``--time-scale`` / ``time_scale``.

A vendor the plan uses that no layer configures goes to the built-in sink, with the sink's auth,
where there is one (the service; ``run --sink``); otherwise that is an error. Settings are also
kept as written (``${VAR}`` unexpanded): runs store that, so secrets stay in the environment.
``emulator.readers.layering`` merges the layers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from emulator.core.errors import ConfigError, UsageError
from emulator.core.plan import (
    Parts,
    PlannedEvent,
    Share,
    builder_extras,
    check_share,
    simple_parts,
    simple_plan,
)
from emulator.readers import bounds, config, layering
from emulator.readers.layering import Layers, settings

if TYPE_CHECKING:
    import yaml

    from emulator.core.scenario import Scenario
    from emulator.readers import scenario_reader
    from emulator.readers.eventlist import EventList

INLINE = "request:yaml"
# The settings layers are read through the loader too: loader.layers(...), loader.settings(...).
EMPTY, layers, parse_target_flag = layering.EMPTY, layering.layers, layering.parse_target_flag
settings_file = layering.settings_file
NO_LAYERS = Layers()  # the document's own settings over the vendors' defaults, nothing above
T = TypeVar("T")


@dataclass(frozen=True)
class Source:
    """Where a document comes from: a file (``text`` None), or inline text with a name."""

    name: str
    text: str | None = None
    kept: bool = False  # ``text`` is a file's, read earlier (a run's stored plan): named as it

    @classmethod
    def inline(cls, text: str, name: str = INLINE) -> Source:
        return cls(name, text)

    @classmethod
    def stored(cls, name: str, text: str) -> Source:
        """The document ``name`` held when it was read for a run, read again from that text."""
        return cls(name, text, kept=name != INLINE)

    @property
    def stem(self) -> str:
        """The name a document gets when it gives none."""
        return "inline" if self.text is not None and not self.kept else Path(self.name).stem

    def read_text(self) -> str:
        if self.text is not None:
            try:
                self.text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ConfigError(
                    f"not valid Unicode text ({exc.reason})", source=self.name
                ) from None
            return self.text
        from emulator.readers.yamlread import read_text

        try:
            return read_text(self.name)
        except FileNotFoundError:
            raise ConfigError("file not found", source=self.name) from None
        except IsADirectoryError:
            raise ConfigError("this is a directory; pass a YAML file", source=self.name) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the file: {exc}", source=self.name) from None


def _source(source: Source | str) -> Source:
    return source if isinstance(source, Source) else Source(locate(str(source)))


def locate(name: str) -> str:
    """``name`` itself when it is a file; a bare name (no folder, no suffix) that is not one is a
    shipped scenario's (``quickstart``), wherever the command runs."""
    from emulator.readers import library

    if not library.is_name(name) or Path(name).exists():
        return name
    try:
        return str(library.find(name))
    except library.ScenarioNotFound:
        shipped = ", ".join(library.names()) or "none"
        raise ConfigError(
            f"no such file, and no shipped scenario of that name; shipped scenarios: {shipped} "
            "(coupon-emulator scenarios lists them)",
            source=name,
        ) from None


@dataclass(frozen=True)
class Document:
    """A YAML document composed, and what it holds: a scenario, an event list or settings."""

    source: Source
    kind: str  # "scenario", "events" or "settings"
    node: yaml.Node | None
    text: str = ""  # as read: what a run stores to plan again (emulator.delivery.runner)


def read(source: Source | str) -> Document:
    """Compose ``source`` and tell what it is; ConfigError (exit 2) names source, line, column.

    ``flows:`` makes a scenario, ``events:`` an event list; settings hold only their own keys, so
    anything else (a typo such as ``flow:`` too) reads as a scenario, whose errors list every key.
    """
    import yaml

    from emulator.readers.yamlread import compose

    source = _source(source)
    text = source.read_text()
    node = compose(text, source.name)
    kind = "settings"
    if isinstance(node, yaml.MappingNode):
        keys = {k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
        if "flows" in keys:
            kind = "scenario"
        elif "events" in keys:
            kind = "events"
        elif keys - {*config.TOP_KEYS, "<<"}:
            kind = "scenario"
    return Document(source, kind, node, text)


@dataclass(frozen=True)
class Loaded:
    """A scenario or an event list, checked: what it plans and its own settings as written."""

    source: Source
    kind: str  # "scenario" or "events"
    name: str
    seed: int
    vendors: tuple[str, ...]  # in order of first use
    own: Mapping[str, Any]  # the document's settings, as written
    scenario: Scenario | None = None
    events: EventList | None = None


def load(source: Source | str, env: Mapping[str, str] | None = None) -> Loaded:
    """The scenario or event list in ``source``, checked; ConfigError names line and key path."""
    return parse(read(source), env)


def parse(document: Document, env: Mapping[str, str] | None = None) -> Loaded:
    """The scenario or event list a composed document holds, checked."""
    env = os.environ if env is None else env
    if document.kind == "events":
        from emulator.readers import eventlist

        assert document.node is not None
        events = eventlist.parse(
            document.node, source=document.source.name, env=env, name=document.source.stem
        )
        return Loaded(
            document.source, "events", events.name, events.seed, events.vendors, events.settings,
            events=events,
        )  # fmt: skip
    if document.kind == "settings":
        raise ConfigError(
            "expected a scenario (with 'flows:') or an event list (with 'events:'); this holds "
            "only delivery settings: pass it with --config",
            source=document.source.name,
        )
    loaded = parse_scenario(document, env)
    return Loaded(
        document.source, "scenario", loaded.scenario.name, loaded.scenario.seed, loaded.vendors,
        loaded.raw_settings, scenario=loaded.scenario,
    )  # fmt: skip


def load_scenario(
    source: Source | str, env: Mapping[str, str] | None = None
) -> scenario_reader.Loaded:
    """The scenario in ``source`` (an event list is refused), with its settings as written."""
    document = read(source)
    if document.kind != "scenario":
        raise ConfigError(
            "not a scenario: expected a mapping with 'flows:' (see scenarios/quickstart.yaml)",
            source=document.source.name,
        )
    return parse_scenario(document, os.environ if env is None else env)


def parse_scenario(document: Document, env: Mapping[str, str]) -> scenario_reader.Loaded:
    from emulator.readers import scenario_reader

    if document.node is None:
        raise ConfigError(
            "the scenario is empty; expected a mapping with 'flows:'", source=document.source.name
        )
    return scenario_reader.parse(
        document.node, source=document.source.name, env=env, name=document.source.stem
    )


# Plans


@dataclass(frozen=True)
class Plan:
    """A run ready to drive: its name, seed, settings (parsed and as written) and lazy events."""

    name: str
    source: str
    seed: int
    settings: config.Settings
    settings_raw: dict[str, Any]
    vendors: tuple[str, ...]
    events: Iterator[PlannedEvent]  # nothing is planned until it is consumed
    text: str = ""  # the document as read
    start: datetime | None = None  # the instant events are dated from (unless a scenario's own)
    expected: int | None = None  # events it plans: exactly, or on average unless ``exact``
    exact: bool = False
    # The plan again, in a form that several processes can plan at once (None: one process):
    # an event list's blocks, or a large scenario's events planned by ``n`` processes.
    parts: Parts | None = None
    spread: Callable[[int], Iterator[PlannedEvent]] | None = None


def plan(
    source: Source | str,
    layers: Layers = NO_LAYERS,
    *,
    seed: int | None = None,
    start: datetime,
    max_events: int | None = None,
    share: Share | None = None,
) -> Plan:
    """The plan of ``source``, deterministic in ``seed`` (default: the document's, else 0).

    Every check happens here (the document, the merged settings, the plan's size against
    ``max_events``, default ``$COUPON_EMULATOR_MAX_EVENTS`` or 100 million); planning happens as
    ``events`` is consumed. Events are dated from ``start`` unless a scenario fixes its own.
    ``share=(index, count)``: only the events of that share's coupons (``core.plan.owner``), in
    plan order; the ``count`` shares together are the whole plan.
    """
    share = check_share(share)
    document = read(source)
    loaded = parse(document, layers.env)
    bounds.check_plan_size(loaded, layers.env, max_events)
    what = "the flows use" if loaded.kind == "scenario" else "the events name"
    merged, raw = settings(loaded.own, loaded.vendors, layers, loaded.source.name, what)
    chosen = loaded.seed if seed is None else seed
    options = _options(loaded, merged, chosen, start)
    expected, exact = expected_events(loaded.scenario or loaded.events)
    return Plan(
        loaded.name,
        loaded.source.name,
        chosen,
        merged,
        raw,
        loaded.vendors,
        _lazy(lambda: _events(loaded, options, share)),
        document.text,
        start,
        expected,
        exact,
        _parts(loaded, options, share),
        _spread(loaded, options, share, expected),
    )


def expected_events(what: Scenario | EventList | None) -> tuple[int, bool]:
    """How many events a scenario or an event list plans, and whether exactly (nothing is left
    to chance) or on average: what ``validate`` says and progress is shown against."""
    from emulator.core.scenario import Scenario

    if not isinstance(what, Scenario):
        assert what is not None
        return what.total, True
    exact = all(
        step.probability == 1 and step.repeat[0] == step.repeat[1] and not step.inject
        for flow in what.flows
        for step in flow.steps
    )
    return round(what.expected_events()), exact


def replan(
    source: str,
    text: str,
    settings_raw: Mapping[str, Any],
    *,
    seed: int,
    start: datetime,
    env: Mapping[str, str] | None = None,
) -> Plan:
    """A run's plan again, from what the run stored: its document's name and text as read, its
    merged settings as written, its seed and start. The same inputs plan the same bytes."""
    stored = Layers(config=settings_raw, config_source=f"{source} (settings stored with the run)",
                    env=env)  # fmt: skip
    return plan(Source.stored(source, text), stored, seed=seed, start=start)


def _options(loaded: Loaded, settings: config.Settings, seed: int, start: datetime) -> dict:
    """What a plan of ``loaded`` is made with beside the document: the seed, the start (a
    scenario's own first), where links point and the builders' extras."""
    own = loaded.scenario.start if loaded.scenario is not None else None
    return {"seed": seed, "start": own or start, "links_base": settings.links_base,
            "extras": builder_extras(settings)}  # fmt: skip


def _events(loaded: Loaded, options: dict, share: Share) -> Iterator[PlannedEvent]:
    if loaded.scenario is not None:
        from emulator.core import scenario

        return scenario.plan(loaded.scenario, share=share, **options)
    assert loaded.events is not None
    return simple_plan(loaded.events.items, share=share, **options)


def _parts(loaded: Loaded, options: dict, share: Share) -> Parts | None:
    if loaded.events is None:
        return None
    parts = simple_parts(list(loaded.events.items), share=share, **options)
    return Parts(parts.blocks, lambda part: _lazy(lambda: parts.plan(part)))


def _spread(
    loaded: Loaded, options: dict, share: Share, expected: int
) -> Callable[[int], Iterator[PlannedEvent]] | None:
    from emulator.readers import planning

    scenario = loaded.scenario
    if scenario is None or share != (0, 1) or expected < planning.PARALLEL_FROM:
        return None
    return lambda jobs: _lazy(lambda: planning.events(scenario, jobs=jobs, **options))


def _lazy(make: Callable[[], Iterator[T]]) -> Iterator[T]:
    # Even setting the planner up waits for the first event asked for (the service's worker).
    try:
        yield from make()
    except OverflowError:
        # Each wait is bounded where it is written; only their sum over a long plan gets here.
        raise UsageError(
            "the plan reaches past the last date that can be represented (year 9999): fewer "
            "coupons, repeats or shorter delays, or an earlier start"
        ) from None
