"""Body mutations, one implementation: scenario injection and the contract suite make the same
variants, and each variant keeps (or breaks on purpose) its vendor's schema, for every event type."""

from __future__ import annotations

import json
import random

import pytest

from contracts import bodies
from contracts.consumer import Consumer
from emulator.core import catalogue, inject, lifecycle, mutations
from emulator.core.scenario import plan
from emulator.core.vendor import encode
from emulator.readers import schemas
from emulator.readers.scenario_checks import applies
from emulator.readers.scenario_reader import parse

TYPES = [pytest.param(et, id=f"{et.vendor}-{et.name}") for et in catalogue.event_types()]
URL = "http://127.0.0.1:9/hooks/"


def planned(et, kind: str, seed: int):
    """The events a scenario plans for one coupon living up to ``et``, with ``kind`` injected
    into that last event only (or nothing injected)."""
    steps = [json.dumps(e) for e in path_to(et)]
    if kind:
        steps[-1] = f"{{event: {steps[-1]}, inject: {{{kind}: 1}}}}"
    text = f"flows: [{{vendor: {et.vendor}, steps: [{', '.join(steps)}]}}]"
    return list(plan(parse(text, source="t.yaml", env={}).scenario, seed=seed))[len(steps) - 1 :]


def path_to(et) -> list[str]:
    """The shortest life of a coupon, by the vendor's state machine, that ends with ``et``."""
    machine = lifecycle.machine(et.vendor)
    paths = [(machine.initial, [])]
    while paths:
        state, events = paths.pop(0)
        for event in machine.allowed(state):
            if event == et.name:
                return [*events, event]
            paths.append((machine.next(state, event), [*events, event]))
    raise AssertionError(f"no life ends with {et.name}")


# --- one implementation -------------------------------------------------------------------------


@pytest.mark.parametrize("et", TYPES)
def test_scenario_injection_and_the_contract_suite_make_the_same_variants(et):
    (plain,) = planned(et, "", 7)
    body = plain.body
    for kind, variant in (
        ("omit_optional", bodies.minimal(et, body)),
        ("nullable_null", bodies.nulls(et, body)),
        ("unknown_fields", bodies.with_unknown_fields(body)),
    ):
        if not applies(et.vendor, kind):
            continue  # the reader refuses an edge case the vendor's schemas rule out
        (injected,) = planned(et, kind, 7)
        assert injected.label == kind
        assert injected.body == variant, kind


@pytest.mark.parametrize("vendor", list(catalogue.VENDORS))
def test_both_sides_relabel_as_the_one_unknown_type_the_vendor_declares(vendor):
    v = catalogue.vendor(vendor)
    et = v.event_types[0]
    (real, unknown) = planned(et, "unknown_event_type", 3)
    assert unknown.event_type == v.unknown_type
    assert unknown.event_type not in {t.name for t in v.event_types}
    # The plan draws the copy's fresh ids from its edge-case stream, the contract suite from its
    # case seed: given the same stream, the same function gives the same body.
    name, expected = inject.unknown_event_type(v, real.body, random.Random(11))
    assert name == v.unknown_type
    assert expected == bodies.with_unknown_type(vendor, real.body, 11)
    assert {o.event_type for o in v.observe(unknown.body)} == {None}


@pytest.mark.parametrize("vendor", list(catalogue.VENDORS))
def test_malformed_bytes_are_one_function_for_both_sides(vendor):
    body = catalogue.sample(vendor, catalogue.vendor(vendor).event_types[0].name, seed=2)
    wire = encode(body)
    assert bodies.malformed(body) == mutations.malformed(wire, "cut") == wire[: len(wire) // 2]
    for how in mutations.MALFORMED_WAYS:
        with pytest.raises(json.JSONDecodeError):
            json.loads(mutations.malformed(wire, how))
    with pytest.raises(ValueError, match="valid: cut, trailing-comma, comment"):
        mutations.malformed(wire, "truncate")


# --- catalogue-wide: valid where it must be, broken where it means to be -----------------------


@pytest.mark.parametrize("et", TYPES)
@pytest.mark.parametrize("mutation", [mutations.omit_optional, mutations.null_nullable])
def test_schema_read_mutations_keep_the_body_valid_and_identified(et, mutation):
    vendor = catalogue.vendor(et.vendor)
    for seed in (1, 2, 3):
        body = catalogue.sample(et.vendor, et.name, seed=seed)
        before = json.dumps(body)
        out = mutation(body, schemas.validator(et.schema_path), vendor)
        assert json.dumps(body) == before  # the argument is left alone
        assert schemas.errors(et.schema_path, out) == []
        assert vendor.observe(out) == vendor.observe(body)


@pytest.mark.parametrize("et", TYPES)
def test_unknown_fields_reach_every_object_and_the_reference_consumer_applies_the_event(et):
    body = catalogue.sample(et.vendor, et.name, seed=5)
    grown = mutations.add_unknown_fields(body)
    assert mutations.UNKNOWN_FIELD in grown
    assert mutations.UNKNOWN_FIELD not in json.dumps(body)
    answer = Consumer().handle(et.vendor, "POST", URL + et.vendor, {}, encode(grown))
    assert answer.status == 200
    assert answer.payload["applied"] == len(catalogue.vendor(et.vendor).observe(body))


@pytest.mark.parametrize("et", TYPES)
def test_an_unknown_type_breaks_the_schema_and_is_acknowledged_and_ignored(et):
    vendor = catalogue.vendor(et.vendor)
    body = catalogue.sample(et.vendor, et.name, seed=6)
    name, other = mutations.unknown_type(vendor, body, random.Random(6))
    assert name == vendor.unknown_type
    assert {o.event_type for o in vendor.observe(other)} == {None}
    assert body == catalogue.sample(et.vendor, et.name, seed=6)  # the original is left alone
    consumer = Consumer()
    answer = consumer.handle(et.vendor, "POST", URL + et.vendor, {}, encode(other))
    assert answer.status == 200
    assert answer.payload["applied"] == 0
    assert answer.payload["ignored"] >= 1
    # Fresh ids where the vendor dedupes on them: the real event still counts as new after it.
    real = consumer.handle(et.vendor, "POST", URL + et.vendor, {}, encode(body))
    assert real.payload["applied"] == len(vendor.observe(body))


@pytest.mark.parametrize("et", TYPES)
def test_malformed_bytes_are_refused_by_the_reference_consumer(et):
    wire = encode(catalogue.sample(et.vendor, et.name, seed=8))
    for how in mutations.MALFORMED_WAYS:
        answer = Consumer().handle(
            et.vendor, "POST", URL + et.vendor, {}, mutations.malformed(wire, how)
        )
        assert answer.status == 400, how


@pytest.mark.parametrize("vendor", list(catalogue.VENDORS))
def test_the_reader_knows_from_the_schemas_which_mutations_apply(vendor):
    for kind in ("omit_optional", "nullable_null"):
        change = any(
            bodies.minimal(et, bodies.full(et, 1)) != bodies.full(et, 1)
            if kind == "omit_optional"
            else bodies.nulls(et, bodies.full(et, 1)) != bodies.full(et, 1)
            for et in catalogue.event_types(vendor)
        )
        assert applies(vendor, kind) == change
