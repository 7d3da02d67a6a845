"""Read composed YAML node by node, so that every error names file, line, column and key path.

Settings files and scenario files share these primitives, so their errors read alike:
``file:line:column: key.path: what was expected, what was found; valid: ...``. Strings have
``${VAR}`` and ``${VAR:-default}`` expanded from the given environment (``$${`` is a literal ``${``).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

import yaml

from emulator.core.errors import ConfigError

MERGE = "tag:yaml.org,2002:merge"  # `<<: *anchor`
SECONDS, WHOLE = "a number of seconds", "a whole number"
_REF = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{")


def compose(text: str | bytes, source: str | None) -> yaml.Node | None:
    """The YAML document as a node tree (None when empty); a syntax error names line and column."""
    check_size(len(text), source)
    try:
        node = yaml.compose(text, Loader=_DepthLimitedLoader)
    except _TooDeep as exc:
        raise ConfigError(
            _too_deep(), source=source, line=exc.mark.line + 1, column=exc.mark.column + 1
        ) from None
    except yaml.MarkedYAMLError as exc:
        raise syntax_error(exc, source) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", source=source) from None
    except RecursionError:
        raise ConfigError(_too_deep(), source=source) from None
    check_depth(node, source)
    return node


# --- bounds: what a small input may cost ------------------------------------------------------

MAX_FILE_BYTES = 10 * 1024 * 1024  # a scenario, event list or settings file
MAX_DEPTH = 64  # nesting of mappings and lists; real files stay under 10


class _TooDeep(Exception):
    def __init__(self, mark: yaml.Mark) -> None:
        self.mark = mark


class _DepthLimitedLoader(yaml.SafeLoader):
    """The safe loader, stopping at the first collection nested deeper than ``MAX_DEPTH``: a
    100-byte document of 5,000 brackets is refused at once, not after composing all of it."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH and self.check_event(
                yaml.SequenceStartEvent, yaml.MappingStartEvent
            ):
                raise _TooDeep(self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _too_deep() -> str:
    return f"nested deeper than {MAX_DEPTH} levels of mappings and lists; flatten the document"


def check_size(size: int, source: str | None) -> None:
    if size > MAX_FILE_BYTES:
        raise ConfigError(
            f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it, or use coupons:, "
            "repeat: or count: to make many events from a few lines",
            source=source,
        )


def check_depth(node: yaml.Node | None, source: str | None) -> None:
    """Refuse a tree nested deeper than ``MAX_DEPTH`` (walked without recursion)."""
    stack = [(node, 1)] if node is not None else []
    seen: set[int] = set()
    while stack:
        current, depth = stack.pop()
        if id(current) in seen or not isinstance(current, yaml.CollectionNode):
            continue
        seen.add(id(current))
        if depth > MAX_DEPTH:
            mark = current.start_mark
            raise ConfigError(
                _too_deep(), source=source, line=mark.line + 1, column=mark.column + 1
            )
        if isinstance(current, yaml.MappingNode):
            stack.extend((n, depth + 1) for pair in current.value for n in pair)
        else:
            stack.extend((n, depth + 1) for n in current.value)


def read_text(path: str, source: str | None = None) -> str:
    """A file's UTF-8 text, read no further than the size limit (``/dev/urandom`` ends soon)."""
    source = source or path
    with open(path, "rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    check_size(len(data), source)
    return data.decode("utf-8")


def expand(text: str, env: Mapping[str, str]) -> str:
    """``${VAR}``, ``${VAR:-default}`` (default when unset or empty) and ``$${`` (a literal ``${``).

    Raises LookupError naming an unset variable, ValueError for a malformed reference.
    """

    def one(m: re.Match[str]) -> str:
        whole, name, default = m.group(0), m.group(1), m.group(2)
        if whole == "$${":
            return "${"
        if name is None:
            raise ValueError(
                "malformed ${...}: write ${NAME} or ${NAME:-default} (NAME: letters, digits, _), "
                "or $${ for a literal ${"
            )
        if default is not None:
            if "${" in default:
                raise ValueError(f"nested ${{...}} in the default of ${{{name}}} is not supported")
            return env.get(name) or default
        if name not in env:
            raise LookupError(
                f"environment variable {name} is not set; export it, or give a default with "
                f"${{{name}:-default}}"
            )
        return env[name]

    return _REF.sub(one, text)


def syntax_error(exc: yaml.MarkedYAMLError, source: str | None) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    message = f"YAML syntax error: {exc.problem or exc.context}"
    if exc.context and exc.problem:
        message += f" ({exc.context}"
        if exc.context_mark is not None:
            message += f" started at line {exc.context_mark.line + 1}"
        message += ")"
    if exc.problem and "'{'" in exc.problem:
        message += '. Inside {...}, quote values that use ${VAR}: secret: "${SECRET}"'
    line = mark.line + 1 if mark else None
    return ConfigError(message, source=source, line=line, column=mark.column + 1 if mark else None)


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a webhook target, without echoing it (it may carry a token)."""
    if not isinstance(url, str) or not url:
        return "expected an http:// or https:// URL, got nothing"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "the URL contains whitespace or control characters; percent-encode them"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - validates the port
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return f"expected an http:// or https:// URL, got scheme {parts.scheme or 'none'!r}"
    if not parts.hostname:
        return "the URL has no host; e.g. http://127.0.0.1:9000/hooks"
    if parts.username is not None or parts.password is not None:
        return (
            "credentials in the URL are not how vendors authenticate; use auth: {type: basic, ...}"
        )
    if parts.fragment:
        return "the URL has a #fragment, which is never sent over HTTP; remove it"
    return None


class YamlReader:
    """Walks a composed YAML tree, converting and checking each value where it stands.

    ``kind`` names the document in messages ("settings", "scenarios").
    """

    def __init__(self, source: str | None, env: Mapping[str, str], kind: str = "settings") -> None:
        self.source, self.env, self.kind = source, env, kind

    def fail(self, node: yaml.Node, path: str, message: str) -> ConfigError:
        mark = node.start_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        return ConfigError(message, source=self.source, line=line, column=column, path=path)

    def mapping(
        self, node: yaml.Node, path: str, what: str
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """``{key: (key node, value node)}``; keys by their text, so a bare ``on`` stays ``on``."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, path, f"expected {what}, got {type_name(node)}")
        seen: dict[str, yaml.Node] = {}
        for key, _ in node.value:
            if key.tag == MERGE:
                continue
            if not isinstance(key, yaml.ScalarNode):
                raise self.fail(key, path, "keys must be plain strings")
            if key.value in seen and seen[key.value].start_mark is not None:
                first = seen[key.value].start_mark.line + 1
                raise self.fail(
                    key, join(path, key.value), f"duplicate key (first at line {first})"
                )
            seen[key.value] = key
        yaml.constructor.SafeConstructor().flatten_mapping(node)  # resolve `<<: *anchor`
        return {key.value: (key, value) for key, value in node.value}

    def known(
        self, items: Mapping[str, tuple[yaml.Node, yaml.Node]], path: str, known: Collection[str]
    ) -> None:
        for name, (key, _) in items.items():
            if name not in known:
                message = f"unknown key {name!r}; known keys: {', '.join(known)}" + suggest(
                    name, known
                )
                raise self.fail(key, join(path, name), message)

    def scalar(self, node: yaml.Node, path: str) -> tuple[Any, bool]:
        """The value, with ``${...}`` expanded in strings, and whether an expansion happened.

        A mapping or list comes back as an empty one: callers only use it to say what they got.
        """
        if not isinstance(node, yaml.ScalarNode):
            return ([] if isinstance(node, yaml.SequenceNode) else {}), False
        try:
            value = yaml.constructor.SafeConstructor().construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise self.fail(node, path, f"cannot read this value: {exc}") from None
        if not isinstance(value, str) or "${" not in value:
            return value, False
        try:
            return expand(value, self.env), True
        except (LookupError, ValueError) as exc:
            raise self.fail(node, path, str(exc.args[0])) from None

    def text(self, node: yaml.Node, path: str, what: str = "a string") -> str:
        """A string value; the error names the type found, never the value (it may be secret)."""
        value, _ = self.scalar(node, path)
        if not isinstance(value, str):
            raise self.fail(node, path, f"expected {what}, got {type_name(node)}")
        return value

    def number(
        self, node: yaml.Node, path: str, *, minimum: float, exclusive=False, what=SECONDS
    ) -> float:
        """A number (``what=WHOLE``: an integer); ``${VAR}`` text is read as YAML would."""
        value, expanded = self.scalar(node, path)
        if expanded:
            value = number_text(value)
        bound = f"{'>' if exclusive else '>='} {minimum:g}"
        types = int if what == WHOLE else int | float
        if isinstance(value, bool) or not isinstance(value, types) or not math.isfinite(value):
            raise self.fail(node, path, f"expected {what} {bound}, got {shape(node, value)}")
        if value < minimum or (exclusive and value == minimum):
            raise self.fail(node, path, f"expected {what} {bound}, got {value:g}")
        return float(value)

    def boolean(self, node: yaml.Node, path: str) -> bool:
        value, expanded = self.scalar(node, path)
        if expanded and isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if not isinstance(value, bool):
            raise self.fail(node, path, f"expected true or false, got {shape(node, value)}")
        return value

    def choice(self, node: yaml.Node, path: str, valid: tuple[str, ...], what: str) -> str:
        value = self.text(node, path, f"one of {', '.join(valid)}")
        if value not in valid:
            message = f"unknown {what} {value!r}; valid: {', '.join(valid)}" + suggest(value, valid)
            raise self.fail(node, path, message)
        return value

    def url(self, node: yaml.Node, path: str) -> str:
        value = self.text(node, path, "an http:// or https:// URL")
        problem = url_problem(value)
        if problem:
            raise self.fail(node, path, problem)
        return value

    def sequence(self, node: yaml.Node, path: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, path, f"expected a list, got {type_name(node)}")
        return node.value

    def safe(self, node: yaml.Node, path: str = "", seen: set[int] | None = None) -> None:
        """Refuse what ``yaml.safe_load`` refuses: any tag beyond plain YAML (``!!python/...``)."""
        seen = set() if seen is None else seen
        if id(node) in seen:  # an alias seen before (anchors may even be recursive)
            return
        seen.add(id(node))
        if node.tag not in yaml.SafeLoader.yaml_constructors and node.tag != MERGE:
            raise self.fail(node, path, f"unsupported tag {node.tag!r}; {self.kind} are plain YAML")
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self.safe(key, path, seen)
                self.safe(value, join(path, str(key.value)), seen)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self.safe(item, f"{path}[{i}]", seen)


def join(path: str, key: str) -> str:
    return f"{path}.{key}" if path and key else path or key


def number_text(text: Any) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def type_name(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    kind = node.tag.rsplit(":", 1)[-1]
    names = {"null": "nothing", "bool": "a boolean", "int": "a number", "float": "a number"}
    names["str"] = "a string"
    return names.get(kind, f"a {kind}")


def shape(node: yaml.Node, value: Any) -> str:
    """What was found, quoting the value: only for values that are never secret."""
    if not isinstance(node, yaml.ScalarNode) or value is None:
        return type_name(node)
    return f"{value!r}"


def suggest(name: str, valid: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f". Did you mean {close[0]!r}?" if close else ""
