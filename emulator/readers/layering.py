"""The settings layers of a run (the order is in ``emulator.readers.loader``'s docstring): flags,
a settings file, the document's own settings and the vendors' defaults, merged into one run's
settings. Used through the loader (``loader.layers``, ``loader.settings``)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from emulator.core import catalogue
from emulator.core.errors import ConfigError, UsageError
from emulator.readers import config

EMPTY: Mapping[str, Any] = MappingProxyType({})


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
