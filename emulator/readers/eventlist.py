"""The plain event-list format that ``run`` and the API accept: delivery settings plus events.

    seed: 7
    time_scale: 0.001
    vendors:
      punchh: {target: http://127.0.0.1:9000/hooks/punchh, auth: {type: hmac-sha256, ...}}
    events:
      - {vendor: punchh, event: coupon-issuance-unlock, count: 100, every: 0.5}

Read with the scenarios' YAML reader, so it behaves alike: every error names source, line,
column and key path, duplicate keys are refused, ``${VAR}`` is expanded in every value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from emulator.core import catalogue
from emulator.core.errors import ConfigError, UnknownNameError
from emulator.readers import bounds, config
from emulator.readers.yamlread import YamlReader, compose, number_text, read_text, shape

OWN_KEYS = ("name", "seed", "events")
EVENT_KEYS = ("vendor", "event", "count", "every")


def _example() -> str:
    """An event the messages show: the catalogue's first vendor and event type."""
    first = catalogue.event_types()[0]
    return f"{{vendor: {first.vendor}, event: {first.name}, count: 10}}"


@dataclass(frozen=True)
class EventList:
    name: str
    seed: int
    items: tuple[tuple[str, str, int, float], ...]
    settings: Mapping[str, Any]  # the settings part, as written (``${VAR}`` unexpanded)

    @property
    def vendors(self) -> tuple[str, ...]:
        """The vendors the events name, in order of first use."""
        return tuple(dict.fromkeys(slug for slug, *_ in self.items))

    @property
    def total(self) -> int:
        return sum(count for _, _, count, _ in self.items)


# --- bounds -------------------------------------------------------------------------------------

MAX_COUNT = 100_000_000  # events of one entry; a run's plan has its own limit too


def check_count(reader: YamlReader, node: yaml.Node, path: str, count: int) -> None:
    if count > MAX_COUNT:
        raise reader.fail(node, path, f"at most {MAX_COUNT:,} events per entry, got {count:,}")


def load(path: str, env: Mapping[str, str] | None = None) -> EventList:
    """The event list in the file ``path``; ConfigError names file, line, column and key path."""
    try:
        text = read_text(str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the event list: {exc}", source=path) from None
    node = compose(text, path)
    if node is None:
        raise ConfigError("the event list is empty; expected a mapping with 'events:'", source=path)
    return parse(node, source=path, env=os.environ if env is None else env, name=path)


def parse(node: yaml.Node, *, source: str, env: Mapping[str, str], name: str) -> EventList:
    """An event list from a composed node; ``name`` when the file gives none."""
    reader = _Reader(source, env)
    reader.safe(node)
    items = reader.mapping(
        node, "", "a mapping with 'events:' (and optionally 'vendors:', 'seed:')"
    )
    if "events" not in items:
        raise reader.fail(node, "events", f"required: a list of events, e.g. [{_example()}]")
    title = reader.text(items["name"][1], "name") if "name" in items else name
    seed = reader.integer(items["seed"][1], "seed", minimum=0) if "seed" in items else 0
    events = tuple(reader.events(items["events"][1]))
    # The settings part where it stands, so that its errors carry this source's lines too.
    config.parse(node, source=source, env=env, extra_keys=OWN_KEYS)
    raw = {
        key: yaml.constructor.SafeConstructor().construct_object(value, deep=True)
        for key, (_, value) in items.items()
        if key in config.TOP_KEYS
    }
    return EventList(name=title, seed=seed, items=events, settings=raw)


class _Reader(YamlReader):
    def __init__(self, source: str, env: Mapping[str, str]) -> None:
        super().__init__(source, env, "event lists")

    def events(self, node: yaml.Node):
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.fail(node, "events", f"expected a non-empty list like [{_example()}]")
        nodes = node.value
        for i, item in enumerate(nodes):
            yield self.event(item, f"events[{i}]")

    def event(self, node: yaml.Node, path: str) -> tuple[str, str, int, float]:
        items = self.mapping(node, path, f"a mapping like {_example()}")
        self.known(items, path, EVENT_KEYS)
        for key in ("vendor", "event"):
            if key not in items:
                raise self.fail(node, f"{path}.{key}", f"required; e.g. {_example()}")
        slug = self.choice(items["vendor"][1], f"{path}.vendor", tuple(catalogue.VENDORS), "vendor")
        event_node = items["event"][1]
        name = self.text(event_node, f"{path}.event", f"one of the {slug} event types")
        try:
            name = catalogue.event_type(slug, name).name
        except UnknownNameError as exc:
            raise self.fail(event_node, f"{path}.event", str(exc)) from None
        count = 1
        if "count" in items:
            count = self.integer(items["count"][1], f"{path}.count", minimum=1)
            check_count(self, items["count"][1], f"{path}.count", count)
        every = 0.0
        if "every" in items:
            node, here = items["every"][1], f"{path}.every"
            every = bounds.seconds(self, node, here, self.number(node, here, minimum=0))
        return slug, name, count, every

    def integer(self, node: yaml.Node, path: str, minimum: int) -> int:
        value, expanded = self.scalar(node, path)
        if expanded:
            value = number_text(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(
                node, path, f"expected an integer >= {minimum}, got {shape(node, value)}"
            )
        return value
