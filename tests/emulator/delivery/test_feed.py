"""The plan made in a child process (``emulator.delivery.feed``) is the plan made here: the same
deliveries in the same chunks with the same running digests; its errors reach the parent as the
same exceptions; stopping early ends the child."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pytest

from emulator.core.errors import UsageError
from emulator.core.plan import simple_plan
from emulator.delivery import feed
from emulator.delivery.envelopes import chunks, digested, envelopes
from emulator.readers import config
from tests.children import no_children_left

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the child is forked on Linux")

START = datetime(2026, 1, 15, tzinfo=UTC)
ITEMS = [
    ("punchh", "coupon-issuance-unlock", 700, 0.5),
    ("fabric", "offers:coupon:created", 950, 0.0),
    ("komo", "CouponIssued", 300, 1.0),
]


def settings():
    return config.parse(
        {
            "vendors": {
                "punchh": {"target": "http://127.0.0.1:9/p"},
                "fabric": {"target": "http://127.0.0.1:9/f", "batch_size": 25},
                "komo": {"target": "http://127.0.0.1:9/k"},
            }
        },
        source="test",
    )


def deliveries(items=ITEMS):
    s = settings()
    return envelopes(simple_plan(items, 7, START), s, START.timestamp())


def test_the_child_plans_the_same_chunks_and_digests_as_this_process():
    here = [(list(chunk), digest) for chunk, digest in digested(chunks(deliveries()))]
    planner = feed.Feed(deliveries())
    try:
        there = list(planner)
    finally:
        planner.close()
    assert len(here) > 2  # several chunks: the running digest is carried across them
    assert [len(c) for c, _ in there] == [len(c) for c, _ in here]
    assert [digest for _, digest in there] == [digest for _, digest in here]
    assert [c for c, _ in there] == [c for c, _ in here]


def raised_here(items, s) -> UsageError:
    with pytest.raises(UsageError) as caught:
        list(envelopes(simple_plan(items, 7, START), s, 0.0))
    return caught.value


def raised_there(items, s) -> BaseException:
    planner = feed.Feed(envelopes(simple_plan(items, 7, START), s, 0.0))
    try:
        list(planner)
    except Exception as exc:
        return exc
    finally:
        planner.close()
    raise AssertionError("the child planned without the error")


@pytest.mark.parametrize(
    "event", ["coupon-issued", "coupon-created"], ids=["no-target", "unknown-type"]
)
def test_an_error_in_the_child_is_raised_here_with_its_message_and_kind(event):
    """A UsageError (exit 2, one clear line) stays one; an error class that cannot travel as
    itself (it needs its own arguments) travels as the nearest class that carries the message."""
    s = config.parse({"vendors": {"komo": {"target": "http://127.0.0.1:9/k"}}}, source="test")
    items = [("komo", "CouponIssued", 3, 0.0), ("rebilly", event, 2, 0.0)]
    expected = raised_here(items, s)
    assert "rebilly" in str(expected)
    got = raised_there(items, s)
    assert isinstance(got, UsageError)
    assert str(got) == str(expected)


def test_closing_early_ends_the_child():
    planner = feed.Feed(deliveries([("komo", "CouponIssued", 200_000, 0.0)]))
    chunk, _ = next(iter(planner))
    assert len(chunk) > 0
    assert not no_children_left()
    planner.close()
    assert no_children_left()  # ended and reaped


def test_a_chunk_of_big_bodies_closes_at_about_a_mebibyte():
    """Fabric batches are big: a chunk of them closes by bytes, not only by count, so the first
    request does not wait for 50,000 events to be planned."""
    from emulator.delivery.envelopes import CHUNK_BYTES, ENQUEUE_CHUNK
    from emulator.delivery.records import NewDelivery

    big = [NewDelivery("fabric", "t", f"k{i}", (f"{i}",), b"x" * 40_000, 0.0) for i in range(300)]
    sizes = [len(c) for c in chunks(big)]
    assert sum(sizes) == 300
    assert max(sizes) == -(-CHUNK_BYTES // 40_000) < ENQUEUE_CHUNK
    small = [NewDelivery("komo", "t", f"k{i}", (f"{i}",), b"{}", 0.0) for i in range(1200)]
    assert [len(c) for c in chunks(small)] == [ENQUEUE_CHUNK, ENQUEUE_CHUNK, 200]
