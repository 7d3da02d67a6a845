"""YAML documents on disk: read and composed with located errors, and told apart (a scenario, an
event list or delivery settings); a scenario file loaded and checked."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.core.errors import ConfigError

if TYPE_CHECKING:
    import yaml

    from emulator.readers import scenario_reader


@dataclass(frozen=True)
class Document:
    """A YAML file read and composed, and what it holds: a scenario, an event list or settings."""

    path: str
    kind: str
    node: yaml.Node | None


def read(path: str) -> Document:
    """Read and compose ``path``; ConfigError (exit 2) names file, line and column."""
    import yaml

    from emulator.readers.config import TOP_KEYS
    from emulator.readers.yamlread import compose

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", source=path) from None
    except IsADirectoryError:
        raise ConfigError("this is a directory; pass a YAML file", source=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the file: {exc}", source=path) from None
    node = compose(text, path)
    kind = "settings"
    if isinstance(node, yaml.MappingNode):
        # Settings hold only their own keys; anything else (a typo too) reads as a scenario, whose
        # errors list every known key.
        keys = {k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
        if "flows" in keys:
            kind = "scenario"
        elif "events" in keys:
            kind = "events"
        elif keys - {*TOP_KEYS, "<<"}:
            kind = "scenario"
    return Document(path, kind, node)


def load(path: str, env: Mapping[str, str] | None = None) -> scenario_reader.Loaded:
    """The scenario in ``path``, checked; ConfigError with file, line, column and key path."""
    document = read(path)
    if document.kind != "scenario":
        raise ConfigError(
            "not a scenario: expected a mapping with 'flows:' (see scenarios/quickstart.yaml)",
            source=path,
        )
    return parse(document, env)


def parse(document: Document, env: Mapping[str, str] | None) -> scenario_reader.Loaded:
    from emulator.readers import scenario_reader

    assert document.node is not None
    return scenario_reader.parse(
        document.node,
        source=document.path,
        env=os.environ if env is None else env,
        name=Path(document.path).stem,
    )
