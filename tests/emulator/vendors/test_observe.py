"""Each vendor's ``observe``: the consumer's reading of a body agrees with the builders, never fails."""

from __future__ import annotations

import random

import pytest

from emulator.core import catalogue
from emulator.core.vendor import Observation, dig

TYPES = [pytest.param(et, id=f"{et.vendor}-{et.name}") for et in catalogue.event_types()]

# Where DESIGN.md's probe protocol says each vendor's status lives.
STATUS = {
    "komo": ("event",),
    "fabric": ("events", 0, "data", "status"),
    "rebilly": ("_embedded", "coupon", "status"),
    "punchh": ("payload", "status"),
}


@pytest.mark.parametrize("et", TYPES)
def test_observe_reads_the_builders_body(et):
    vendor = catalogue.vendor(et.vendor)
    body = catalogue.sample(et.vendor, et.name, seed=21)
    seen = vendor.observe(body)
    assert tuple(o.key for o in seen) == vendor.dedupe_keys(body)
    assert {o.event_type for o in seen} == {et.name}
    assert {o.status for o in seen} == {dig(body, *STATUS[et.vendor])}
    assert all(o.coupon_id for o in seen)
    if et.vendor == "rebilly":
        assert seen[0].revision == seen[0].order == body["_embedded"]["coupon"]["revision"]
    elif et.vendor == "punchh":
        assert seen[0].order == body["timestamp"]
        assert seen[0].revision is None
    else:
        assert seen[0].order is None
        assert seen[0].revision is None


@pytest.mark.parametrize("et", TYPES)
def test_an_unknown_type_keeps_its_key_but_has_no_event_type(et):
    vendor = catalogue.vendor(et.vendor)
    body = catalogue.sample(et.vendor, et.name, seed=4)
    relabelled = vendor.observe(vendor.with_unknown_type(body, random.Random(4)))
    assert relabelled
    assert all(o.event_type is None for o in relabelled)
    assert body == catalogue.sample(et.vendor, et.name, seed=4)  # the original is left alone


def test_rebilly_and_punchh_order_events_of_one_coupon():
    from contracts.bodies import lifecycle

    rebilly = catalogue.vendor("rebilly")
    issued, modified = lifecycle("rebilly", [("coupon-issued", 0), ("coupon-modified", 5)], 3)
    assert rebilly.observe(issued)[0].order < rebilly.observe(modified)[0].order
    punchh = catalogue.vendor("punchh")
    first, later = lifecycle("punchh", [("coupon-issuance-discount", 0), ("coupon-void", 90)], 3)
    assert punchh.observe(later)[0].order - punchh.observe(first)[0].order == 90
    in_ms = {**later, "timestamp": later["timestamp"] * 1000}
    assert punchh.observe(in_ms)[0].order == punchh.observe(later)[0].order


@pytest.mark.parametrize("slug", list(catalogue.VENDORS))
@pytest.mark.parametrize(
    "body",
    [{}, {"events": "x", "payload": [], "_embedded": 3}, {"events": [1, None, {"data": []}]},
     {"event": 5, "id": {"a": 1}, "timestamp": True, "content_id": 7, "eventType": None}],
)  # fmt: skip
def test_observe_never_raises_on_odd_bodies(slug, body):
    for obs in catalogue.vendor(slug).observe(body):
        assert isinstance(obs, Observation)
        assert obs.event_type is None or obs.key is None
        assert obs.key is None or isinstance(obs.key, str)
