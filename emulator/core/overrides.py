"""Payload overrides: RFC 7396 merge patches and set/unset by key path, applied to a built body.

One implementation for every caller: the API's ``overrides`` are one ``Patch``; ``send`` and
``sample`` take ``--set PATH=VALUE``, ``--unset PATH`` and ``--patch``, applied in the order given.
A path is dotted keys, ``payload.location_id``; a segment that is a whole number indexes a list,
``payload.redeemed_menu_items.0.item_name`` (it is an ordinary key inside an object). Keys with a
dot in their name are reached with a patch.

Pure: the caller reads files and checks the schema; a body patched so that it no longer matches
its event type is still a body, sent or printed with the ``LABEL``.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emulator.core.errors import UsageError

LABEL = "overrides"  # the delivery label of a body changed by overrides


class OverrideError(UsageError):
    """An override that cannot apply to the body, or cannot be read; the message names it."""


@dataclass(frozen=True)
class Set:
    """Put ``value`` at ``path``; objects on the way that do not exist yet are created."""

    path: tuple[str, ...]
    value: Any
    source: str = ""  # how the caller names it in messages (``--set a.b=1``)


@dataclass(frozen=True)
class Unset:
    """Remove the key (or list item) at ``path``, which must exist."""

    path: tuple[str, ...]
    source: str = ""


@dataclass(frozen=True)
class Patch:
    """An RFC 7396 JSON merge patch."""

    patch: Any
    source: str = ""


Override = Set | Unset | Patch


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


def parse_path(text: str, source: str = "") -> tuple[str, ...]:
    """``payload.items.0.code`` -> ``("payload", "items", "0", "code")``; no empty segment."""
    segments = tuple(text.split("."))
    if not text or any(s == "" for s in segments):
        raise OverrideError(
            f"{_prefix(source)}{text!r} is not a key path; expected dotted keys such as "
            "payload.location_id (a whole number indexes a list: payload.items.0.code)"
        )
    return segments


def parse_value(text: str) -> Any:
    """``VALUE`` as JSON when it parses (``42``, ``true``, ``null``, ``"x"``, ``{...}``), else
    the text itself as a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_set(text: str, source: str = "") -> Set:
    """``PATH=VALUE`` (the first ``=`` splits them; the value may hold more)."""
    path, sep, value = text.partition("=")
    if not sep:
        raise OverrideError(
            f"{_prefix(source)}expected PATH=VALUE, e.g. payload.location_id=42, not {text!r}"
        )
    return Set(parse_path(path, source), parse_value(value), source)


def apply(body: Any, overrides: Iterable[Override]) -> Any:
    """``body`` with every override applied in order; ``body`` itself is left unchanged."""
    result = copy.deepcopy(body)
    for override in overrides:
        if isinstance(override, Patch):
            result = merge_patch(result, override.patch)
        elif isinstance(override, Set):
            result = _set(result, override)
        else:
            _unset(result, override)
    return result


def checked(
    body: Any, overrides: Sequence[Override], errors: Callable[[Any], Iterable[str]]
) -> tuple[Any, tuple[str, ...]]:
    """``body`` with ``overrides`` applied, and every way the result breaks its event type's
    schema (``errors``: ``key.path: what was expected`` lines); no check when nothing changed."""
    if not overrides:
        return body, ()
    result = apply(body, overrides)
    return result, tuple(errors(result))


def dedupe_keys(vendor: Any, body: Any) -> tuple[str, ...]:
    """The keys a consumer dedupes an overridden ``body`` on; none when the overrides removed
    or reshaped what they are made of (the body is sent anyway, keyless, as asked)."""
    try:
        return tuple(vendor.dedupe_keys(body))
    except (KeyError, TypeError, IndexError, AttributeError, ValueError):
        return ()


def _set(body: Any, override: Set) -> Any:
    if not override.path:
        return copy.deepcopy(override.value)
    *parents, last = override.path
    node = body
    for depth, segment in enumerate(parents):
        node = _child(node, segment, override, depth, create=True)
    where = _where(override.path, len(parents))
    if isinstance(node, Mapping):
        node[last] = copy.deepcopy(override.value)  # type: ignore[index]
    elif isinstance(node, list):
        index = _index(node, last, override, len(parents), extend=True)
        if index == len(node):
            node.append(copy.deepcopy(override.value))
        else:
            node[index] = copy.deepcopy(override.value)
    else:
        raise _not_a_container(node, where, last, override)
    return body


def _unset(body: Any, override: Unset) -> None:
    *parents, last = override.path
    node = body
    for depth, segment in enumerate(parents):
        node = _child(node, segment, override, depth, create=False)
    if isinstance(node, Mapping):
        if last not in node:
            raise _missing(node, override, len(parents))
        del node[last]  # type: ignore[attr-defined]
    elif isinstance(node, list):
        node.pop(_index(node, last, override, len(parents), extend=False))
    else:
        raise _not_a_container(node, _where(override.path, len(parents)), last, override)


def _child(node: Any, segment: str, override: Set | Unset, depth: int, *, create: bool) -> Any:
    """The value under ``segment`` of ``node``; a missing object is created when ``create``."""
    if isinstance(node, dict):
        if segment not in node:
            if not create:
                raise _missing(node, override, depth)
            node[segment] = {}
        return node[segment]
    if isinstance(node, list):
        return node[_index(node, segment, override, depth, extend=False)]
    raise _not_a_container(node, _where(override.path, depth), segment, override)


def _index(
    node: list[Any], segment: str, override: Set | Unset, depth: int, *, extend: bool
) -> int:
    where = _where(override.path, depth)
    top = len(node) if extend else len(node) - 1
    valid = (
        f"0..{top}" if top >= 0 else ("0 (the list is empty)" if extend else "none: it is empty")
    )
    if not segment.isdigit():
        raise OverrideError(
            f"{_prefix(override.source)}{where} is a list; index it with a whole number "
            f"({valid}), not {segment!r}"
        )
    index = int(segment)
    if index > top:
        raise OverrideError(
            f"{_prefix(override.source)}{where} has {len(node)} items; index {index} is past its "
            f"end (valid: {valid})"
        )
    return index


def _missing(node: Mapping[str, Any], override: Set | Unset, depth: int) -> OverrideError:
    where = _where(override.path, depth)
    key = override.path[depth]
    names = sorted(map(str, node))
    close = difflib.get_close_matches(key, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return OverrideError(
        f"{_prefix(override.source)}{where} has no key {key!r}{hint}; its keys: "
        f"{', '.join(names) or 'none'}"
    )


def _not_a_container(value: Any, where: str, segment: str, override: Set | Unset) -> OverrideError:
    return OverrideError(
        f"{_prefix(override.source)}{where} is {_kind(value)}, not an object or a list, so it "
        f"has no {segment!r} inside; expected a path through objects and lists"
    )


def _where(path: Sequence[str], depth: int) -> str:
    """The path up to ``depth`` segments, as a user writes it (``(body)`` for the body itself)."""
    return ".".join(path[:depth]) or "(body)"


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({json.dumps(value)})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ({value[:40]!r})"
    return type(value).__name__


def _prefix(source: str) -> str:
    return f"{source}: " if source else ""
