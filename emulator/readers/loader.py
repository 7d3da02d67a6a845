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
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from emulator.core import catalogue
from emulator.core.errors import ConfigError, UsageError
from emulator.core.plan import PlannedEvent, Share, builder_extras, check_share, simple_plan
from emulator.readers import bounds, config

if TYPE_CHECKING:
    import yaml

    from emulator.core.scenario import Scenario
    from emulator.readers import scenario_reader
    from emulator.readers.eventlist import EventList

INLINE = "request:yaml"
EMPTY: Mapping[str, Any] = MappingProxyType({})


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


# Settings


@dataclass(frozen=True)
class Layers:
    """The settings layers above a document's own, and what fills the gaps; see the docstring."""

    config: Mapping[str, Any] = field(default_factory=dict)  # layer 3, as written
    config_source: str | None = None
    targets: Mapping[str, str] = field(default_factory=dict)  # layer 4: vendor -> URL
    time_scale: float | None = None  # layer 4
    sink: Mapping[str, Mapping[str, Any]] | None = None  # vendor -> entry, for unconfigured ones
    links_base: str | None = None  # when no layer sets one
    env: Mapping[str, str] | None = None  # what ``${VAR}`` expands from (default os.environ)


def settings_file(
    path: str, env: Mapping[str, str] | None = None
) -> tuple[config.Settings, dict[str, Any]]:
    """A settings file, checked (errors name file, line and key path), and as written."""
    import yaml

    from emulator.readers.yamlread import read_text

    try:
        text = read_text(path)
    except FileNotFoundError:
        raise ConfigError("settings file not found", source=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the settings file: {exc}", source=path) from None
    parsed = config.parse(text, source=path, env=env)
    return parsed, yaml.safe_load(text) or {}


def layers(
    config_path: str | None = None,
    target_flags: Sequence[str] = (),
    time_scale: float | None = None,
    *,
    sink: Mapping[str, Mapping[str, Any]] | None = None,
    vendor: str | None = None,
) -> Layers:
    """The layers of the command line: ``--config F``, ``--target V=URL``, ``--time-scale X``."""
    return Layers(
        config=settings_file(config_path)[1] if config_path else EMPTY,
        config_source=config_path,
        targets=dict(parse_target_flag(flag, vendor) for flag in target_flags),
        time_scale=time_scale,
        sink=sink,
    )


def settings(
    own: Mapping[str, Any],
    vendors: Iterable[str],
    layers: Layers,
    source: str | None,
    what: str = "the plan uses",
) -> tuple[config.Settings, dict[str, Any]]:
    """The settings of one run (parsed, and as written), merged in the one documented order."""
    raw = config.merge(own, layers.config)
    config.retarget(raw, layers.targets)
    configured = raw["vendors"] if isinstance(raw.get("vendors"), Mapping) else {}
    for slug in dict.fromkeys(vendors):
        if slug in configured:
            continue
        if layers.sink is None:
            raise ConfigError(
                f"{what} {slug} but no {slug} target is set; add vendors.{slug}.target or pass "
                f"--target {slug}=URL",
                source=source,
            )
        raw.setdefault("vendors", {})[slug] = copy.deepcopy(dict(layers.sink[slug]))
    if layers.time_scale is not None:
        raw["time_scale"] = layers.time_scale
    if layers.links_base is not None:
        raw.setdefault("links_base", layers.links_base)
    named = layers.config_source if layers.config else source
    return config.parse(raw, source=named, env=layers.env), raw


def parse_target_flag(flag: str, vendor: str | None = None) -> tuple[str, str]:
    """``V=URL`` (or a bare URL when the vendor is known) from a ``--target`` flag; a bad URL is
    blamed on the flag, not on the settings it replaces."""
    from emulator.readers.yamlread import url_problem

    name, sep, url = flag.partition("=")
    if sep and not name.startswith(("http:", "https:")):
        catalogue.vendor(name)
        if vendor is not None and name != vendor:
            raise UsageError(f"--target {flag}: this command sends {vendor} events, not {name}")
    elif vendor is None:
        raise UsageError(
            f"--target {flag!r}: expected VENDOR=URL, e.g. --target "
            f"{next(iter(catalogue.VENDORS))}=http://127.0.0.1:9000/hooks; "
            f"vendors: {', '.join(catalogue.VENDORS)}"
        )
    else:
        name, url = vendor, flag
    problem = url_problem(url)
    if problem:
        raise UsageError(f"--target (the {name} URL): {problem}")
    return name, url


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


def plan(
    source: Source | str,
    layers: Layers = Layers(),
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
    return Plan(
        loaded.name,
        loaded.source.name,
        chosen,
        merged,
        raw,
        loaded.vendors,
        _lazy(lambda: _events(loaded, merged, chosen, start, share)),
        document.text,
        start,
        *expected_events(loaded.scenario or loaded.events),
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


def _events(
    loaded: Loaded, settings: config.Settings, seed: int, start: datetime, share: Share
) -> Iterator[PlannedEvent]:
    extras = builder_extras(settings)
    if loaded.scenario is not None:
        from emulator.core import scenario

        return scenario.plan(
            loaded.scenario,
            seed=seed,
            start=loaded.scenario.start or start,
            links_base=settings.links_base,
            extras=extras,
            share=share,
        )
    assert loaded.events is not None
    return simple_plan(loaded.events.items, seed, start, settings.links_base, extras, share)


def _lazy(make: Callable[[], Iterator[PlannedEvent]]) -> Iterator[PlannedEvent]:
    # Even setting the planner up waits for the first event asked for (the service's worker).
    try:
        yield from make()
    except OverflowError:
        # Each wait is bounded where it is written; only their sum over a long plan gets here.
        raise UsageError(
            "the plan reaches past the last date that can be represented (year 9999): fewer "
            "coupons, repeats or shorter delays, or an earlier start"
        ) from None
