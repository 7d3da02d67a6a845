"""The vendor resources that payload links point at, served as each vendor declares them.

Each vendor lists its resources (``Vendor.resources``); this module routes ``/vendors/<slug>/<path>``
to them and gives their ``render`` the vendor's events that have happened (due, or attempted), in
plan order, from the outbox. Bodies that no longer match their event type's schema (broken on
purpose with overrides) are left out.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any

from flask import Blueprint, Response

from emulator.core import catalogue
from emulator.core.errors import ResourceGone
from emulator.core.resources import JSON, ResourceRoute
from emulator.core.vendor import Vendor
from emulator.web.problems import Problem
from emulator.web.state import current

PREFIX = "/vendors"
# A `$ref` into a vendor's schema files, as a route's schema may hold: schemas/<slug>/<file>#/$defs/x
_SCHEMA_REF = re.compile(r"^schemas/([^/#]+)/([^#]+)#/\$defs/(.+)$")


def path(slug: str, route: ResourceRoute) -> str:
    """The route's path in the OpenAPI document: ``/vendors/<slug>/<path>``."""
    return f"{PREFIX}/{slug}/{route.path}"


def blueprint() -> Blueprint:
    bp = Blueprint("vendor_resources", __name__, url_prefix=PREFIX)
    for v in catalogue.VENDORS.values():
        for index, route in enumerate(v.resources):
            rule = "/" + v.slug + "/" + re.sub(r"\{(\w+)\}", r"<\1>", route.path)
            bp.add_url_rule(rule, f"{v.slug}_{index}", _view(v, route), methods=["GET"])
    return bp


def _view(vendor: Vendor, route: ResourceRoute) -> Any:
    def view(**params: str) -> Any:
        try:
            found = route.render(params, lambda needle, prefix: _events(vendor, needle, prefix))
        except ResourceGone as exc:
            raise Problem(404, "not-found", exc.detail) from None
        if route.media_type == JSON:
            return found
        return Response(found, mimetype=route.media_type)

    return view


def _events(vendor: Vendor, needle: str, type_prefix: str) -> Iterator[tuple[str, dict]]:
    """(event type, body) of the vendor's happened events containing ``needle``, schema-valid."""
    from emulator.readers import schemas

    for raw in current().queries.happened(vendor.slug, needle, time.time(), type_prefix):
        try:
            body = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(body, Mapping):
            continue
        observed = vendor.observe(body)
        event_type = observed[0].event_type if observed else None
        if event_type is None:
            continue
        et = catalogue.event_type(vendor.slug, event_type)
        if not schemas.errors(et.schema_path, body):
            yield event_type, body


# The OpenAPI side: the routes' schemas, with their `$ref`s into schema files made components


def components() -> dict[str, Any]:
    """The shared definitions route schemas refer to, as OpenAPI components ``<slug>.<name>``.

    Every ``$defs`` entry of each schema file a route refers to, so the references inside them
    resolve as well.
    """
    from emulator.readers import schemas

    files = sorted({(m[1], m[2]) for m in map(_SCHEMA_REF.match, _refs()) if m is not None})
    found: dict[str, Any] = {}
    for slug, file in files:
        defs = schemas.load(f"schemas/{slug}/{file}")["$defs"]
        found.update({f"{slug}.{name}": _rebase(value, slug) for name, value in defs.items()})
    return found


def schema(route: ResourceRoute) -> Any:
    """The route's answer schema for the OpenAPI document (``{}`` when it has none)."""
    return _rebase(route.schema, None) if route.schema is not None else {}


def _refs() -> Iterator[str]:
    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    for v in catalogue.VENDORS.values():
        for route in v.resources:
            yield from walk(route.schema)


def _rebase(node: Any, slug: str | None) -> Any:
    """``node`` with its schema-file ``$ref``s (and, inside ``slug``'s files, ``#/$defs/`` ones)
    pointing at the components."""
    if isinstance(node, Mapping):
        return {
            k: _component_ref(v, slug) if k == "$ref" else _rebase(v, slug) for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(v, slug) for v in node]
    return node


def _component_ref(ref: str, slug: str | None) -> str:
    match = _SCHEMA_REF.match(ref)
    if match is not None:
        return f"#/components/schemas/{match[1]}.{match[3]}"
    if slug is not None and ref.startswith("#/$defs/"):
        return f"#/components/schemas/{slug}.{ref.removeprefix('#/$defs/')}"
    return ref
