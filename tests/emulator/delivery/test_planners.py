"""An event list planned on several processes (``emulator.delivery.planners``) is the plan one
process makes, request for request and byte for byte, whatever the number of processes; an event
list's blocks have streams of their own and no batch spans two; a planner's error reaches the
reader as itself; stopping early ends the planners."""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime

import pytest

from emulator.core.errors import UsageError
from emulator.core.plan import BLOCK, Parts, block_random, simple_parts, simple_plan
from emulator.delivery import planners
from emulator.delivery.envelopes import envelopes
from emulator.readers import config
from tests.children import no_children_left

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="planners are forked on Linux")

START = datetime(2026, 1, 15, tzinfo=UTC)
ITEMS = [
    ("fabric", "offers:coupon:created", 2345, 0.5),
    ("punchh", "coupon-redemption", 700, 0.1),
    ("komo", "CouponIssued", 420, 1.0),
    ("fabric", "offers:coupon:deleted", 1500, 0.0),
]


def settings(batch_size: int = 30):
    return config.parse(
        {
            "vendors": {
                "fabric": {"target": "http://127.0.0.1:9/f", "batch_size": batch_size},
                "punchh": {"target": "http://127.0.0.1:9/p"},
                "komo": {"target": "http://127.0.0.1:9/k"},
            }
        },
        source="test",
    )


@pytest.mark.parametrize("processes", [1, 2, 3, 7])
@pytest.mark.parametrize("batch_size", [1, 30, 100])
def test_the_planners_make_the_requests_one_process_makes(processes, batch_size):
    s = settings(batch_size)
    here = list(envelopes(simple_plan(ITEMS, 4, START), s, 10.0))
    got = planners.deliveries(simple_parts(ITEMS, 4, START), s, 10.0, processes)
    there = [next(got)]
    assert no_children_left() == (processes == 1)  # the planners are processes of their own
    there += got
    assert no_children_left()
    assert len(there) == len(here) > 100
    assert there == here  # every field: keys, bytes, due times, labels, events per request


def test_a_share_planned_on_several_processes_is_that_share():
    s = settings()
    here = list(envelopes(simple_plan(ITEMS, 4, START, share=(1, 3)), s, 0.0))
    parts = simple_parts(ITEMS, 4, START, share=(1, 3))
    assert list(planners.deliveries(parts, s, 0.0, 2)) == here


def test_no_batch_holds_events_of_two_blocks():
    items = [("fabric", "offers:coupon:created", 2500, 0.0)]
    sizes = [d.events for d in envelopes(simple_plan(items, 1, START), settings(300), 0.0)]
    assert sizes == [300, 300, 300, 100, 300, 300, 300, 100, 300, 200]


def test_a_list_of_one_block_draws_from_the_seed_and_longer_lists_begin_the_same():
    """Lists of up to BLOCK events plan as before blocks existed (one stream, the seed's), and
    a longer list's first block does not depend on how long the list is."""
    assert block_random(9, 0).random() == random.Random(9).random()
    assert block_random(9, 1).random() != block_random(9, 2).random()
    short = list(simple_plan([("komo", "CouponIssued", BLOCK, 0.0)], 9, START))
    long = list(simple_plan([("komo", "CouponIssued", BLOCK + 10, 0.0)], 9, START))
    assert [e.body for e in long[:BLOCK]] == [e.body for e in short]
    assert long[BLOCK - 1].block_end
    assert not long[BLOCK - 2].block_end


def test_a_planners_error_reaches_the_reader_as_itself():
    inner = simple_parts(ITEMS, 4, START)

    def plan(part):
        for number, block in enumerate(inner.plan(part)):
            if part[0] == 1 and number == 1:
                raise UsageError("planner 1 cannot plan its second block")
            yield block

    with pytest.raises(UsageError, match="planner 1 cannot plan its second block"):
        list(planners.deliveries(Parts(inner.blocks, plan), settings(), 0.0, 2))
    assert no_children_left()


def test_closing_early_ends_the_planners():
    parts = simple_parts([("komo", "CouponIssued", 200_000, 0.0)], 1, START)
    got = planners.deliveries(parts, settings(), 0.0, 3)
    assert next(got).coupon_key == "komo:0"
    got.close()
    assert no_children_left()
