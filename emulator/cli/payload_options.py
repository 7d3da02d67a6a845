"""``--set``, ``--unset`` and ``--patch`` of ``send`` and ``sample``: read them, apply them to the
built body (``emulator.core.overrides``, as the API applies its ``overrides``), name on stderr how
the result breaks its event type's schema."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from emulator.core import overrides as core
from emulator.core.errors import ConfigError, UsageError


class _InOrder(argparse.Action):
    """Every override option appends ``(option, text)`` to one list: they apply in the order
    given on the command line, whatever their kind."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        given = list(getattr(namespace, self.dest, None) or [])
        given.append((self.option_strings[0], values))
        setattr(namespace, self.dest, given)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "payload overrides",
        "Change the built body before it is sent or printed, in the order given. PATH is dotted "
        "keys (payload.location_id); a whole number indexes a list (payload.items.0.code). A body "
        "that no longer matches its event type's JSON Schema is still used, labelled 'overrides', "
        "and how it differs is named on stderr.",
    )
    common = {"action": _InOrder, "dest": "overrides", "default": []}
    group.add_argument(
        "--set",
        metavar="PATH=VALUE",
        help="put VALUE at PATH (repeatable); VALUE is JSON when it parses (42, true, null, "
        '"42", {...}), else a string; missing objects on the way are created',
        **common,
    )
    group.add_argument(
        "--unset", metavar="PATH", help="remove the key at PATH, which must exist (repeatable)",
        **common,
    )  # fmt: skip
    group.add_argument(
        "--patch",
        metavar="FILE|JSON",
        help='an RFC 7396 JSON merge patch, inline (\'{"payload": {"email": null}}\') or a JSON '
        "or YAML file (repeatable): objects merge, null removes a key, anything else replaces",
        **common,
    )


def read(given: Sequence[tuple[str, str]]) -> list[core.Override]:
    """The overrides the command line gave, parsed; a bad one is a ``UsageError`` naming it."""
    result: list[core.Override] = []
    for option, text in given:
        source = f"{option} {text}"
        if option == "--set":
            result.append(core.parse_set(text, source))
        elif option == "--unset":
            result.append(core.Unset(core.parse_path(text, source), source))
        else:
            result.append(core.Patch(_patch(text, source), source))
    return result


def apply(
    vendor: str,
    event: str,
    body: Any,
    given: Sequence[tuple[str, str]],
    used: str,
    stream: TextIO | None = None,
) -> Any:
    """``body`` with the command line's overrides applied; how the result breaks the schema of
    ``vendor``'s ``event`` is named on ``stream`` (stderr), the body ``used`` anyway."""
    overrides = read(given)
    if not overrides:
        return body
    from emulator.core import catalogue  # loaded in main(), where a bad vendor is exit 2
    from emulator.readers import schemas  # jsonschema: only when a body is changed

    et = catalogue.event_type(vendor, event)
    result, problems = core.checked(body, overrides, lambda b: schemas.errors(et.schema_path, b))
    if problems:
        out = stream or sys.stderr
        print(
            f"coupon-emulator: warning: with the overrides, the body no longer matches the "
            f"{et.vendor} {et.name} schema ('events --json' names its file); {used} anyway, "
            f"labelled '{core.LABEL}':",
            file=out,
        )
        for line in problems:
            print(f"  {line}", file=out)
        out.flush()
    return result


def _patch(text: str, source: str) -> Any:
    """A merge patch: inline JSON (text starting with ``{``), else the path of a JSON or YAML
    file holding one."""
    expected = (
        'expected a JSON object, inline (\'{"payload": {"location_id": 42}}\') or the path of '
        "a JSON or YAML file holding one"
    )
    if text.lstrip().startswith("{"):
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise core.OverrideError(f"{source}: not valid JSON ({exc}); {expected}") from None
    else:
        path = Path(text)
        if not path.is_file():
            what = "is a directory" if path.is_dir() else "no such file"
            raise core.OverrideError(f"{source}: {what}; {expected}")
        value = _read_file(path, source)
    if not isinstance(value, dict):
        raise core.OverrideError(
            f"{source}: the patch is {type(value).__name__ if value is not None else 'null'}, "
            f"not an object; {expected}"
        )
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise core.OverrideError(
            f"{source}: the patch holds a value JSON cannot carry (an unquoted YAML date or "
            "time?); quote it to send it as a string"
        ) from None
    return value


def _read_file(path: Path, source: str) -> Any:
    import yaml

    from emulator.readers import yamlread

    try:
        text = yamlread.read_text(str(path), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise core.OverrideError(f"{source}: cannot read the file ({exc})") from None
    try:
        return json.loads(text)
    except ValueError:
        pass  # not JSON: read it as YAML, with located errors
    try:
        yamlread.compose(text, str(path))
        return yaml.safe_load(text)
    except ConfigError as exc:
        raise UsageError(f"{source}: {exc}") from None
