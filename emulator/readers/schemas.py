"""Load the JSON Schemas (2020-12) of every event type and validate bodies against them.

Each event type's schema is a file in its vendor's package, ``emulator/vendors/<slug>/schemas/``;
shared parts of a vendor live in that folder's ``common.json`` and are reached with relative ``$ref``s, so editors resolve them from disk
as well. Formats are checked (``uuid``, ``date-time``, ``uri``, ``email``).
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

# Schemas are registered under this base so that relative `$ref`s resolve; `.invalid` never resolves
# on a network (RFC 2606), so nothing is ever fetched.
BASE_URI = "https://coupon-emulator.invalid/schemas/"

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

FORMAT_CHECKER = FormatChecker(formats=())
for _name, _check in Draft202012Validator.FORMAT_CHECKER.checkers.items():
    FORMAT_CHECKER.checkers[_name] = _check


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    datetime.fromisoformat(value.replace("z", "Z").replace("t", "T"))
    return True


@FORMAT_CHECKER.checks("uri")
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.path)) and " " not in value


def folder(slug: str) -> Any:
    """The ``schemas`` folder of vendor ``slug``'s package (wherever that package lives)."""
    from emulator.core import catalogue

    module = importlib.import_module(type(catalogue.vendor(slug)).__module__)
    package = module.__name__ if hasattr(module, "__path__") else module.__name__.rpartition(".")[0]
    return resources.files(package) / "schemas"


def file_of(schema_path: str) -> Any:
    """The file behind ``schema_path`` (``schemas/<vendor>/<file>``, as ``EventType`` names it)."""
    slug, _, name = schema_path.removeprefix("schemas/").partition("/")
    return folder(slug) / name


def _files() -> Iterator[tuple[str, Any]]:
    from emulator.core import catalogue

    for slug in catalogue.VENDORS:
        for file in sorted(folder(slug).iterdir(), key=lambda p: p.name):
            if file.name.endswith(".json"):
                yield f"{slug}/{file.name}", file


@cache
def registry() -> Registry:
    """Every schema file, registered under ``BASE_URI`` + ``<vendor>/<file>``."""
    pairs = []
    for rel, file in _files():
        contents = json.loads(file.read_text(encoding="utf-8"))
        pairs.append(
            (BASE_URI + rel, Resource.from_contents(contents, default_specification=DRAFT202012))
        )
    return Registry().with_resources(pairs)


def load(schema_path: str) -> dict[str, Any]:
    """The schema at ``schemas/<vendor>/<file>`` (as ``EventType.schema_path`` names it)."""
    rel = schema_path.removeprefix("schemas/")
    return registry().contents(BASE_URI + rel)


@cache
def validator(schema_path: str) -> Draft202012Validator:
    """A compiled validator for one schema, formats checked, ``$ref``s resolved locally."""
    load(schema_path)  # fail early, with the registry's error, on an unknown path
    rel = schema_path.removeprefix("schemas/")
    return Draft202012Validator(
        {"$ref": BASE_URI + rel},
        registry=registry(),
        format_checker=FORMAT_CHECKER,
    )


def of(vendor: str, event_type: str) -> Draft202012Validator:
    """The validator of one catalogue event type: what a scenario's plan is handed
    (``Scenario.schemas``) for the edge cases that read the schema."""
    from emulator.core import catalogue

    return validator(catalogue.event_type(vendor, event_type).schema_path)


def errors(schema_path: str, body: Mapping[str, Any]) -> list[str]:
    """Every way ``body`` breaks its schema, as ``key.path: message`` lines; empty when valid."""
    return _lines(validator(schema_path), body)


def errors_in(schema: Mapping[str, Any], body: Any) -> list[str]:
    """Every way ``body`` breaks an inline ``schema`` (a vendor resource's), as ``errors`` lists
    them; its ``$ref``s may name schema files as ``schemas/<vendor>/<file>#...``."""
    root = BASE_URI.removesuffix("schemas/")  # where "schemas/<vendor>/<file>" resolves
    inline = Draft202012Validator(
        {"$id": root + "inline.json", **schema}, registry=registry(), format_checker=FORMAT_CHECKER
    )
    return _lines(inline, body)


def _lines(checker: Draft202012Validator, body: Any) -> list[str]:
    found = sorted(checker.iter_errors(body), key=lambda e: list(map(str, e.path)))
    return [f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in found]


_STRUCTURE = ("$schema", "$id", "$defs")  # meaningless once every ``$ref`` is inlined
_ANNOTATIONS = ("title", "description")
_NAMED = ("properties", "patternProperties", "dependentSchemas")


def bundle(schema_path: str, *, annotations: bool = False) -> dict[str, Any]:
    """The schema at ``schema_path`` as one self-contained document: every ``$ref`` inlined
    (``$ref`` beside other keywords becomes an ``allOf``, as 2020-12 reads it). ``title`` and
    ``description`` are dropped unless ``annotations`` (documents for people keep them)."""
    uri = BASE_URI + schema_path.removeprefix("schemas/")
    resolver = registry().resolver(base_uri=uri)
    dropped = (*_STRUCTURE, "$ref", *(() if annotations else _ANNOTATIONS))

    def inline(node: Any, resolver: Any, names: bool = False) -> Any:
        # ``names``: a mapping of property names to schemas, whose keys are never keywords.
        if isinstance(node, list):
            return [inline(item, resolver) for item in node]
        if not isinstance(node, Mapping):
            return node
        if names:
            return {k: inline(v, resolver) for k, v in node.items()}
        out = {
            k: inline(v, resolver, names=k in _NAMED) for k, v in node.items() if k not in dropped
        }
        if "$ref" not in node:
            return out
        resolved = resolver.lookup(node["$ref"])
        target = inline(resolved.contents, resolved.resolver)
        return {"allOf": [target, out]} if out else target

    resolved = resolver.lookup(uri)
    return inline(resolved.contents, resolved.resolver)
