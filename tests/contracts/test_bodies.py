"""Body variants derived from each event type's schema, and the schema-driven fuzz bodies."""

from __future__ import annotations

import copy
import json

import pytest

from contracts import bodies, fuzz
from emulator.core import catalogue
from emulator.readers import schemas

TYPES = [pytest.param(et, id=f"{et.vendor}-{et.name}") for et in catalogue.event_types()]


def paths(node, prefix=()):
    """Every key path of the objects in ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*prefix, key)
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from paths(item, (*prefix, i))


def without(body, path):
    out = copy.deepcopy(body)
    node = out
    for step in path[:-1]:
        node = node[step]
    del node[path[-1]]
    return out


@pytest.mark.parametrize("et", TYPES)
def test_minimal_keeps_only_what_the_schema_requires_and_what_identifies_the_event(et):
    vendor = catalogue.vendor(et.vendor)
    full = bodies.full(et, 3)
    small = bodies.minimal(et, full)
    assert schemas.errors(et.schema_path, small) == []
    assert vendor.observe(small) == vendor.observe(full)
    for path in paths(small):  # nothing else can go: each removal breaks the schema or the identity
        reduced = without(small, path)
        assert schemas.errors(et.schema_path, reduced) or vendor.observe(reduced) != vendor.observe(
            full
        ), path
    assert set(paths(small)) <= set(paths(full))


@pytest.mark.parametrize("et", TYPES)
def test_nulls_sets_every_nullable_field_null(et):
    vendor = catalogue.vendor(et.vendor)
    full = bodies.full(et, 4)
    nulled = bodies.nulls(et, full)
    assert schemas.errors(et.schema_path, nulled) == []
    assert vendor.observe(nulled) == vendor.observe(full)
    for path in paths(nulled):
        node = nulled
        for step in path:
            node = node[step]
        if node is None:
            continue
        trial = copy.deepcopy(nulled)
        parent = trial
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = None
        assert schemas.errors(et.schema_path, trial) or vendor.observe(trial) != vendor.observe(
            full
        ), path


def test_the_variants_differ_where_the_schemas_allow_it():
    rebilly = catalogue.event_type("rebilly", "coupon-redeemed")
    full = bodies.full(rebilly, 1)
    small = bodies.minimal(rebilly, full)
    assert "customer" not in small["_embedded"]
    assert "_links" not in small
    assert small["_embedded"]["coupon"]["revision"] == full["_embedded"]["coupon"]["revision"]
    punchh = catalogue.event_type("punchh", "coupon-issuance-discount")
    nulled = bodies.nulls(punchh, bodies.full(punchh, 1))
    assert nulled["payload"]["user"]["first_name"] is None
    assert nulled["payload"]["status"] == "issued"


@pytest.mark.parametrize("et", TYPES)
def test_unknown_fields_go_into_every_object(et):
    full = bodies.full(et, 5)
    grown = bodies.with_unknown_fields(full)
    objects = [p for p in paths(grown) if p[-1] == bodies.UNKNOWN_FIELD]
    containers = {p[:-1] for p in paths(full)} | {()}
    assert {p[:-1] for p in objects} >= {c for c in containers if isinstance(_at(full, c), dict)}
    assert catalogue.vendor(et.vendor).observe(grown) == catalogue.vendor(et.vendor).observe(full)
    assert bodies.UNKNOWN_FIELD not in json.dumps(full)


def _at(body, path):
    for step in path:
        body = body[step]
    return body


@pytest.mark.parametrize("vendor", list(catalogue.VENDORS))
def test_fuzz_bodies_are_valid_for_one_of_the_vendors_types(vendor):
    drawn = fuzz.bodies(vendor, 6, 99)
    assert len(drawn) == 6
    assert len(set(drawn)) > 1
    for raw in drawn:
        body = json.loads(raw)
        valid = [
            et.name
            for et in catalogue.event_types(vendor)
            if not schemas.errors(et.schema_path, body)
        ]
        assert valid, raw[:200]


def test_fuzz_bodies_repeat_per_seed():
    drawn = fuzz.bodies("rebilly", 6, 99)
    assert fuzz.bodies.__wrapped__("rebilly", 6, 99) == drawn
    assert fuzz.bodies.__wrapped__("rebilly", 6, 100) != drawn


@pytest.mark.parametrize("et", TYPES[::5])
def test_a_bundled_schema_judges_like_the_registry(et):
    bundled = fuzz.bundle(et.schema_path)
    assert "$ref" not in json.dumps(bundled)
    from jsonschema import Draft202012Validator

    check = Draft202012Validator(bundled, format_checker=schemas.FORMAT_CHECKER)
    full = bodies.full(et, 2)
    assert check.is_valid(full)
    broken = {**full, **{k: 12345 for k in list(full)[:2]}}
    assert check.is_valid(broken) == (schemas.errors(et.schema_path, broken) == [])
