"""From a file to a plan: a scenario (``flows:``) or a plain event list (``events:``), its settings
as written merged with ``--config`` and ``--target``, and its events, planned lazily.

``run`` and ``load`` both read files through ``load_plan``; ``send`` and ``resume`` merge settings
with ``merged_settings``. Settings are returned as written too (``${VAR}`` unexpanded): runs store
that, so secrets stay in the environment.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import yaml

from emulator.core import catalogue
from emulator.core.errors import ConfigError, UsageError
from emulator.core.plan import PlannedEvent, builder_extras, simple_plan
from emulator.readers import config


class PlanSource(NamedTuple):
    name: str
    seed: int
    settings_raw: Mapping[str, Any]  # as written, merged with --config and --target
    settings: config.Settings
    events: Iterator[PlannedEvent]  # lazy: planning happens as it is consumed


def load_plan(
    path: str,
    seed: int | None = None,
    config_path: str | None = None,
    targets: Sequence[str] = (),
    *,
    start: datetime,
    time_scale: float | None = None,
    sink: bool = False,
) -> PlanSource:
    """The plan of ``path``, deterministic in ``seed`` (default: the file's own, else 0).

    Settings merge the file's own section, then ``config_path``, then ``--target V=URL`` flags;
    with ``sink``, vendors left without a target go to the built-in sink (``${SINK_URL}``). Events
    are dated from ``start`` unless a scenario fixes its own. Bad input raises UsageError (exit 2)
    before anything is planned.
    """
    from emulator.core import scenario
    from emulator.readers import documents, eventlist

    if documents.read(path).kind == "scenario":
        loaded = documents.load(path)
        own = with_sink(loaded.raw_settings, loaded.vendors) if sink else loaded.raw_settings
        settings, raw = merged_settings(own, config_path, list(targets), time_scale, path)
        _require_targets(settings, loaded.vendors, path, "the flows use")
        chosen = loaded.scenario.seed if seed is None else seed
        planned = scenario.plan(
            loaded.scenario,
            seed=chosen,
            start=loaded.scenario.start or start,
            links_base=settings.links_base,
            extras=builder_extras(settings),
        )
        return PlanSource(loaded.scenario.name, chosen, raw, settings, planned)
    events = eventlist.load(path)
    used = [slug for slug, *_ in events.items]
    own = with_sink(events.settings, used) if sink else events.settings
    settings, raw = merged_settings(own, config_path, list(targets), time_scale, path)
    _require_targets(settings, used, path, "the events name")
    chosen = events.seed if seed is None else seed
    planned = simple_plan(
        events.items, chosen, start, settings.links_base, builder_extras(settings)
    )
    return PlanSource(events.name, chosen, raw, settings, planned)


def _require_targets(
    settings: config.Settings, vendors: Iterable[str], path: str, what: str
) -> None:
    for slug in vendors:
        if slug not in settings.vendors:
            raise ConfigError(
                f"{what} {slug} but no {slug} target is set; add vendors.{slug}.target "
                f"or pass --target {slug}=URL",
                source=path,
            )


def merged_settings(
    base: Mapping[str, Any],
    config_path: str | None,
    targets: list[str],
    time_scale: float | None,
    source: str | None,
) -> tuple[config.Settings, dict[str, Any]]:
    layers: list[Mapping[str, Any]] = []
    if config_path:
        config.load(config_path)  # errors with file, line and key path before anything merges
        with open(config_path, encoding="utf-8") as fh:
            layers.append(yaml.safe_load(fh) or {})
        source = config_path
    raw = config.merge(base, *layers)
    if targets:
        config.retarget(raw, dict(parse_target_flag(flag) for flag in targets))
    if time_scale is not None:
        raw["time_scale"] = time_scale
    return config.parse(raw, source=source), raw


def parse_target_flag(flag: str, vendor: str | None = None) -> tuple[str, str]:
    """``V=URL`` (or a bare URL when the vendor is known) from a ``--target`` flag."""
    name, sep, url = flag.partition("=")
    if sep and not name.startswith(("http:", "https:")):
        catalogue.vendor(name)
        if vendor is not None and name != vendor:
            raise UsageError(f"--target {flag}: this command sends {vendor} events, not {name}")
        return name, url
    if vendor is None:
        raise UsageError(
            f"--target {flag!r}: expected VENDOR=URL, e.g. --target punchh=http://127.0.0.1:9000/hooks; "
            f"vendors: {', '.join(catalogue.VENDORS)}"
        )
    return vendor, flag


def with_sink(raw: Mapping[str, Any], vendors: Iterable[str]) -> dict[str, Any]:
    """``raw`` with every vendor that has no target aimed at the built-in sink, with its auth."""
    from emulator.readers import sink_settings

    merged = copy.deepcopy(dict(raw))
    configured = merged.setdefault("vendors", {})
    for slug in vendors:
        if not isinstance(configured.get(slug), Mapping) or "target" not in configured[slug]:
            configured[slug] = {
                "target": "${SINK_URL}/" + slug,
                "auth": dict(sink_settings.AUTH[slug]),
            }
    return merged
