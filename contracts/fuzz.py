"""Schema-driven fuzz bodies: schemathesis draws valid bodies from each event type's JSON Schema.

Each event type's schema is bundled into one self-contained document (its relative ``$ref``s to
``common.json`` inlined) and offered to schemathesis as the request body of one operation of a small
OpenAPI 3.1 document per vendor; its Hypothesis strategy then draws bodies across every event type.
The bodies are valid but odd on purpose: unknown keys, empty strings, huge numbers, far dates.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import threading
from collections.abc import Iterator
from functools import cache
from typing import Any

from contracts.failures import CaseSkipped
from emulator.core import catalogue
from emulator.readers.schemas import bundle

# Hypothesis keeps per-process state while it runs a search: one generation at a time.
_GENERATING = threading.Lock()


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
    try:
        import schemathesis
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import seed as hypothesis_seed
    except ImportError:
        raise CaseSkipped(
            "schema fuzzing needs schemathesis and hypothesis: "
            "pip install 'coupon-emulator[contracts]'"
        ) from None

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

    with _GENERATING, _scratch_storage():
        draw()
    return tuple(drawn)


@contextlib.contextmanager
def _scratch_storage() -> Iterator[None]:
    """Hypothesis keeps caches (and, unless told not to, an example database) in ``.hypothesis/``
    under the working directory: the user's, which is not ours to write in. Drawing uses a
    temporary folder instead, and the previous setting comes back after."""
    from hypothesis import configuration

    previous = configuration.storage_directory(intent_to_write=False).home_directory
    with tempfile.TemporaryDirectory(prefix="coupon-emulator-hypothesis-") as scratch:
        configuration.set_hypothesis_home_dir(scratch)
        try:
            yield
        finally:
            configuration.set_hypothesis_home_dir(previous)
