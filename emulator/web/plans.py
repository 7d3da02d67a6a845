"""From API input to deliveries: one event with overrides, or a scenario; and the settings for them.

Settings of a run, weakest first: the service's ``--config``; the scenario's own ``vendors:``;
the request's ``targets``/``target`` (a URL only: the auth configured for that vendor stays) and
``time_scale``. A vendor the plan uses and nothing configures goes to the built-in sink.
"""

from __future__ import annotations

import copy
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from emulator.core import catalogue
from emulator.core.errors import UsageError
from emulator.core.plan import builder_extras, simple_plan
from emulator.core.vendor import encode
from emulator.delivery.outbox import NewDelivery
from emulator.delivery.runner import envelopes
from emulator.readers import config, eventlist
from emulator.readers.yamlread import compose

SCENARIO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
INLINE_SOURCE = "request:yaml"


class ScenarioNotFound(LookupError):
    """A shipped scenario name with no file behind it."""


@dataclass(frozen=True)
class Defaults:
    """What every run starts from: the service's settings and where its own sink listens."""

    base: Mapping[str, Any]  # the --config file as written (``${VAR}`` unexpanded)
    env: Mapping[str, str]  # what ``${VAR}`` expands from
    links_base: str
    sink: Mapping[str, Mapping[str, Any]]  # vendor -> settings entry aimed at the built-in sink
    scenarios: Path


@dataclass(frozen=True)
class Prepared:
    """A run ready to store: its name, its settings (as written and parsed), its deliveries."""

    name: str
    source: str | None
    raw: dict[str, Any]
    settings: config.Settings
    deliveries: tuple[NewDelivery, ...]
    seed: int
    schema_errors: tuple[str, ...] = ()


def settings_for(
    defaults: Defaults,
    vendors_used: Sequence[str],
    own: Mapping[str, Any] | None = None,
    targets: Mapping[str, str] | None = None,
    time_scale: float | None = None,
    source: str | None = None,
) -> tuple[config.Settings, dict[str, Any]]:
    """The settings of one run, merged as the module docstring says; ConfigError when unusable."""
    raw = config.merge(defaults.base, own or {})
    config.retarget(raw, targets or {})
    vendors = raw["vendors"]
    for slug in vendors_used:
        if slug not in vendors:
            vendors[slug] = copy.deepcopy(dict(defaults.sink[slug]))
    if time_scale is not None:
        raw["time_scale"] = time_scale
    raw.setdefault("links_base", defaults.links_base)
    return config.parse(raw, source=source, env=defaults.env), raw


def event(
    defaults: Defaults,
    vendor: str,
    event_type: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    seed: int,
    target: str | None = None,
    time_scale: float | None = None,
) -> Prepared:
    """One event about a fresh coupon, its body patched with ``overrides`` (RFC 7396)."""
    et = catalogue.event_type(vendor, event_type)
    settings, raw = settings_for(
        defaults, [vendor], None, {vendor: target} if target else None, time_scale, "request"
    )
    planned = next(
        simple_plan([(vendor, et.name, 1, 0.0)], seed, datetime.now(UTC), settings.links_base,
                    builder_extras(settings))
    )  # fmt: skip
    body = merge_patch(planned.body, overrides) if overrides else planned.body
    problems: tuple[str, ...] = ()
    if overrides:
        from emulator.readers import schemas  # jsonschema: only when a body was patched

        problems = tuple(schemas.errors(et.schema_path, body))
    try:
        keys = tuple(catalogue.vendor(vendor).dedupe_keys(body))
    except (KeyError, TypeError, IndexError, AttributeError):
        # The overrides removed what the key is made of: send it anyway, as asked, keyless.
        keys = ()
    delivery = NewDelivery(
        vendor=vendor,
        event_type=et.name,
        coupon_key=planned.coupon_key,
        dedupe_keys=keys,
        body=encode(body),
        due_at=time.time(),
        label="overrides" if overrides else "",
    )
    name = f"event {vendor} {et.name}"
    return Prepared(name, None, raw, settings, (delivery,), seed, problems)


def scenario(
    defaults: Defaults,
    *,
    name: str | None = None,
    text: str | None = None,
    seed: int | None = None,
    targets: Mapping[str, str] | None = None,
    time_scale: float | None = None,
) -> Prepared:
    """A run from a shipped scenario ``name`` or from inline YAML ``text``.

    A scenario (``flows:``) is planned with its lifecycles and injected edge cases; a plain event
    list (``events:``) is still accepted. This is the one place that reads either.
    """
    if name is not None:
        path = shipped(defaults.scenarios, name)
        source, stem = str(path), path.stem
        text = path.read_text(encoding="utf-8")
    else:
        source, stem = INLINE_SOURCE, "inline"
    node = compose(text or "", source)  # ConfigError with line and column, never a traceback
    if _is_scenario(node):
        return _scenario_run(defaults, node, source, stem, seed, targets, time_scale)
    events = _event_list(text or "", source, path if name is not None else None)
    used = list(dict.fromkeys(slug for slug, *_ in events.items))
    settings, raw = settings_for(defaults, used, events.settings, targets, time_scale, source)
    run_seed = events.seed if seed is None else seed
    planned = simple_plan(
        events.items, run_seed, datetime.now(UTC), settings.links_base, builder_extras(settings)
    )
    deliveries = tuple(envelopes(planned, settings, time.time()))
    return Prepared(events.name, source, raw, settings, deliveries, run_seed)


def _scenario_run(
    defaults: Defaults,
    node: yaml.Node,
    source: str,
    stem: str,
    seed: int | None,
    targets: Mapping[str, str] | None,
    time_scale: float | None,
) -> Prepared:
    from emulator.core import scenario as planner
    from emulator.readers import scenario_reader

    loaded = scenario_reader.parse(node, source=source, env=defaults.env, name=stem)
    settings, raw = settings_for(
        defaults, list(loaded.vendors), loaded.raw_settings, targets, time_scale, source
    )
    run_seed = loaded.scenario.seed if seed is None else seed
    planned = planner.plan(
        loaded.scenario,
        seed=run_seed,
        start=loaded.scenario.start or datetime.now(UTC),
        links_base=settings.links_base,
        extras=builder_extras(settings),
    )
    deliveries = tuple(envelopes(planned, settings, time.time()))
    return Prepared(loaded.scenario.name, source, raw, settings, deliveries, run_seed)


def _is_scenario(node: yaml.Node | None) -> bool:
    return isinstance(node, yaml.MappingNode) and any(
        isinstance(k, yaml.ScalarNode) and k.value == "flows" for k, _ in node.value
    )


def _event_list(text: str, source: str, path: Path | None) -> eventlist.EventList:
    return eventlist.load(str(path)) if path is not None else _load_text(text)


def shipped(folder: Path, name: str) -> Path:
    """The file of shipped scenario ``name`` (``<folder>/<name>.yaml``)."""
    if SCENARIO_NAME.match(name):
        for suffix in (".yaml", ".yml"):
            path = folder / f"{name}{suffix}"
            if path.is_file():
                return path
    known = ", ".join(names(folder)) or "none"
    raise ScenarioNotFound(f"no shipped scenario {name!r} in {folder}; shipped: {known}")


def names(folder: Path) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(
        {p.stem for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()}
    )


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch: objects merge, ``null`` removes a key, anything else replaces."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _load_text(text: str) -> eventlist.EventList:
    # The event-list reader takes a file; errors are reported against the request, not the file.
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(f"{INLINE_SOURCE}: not valid Unicode text ({exc.reason})") from None
    with tempfile.TemporaryDirectory(prefix="coupon-emulator-") as folder:
        path = Path(folder) / "scenario.yaml"
        path.write_bytes(data)
        try:
            events = eventlist.load(str(path))
        except UsageError as exc:
            raise UsageError(str(exc).replace(str(path), INLINE_SOURCE)) from None
    if events.name == str(path):
        events = eventlist.EventList("inline", events.seed, events.items, events.settings)
    return events
