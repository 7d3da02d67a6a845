"""The plain event-list file that ``run`` accepts: delivery settings plus events to send.

    seed: 7
    time_scale: 0.001
    vendors:
      punchh: {target: http://127.0.0.1:9000/hooks/punchh, auth: {type: hmac-sha256, ...}}
    events:
      - {vendor: punchh, event: coupon-issuance-unlock, count: 100, every: 0.5}

Every error names file, line, column and key path, like the settings' own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from emulator.core import catalogue
from emulator.core.errors import ConfigError, UnknownNameError
from emulator.readers import config
from emulator.readers.yamlread import compose

OWN_KEYS = ("seed", "events", "name")
EVENT_KEYS = ("vendor", "event", "count", "every")


@dataclass(frozen=True)
class EventList:
    name: str
    seed: int
    items: tuple[tuple[str, str, int, float], ...]
    settings: Mapping[str, Any]  # the settings part, as written (``${VAR}`` unexpanded)


def load(path: str) -> EventList:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the event list: {exc.strerror or exc}", source=path
        ) from None
    node = compose(text, path)  # any YAML error: ConfigError with line and column
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(
            "expected a mapping with 'events:' (and optionally 'vendors:', 'seed:')", source=path
        )
    fail = _failer(path)
    own = {
        k.value: (k, v)
        for k, v in node.value
        if isinstance(k, yaml.ScalarNode) and k.value in OWN_KEYS
    }
    if "events" not in own:
        raise fail(node, "events", "missing; expected a list of {vendor, event, count, every}")
    seed = _int(own["seed"][1], "seed", fail, minimum=0) if "seed" in own else 0
    name = own["name"][1].value if "name" in own else path
    items = tuple(_items(own["events"][1], fail))
    # Check the settings part where it stands, so its errors carry this file's lines too.
    config.parse(node, source=path, extra_keys=OWN_KEYS)
    rest = yaml.MappingNode(node.tag, [(k, v) for k, v in node.value if k.value not in OWN_KEYS])
    settings = yaml.safe_load(yaml.serialize(rest)) or {}
    return EventList(name=str(name), seed=seed, items=items, settings=settings)


def _failer(path: str):
    def fail(node: yaml.Node, key: str, message: str) -> ConfigError:
        mark = node.start_mark
        return ConfigError(
            message, source=path, line=mark.line + 1, column=mark.column + 1, path=key
        )

    return fail


def _items(node: yaml.Node, fail):
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise fail(node, "events", "expected a non-empty list of {vendor, event, count, every}")
    for i, item in enumerate(node.value):
        where = f"events[{i}]"
        if not isinstance(item, yaml.MappingNode):
            raise fail(
                item,
                where,
                "expected a mapping like {vendor: komo, event: CouponIssued, count: 10}",
            )
        fields = {k.value: v for k, v in item.value}
        for key, value in fields.items():
            if key not in EVENT_KEYS:
                raise fail(
                    value, f"{where}.{key}", f"unknown key; valid keys: {', '.join(EVENT_KEYS)}"
                )
        for key in ("vendor", "event"):
            if key not in fields:
                raise fail(item, where, f"missing '{key}'")
        slug, name = fields["vendor"].value, fields["event"].value
        try:
            catalogue.vendor(slug)
        except UnknownNameError as exc:
            raise fail(fields["vendor"], f"{where}.vendor", str(exc)) from None
        try:
            catalogue.event_type(slug, name)
        except UnknownNameError as exc:
            raise fail(fields["event"], f"{where}.event", str(exc)) from None
        count = _int(fields["count"], f"{where}.count", fail, minimum=1) if "count" in fields else 1
        every = _float(fields["every"], f"{where}.every", fail) if "every" in fields else 0.0
        yield slug, name, count, every


def _int(node: yaml.Node, key: str, fail, minimum: int) -> int:
    try:
        value = int(node.value)
    except (TypeError, ValueError):
        raise fail(node, key, f"expected an integer >= {minimum}, got {node.value!r}") from None
    if value < minimum:
        raise fail(node, key, f"expected an integer >= {minimum}, got {value}")
    return value


def _float(node: yaml.Node, key: str, fail) -> float:
    try:
        value = float(node.value)
    except (TypeError, ValueError):
        raise fail(node, key, f"expected a number of seconds >= 0, got {node.value!r}") from None
    if value < 0:
        raise fail(node, key, f"expected a number of seconds >= 0, got {value:g}")
    return value
