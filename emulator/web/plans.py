"""From API input to runs: one event with overrides, or a scenario through the one loader.

Settings merge in the loader's one order (``emulator.readers.loader``): the scenario's own, then
the service's ``--config``, then the request's ``targets``/``target`` and ``time_scale``. A vendor
the plan uses and nothing configures goes to the built-in sink.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emulator.core import catalogue
from emulator.core import overrides as payload_overrides
from emulator.core.errors import ConfigError
from emulator.core.plan import builder_extras, simple_plan
from emulator.core.vendor import encode
from emulator.delivery.records import NewDelivery
from emulator.readers import config, library, loader

INLINE_SOURCE = loader.INLINE
ScenarioNotFound = library.ScenarioNotFound


@dataclass(frozen=True)
class Defaults:
    """What every run starts from: the service's settings and where its own sink listens."""

    base: Mapping[str, Any]  # the --config file as written (``${VAR}`` unexpanded)
    env: Mapping[str, str]  # what ``${VAR}`` expands from
    links_base: str
    sink: Mapping[str, Mapping[str, Any]]  # vendor -> settings entry aimed at the built-in sink
    scenarios: Path
    config_source: str | None = None
    allow_env: tuple[str, ...] = ("SINK_URL",)  # what ${VAR} may name in what a request sends
    max_events: int = 1_000_000  # events one API run may plan

    def layers(self, targets: Mapping[str, str] | None, time_scale: float | None) -> loader.Layers:
        """The service's settings layers under a request's ``targets`` and ``time_scale``."""
        return loader.Layers(
            config=self.base,
            config_source=self.config_source,
            targets=targets or {},
            time_scale=time_scale,
            sink=self.sink,
            links_base=self.links_base,
            env=self.env,
        )


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
    if target:
        check_env_refs(target, defaults.allow_env, "target", defaults.env)
    layers = defaults.layers({vendor: target} if target else None, time_scale)
    settings, raw = loader.settings({}, [vendor], layers, "request")
    planned = next(
        simple_plan([(vendor, et.name, 1, 0.0)], seed, datetime.now(UTC), settings.links_base,
                    builder_extras(settings))
    )  # fmt: skip

    def schema_errors(patched: Any) -> list[str]:
        from emulator.readers import schemas  # jsonschema: only when a body was patched

        return schemas.errors(et.schema_path, patched)

    patches = [payload_overrides.Patch(overrides)] if overrides else []
    body, problems = payload_overrides.checked(planned.body, patches, schema_errors)
    keys = payload_overrides.dedupe_keys(catalogue.vendor(vendor), body)
    delivery = NewDelivery(
        vendor=vendor,
        event_type=et.name,
        coupon_key=planned.coupon_key,
        dedupe_keys=keys,
        body=encode(body),
        due_at=time.time(),
        label=payload_overrides.LABEL if overrides else "",
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
) -> loader.Plan:
    """A run from a shipped scenario ``name`` or from inline YAML ``text``, read as ``run`` reads
    a file (``emulator.readers.loader``): a scenario or an event list. Every check happens here;
    the events are planned as the run consumes them."""
    source = (
        loader.Source(str(shipped(defaults.scenarios, name)))
        if name is not None
        else loader.Source.inline(text or "", INLINE_SOURCE)
    )
    if text is not None:
        check_env_refs(text, defaults.allow_env, "yaml", defaults.env)
    for vendor, url in (targets or {}).items():
        check_env_refs(url, defaults.allow_env, f"targets/{vendor}", defaults.env)
    return loader.plan(
        source,
        defaults.layers(targets, time_scale),
        seed=seed,
        start=datetime.now(UTC),
        max_events=defaults.max_events,
    )


# ``${NAME`` not preceded by a ``$`` (``$${`` is a literal ``${``).
_ENV_REF = re.compile(r"(?<!\$)\$\{([^}:]*)")


def check_env_refs(text: str, allowed: tuple[str, ...], field: str, env: Mapping[str, str]) -> None:
    """Refuse ``${VAR}`` in request input unless the service allows that name (``--allow-env``):
    else any caller could read the service's environment back from the attempt log."""
    for m in _ENV_REF.finditer(text):
        name = m.group(1)
        # An unset one fails (or takes its default) as in ``validate``: nothing to read there.
        if name not in allowed and name in env:
            line = text.count("\n", 0, m.start()) + 1
            where = f"{field} line {line}" if field == "yaml" else field
            raise ConfigError(
                f"{where}: ${{{name}}} is not expanded in what a request sends; the service "
                f"expands only the variables it was started to allow (serve --allow-env NAME); "
                f"allowed: {', '.join(allowed)}",
                source=INLINE_SOURCE,
            )


def shipped(folder: Path, name: str) -> Path:
    """The file of scenario ``name`` in the service's folder (``serve --scenarios``, by default
    the shipped library); names resolve as the command line resolves them."""
    return library.find(name, folder)


def names(folder: Path) -> list[str]:
    return library.names(folder)
