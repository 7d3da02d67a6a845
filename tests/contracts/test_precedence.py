"""Each vendor's precedence steps: the later one carries the higher order key and another status."""

from __future__ import annotations

import pytest

from contracts import bodies, cases
from emulator.core import catalogue

SLUGS = list(catalogue.VENDORS)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_precedence_case_exists_exactly_for_vendors_with_an_order_key(slug):
    vendor = catalogue.vendor(slug)
    names = {case.name for case in cases.build([slug])}
    assert ("precedence-out-of-order" in names) == (vendor.precedence is not None)


@pytest.mark.parametrize("slug", [s for s in SLUGS if catalogue.vendor(s).precedence is not None])
def test_the_later_step_wins_by_order_and_shows_in_the_status(slug):
    vendor = catalogue.vendor(slug)
    steps = vendor.precedence
    assert {name for name, _ in steps} <= {et.name for et in vendor.event_types}
    old, new = bodies.lifecycle(slug, steps, seed=3)
    (older,), (newer,) = vendor.observe(old), vendor.observe(new)
    assert older.coupon_id == newer.coupon_id is not None
    assert older.order is not None
    assert newer.order is not None
    assert newer.order > older.order
    assert newer.status != older.status  # the probe tells which one the consumer kept
    assert newer.key != older.key
