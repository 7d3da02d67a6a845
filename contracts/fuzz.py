"""Schema-driven fuzz bodies: schemathesis draws valid bodies from each event type's JSON Schema.

Each event type's schema is bundled into one self-contained document (its relative ``$ref``s to
``common.json`` inlined) and offered to schemathesis as the request body of one operation of a small
OpenAPI 3.1 document per vendor; its Hypothesis strategy then draws bodies across every event type.
The bodies are valid but odd on purpose: unknown keys, empty strings, huge numbers, far dates.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from functools import cache
from typing import Any

# Hypothesis keeps per-process state while it runs a search: one generation at a time.
from emulator.core import catalogue
from emulator.readers import schemas

_GENERATING = threading.Lock()
_DROPPED = ("$schema", "$id", "$defs", "title", "description")
_NAMED = ("properties", "patternProperties", "dependentSchemas")


def bundle(schema_path: str) -> dict[str, Any]:
    """The schema at ``schema_path`` with every ``$ref`` inlined (``$ref`` beside other keywords
    becomes an ``allOf``, as 2020-12 reads it); annotations are dropped."""
    uri = schemas.BASE_URI + schema_path.removeprefix("schemas/")
    resolver = schemas.registry().resolver(base_uri=uri)

    def inline(node: Any, resolver: Any, names: bool = False) -> Any:
        # ``names``: a mapping of property names to schemas, whose keys are never keywords.
        if isinstance(node, list):
            return [inline(item, resolver) for item in node]
        if not isinstance(node, Mapping):
            return node
        if names:
            return {k: inline(v, resolver) for k, v in node.items()}
        out = {
            k: inline(v, resolver, names=k in _NAMED)
            for k, v in node.items()
            if k not in (*_DROPPED, "$ref")
        }
        if "$ref" not in node:
            return out
        resolved = resolver.lookup(node["$ref"])
        target = inline(resolved.contents, resolved.resolver)
        return {"allOf": [target, out]} if out else target

    resolved = resolver.lookup(uri)
    return inline(resolved.contents, resolved.resolver)


@cache
def _document(vendor: str) -> str:
    paths = {
        f"/{index}": {
            "post": {
                "operationId": et.name,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": bundle(et.schema_path)}},
                },
                "responses": {"200": {"description": "acknowledged"}},
            }
        }
        for index, et in enumerate(catalogue.event_types(vendor))
    }
    document = {"openapi": "3.1.0", "info": {"title": vendor, "version": "1"}, "paths": paths}
    return json.dumps(document)


@cache
def bodies(vendor: str, count: int, seed: int) -> tuple[bytes, ...]:
    """``count`` valid bodies across ``vendor``'s event types, as wire bytes; the same for the
    same seed. Bodies whose strings cannot be sent as UTF-8 (lone surrogates) are skipped."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    schema = schemathesis.openapi.from_dict(json.loads(_document(vendor)))
    drawn: list[bytes] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=count * 2,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(schema.as_strategy())
    def draw(case: Any) -> None:
        if len(drawn) >= count or not isinstance(case.body, dict):
            return
        try:
            drawn.append(json.dumps(case.body, ensure_ascii=False).encode("utf-8"))
        except UnicodeEncodeError:
            return

    with _GENERATING:
        draw()
    return tuple(drawn)
