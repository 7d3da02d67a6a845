"""Engine behaviour beyond the vendor rules: per-coupon order, timeouts, the scheduler, the outbox."""

from __future__ import annotations

import json
import threading

from pytest_httpserver import HTTPServer
from werkzeug import Response

from emulator.core import catalogue
from emulator.core.plan import PlannedEvent
from emulator.core.policy import DELIVERED, EXHAUSTED
from emulator.delivery.outbox import Outbox
from emulator.delivery.records import NewDelivery
from emulator.delivery.runner import run_plan
from emulator.delivery.scheduler import Scheduler
from emulator.readers import config


def _planned(vendor: str, event: str, coupon_key: str, seed: int, due: float = 0.0) -> PlannedEvent:
    return PlannedEvent(
        vendor, event, coupon_key, catalogue.sample(vendor, event, seed=seed), due=due
    )


def test_per_coupon_ordering_holds_a_coupons_next_event_until_the_previous_is_final(
    httpserver, outbox
):
    """The first event of coupon A fails twice; A's second event must not overtake it."""
    arrivals: list[tuple[str, int]] = []
    lock = threading.Lock()

    def handler(request):
        body = json.loads(request.get_data())
        with lock:
            arrivals.append((body["id"], len(arrivals)))
            first_of_a = body["id"] == first_id
            failures = sum(1 for i, _ in arrivals if i == first_id)
        return Response("", status=503 if first_of_a and failures <= 2 else 200)

    httpserver.expect_request("/hooks").respond_with_handler(handler)
    events = [_planned("komo", "CouponIssued", "A", 1), _planned("komo", "CouponViewed", "A", 2)]
    events += [_planned("komo", "CouponIssued", f"B{i}", 10 + i) for i in range(5)]
    first_id, second_id = events[0].body["id"], events[1].body["id"]
    raw = {"time_scale": 0.0005, "ordering": "per-coupon",
           "vendors": {"komo": {"target": httpserver.url_for("/hooks")}}}  # fmt: skip
    result = run_plan(outbox, config.parse(raw), raw, events)
    assert result.counts[DELIVERED] == 7
    order = [i for i, _ in arrivals]
    last_try_of_first = max(n for n, i in enumerate(order) if i == first_id)
    assert order.index(second_id) > last_try_of_first
    # Other coupons were not held back behind A's retries.
    assert all(order.index(e.body["id"]) < last_try_of_first for e in events[2:])


def test_without_ordering_a_later_event_of_the_coupon_may_pass_a_retrying_one(httpserver, outbox):
    seen: list[str] = []

    def handler(request):
        body = json.loads(request.get_data())
        seen.append(body["id"])
        return Response(
            "", status=503 if body["id"] == first_id and seen.count(first_id) == 1 else 200
        )

    httpserver.expect_request("/hooks").respond_with_handler(handler)
    events = [_planned("komo", "CouponIssued", "A", 1), _planned("komo", "CouponViewed", "A", 2)]
    first_id, second_id = events[0].body["id"], events[1].body["id"]
    raw = {"time_scale": 0.001, "vendors": {"komo": {"target": httpserver.url_for("/hooks")}}}
    assert run_plan(outbox, config.parse(raw), raw, events).counts[DELIVERED] == 2
    assert seen.index(second_id) < len(seen) - 1 - seen[::-1].index(first_id)


def test_a_consumer_slower_than_the_timeout_is_a_timeout_and_retried(outbox):
    release = threading.Event()
    calls: list[int] = []

    def handler(request):
        calls.append(1)
        if len(calls) == 1:
            release.wait(5)  # hold the first answer past the 0.2 s timeout
        return Response("", status=200)

    server = HTTPServer(threaded=True)  # the held request must not block the retry behind it
    server.expect_request("/hooks").respond_with_handler(handler)
    server.start()
    try:
        raw = {
            "time_scale": 0.001,
            "vendors": {"komo": {"target": server.url_for("/hooks"), "timeout": 0.2}},
        }
        result = run_plan(
            outbox, config.parse(raw), raw, [_planned("komo", "CouponIssued", "A", 1)]
        )
    finally:
        release.set()
        server.stop()
    [row] = outbox.deliveries(result.run_id)
    assert row["status"] == DELIVERED
    assert row["attempts"][0]["error"] == "no answer within 0.2s"
    assert row["attempts"][0]["status"] is None
    assert row["attempt_count"] == 2


def test_an_unreachable_target_is_a_connection_failure_retried_then_exhausted(outbox):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    raw = {"time_scale": 0.0001, "vendors": {"fabric": {"target": f"http://127.0.0.1:{port}/x"}}}
    events = [_planned("fabric", "offers:coupon:created", "A", 1)]
    result = run_plan(outbox, config.parse(raw), raw, events)
    [row] = outbox.deliveries(result.run_id)
    assert row["status"] == EXHAUSTED
    assert row["attempt_count"] == 4
    assert all("Connection refused" in a["error"] for a in row["attempts"])


def test_scheduler_releases_only_due_deliveries_in_due_order():
    now = [100.0]
    scheduler = Scheduler(clock=lambda: now[0])
    box_items = [_delivery(i, due) for i, due in enumerate((105.0, 101.0, 103.0))]
    for d in box_items:
        scheduler.submit(d)
    assert scheduler.poll() is None
    assert scheduler.next_due_in() == 1.0
    now[0] = 104.0
    assert [scheduler.poll().id, scheduler.poll().id, scheduler.poll()] == [1, 2, None]
    scheduler.close()
    assert not scheduler.drained()
    for d in box_items:
        scheduler.finished(d)
    assert scheduler.drained()


def test_scheduler_blocks_a_producer_that_runs_too_far_ahead():
    scheduler = Scheduler(max_outstanding=2, clock=lambda: 0.0)
    scheduler.submit(_delivery(1, 0))
    scheduler.submit(_delivery(2, 0))
    third = threading.Thread(target=scheduler.submit, args=(_delivery(3, 0),), daemon=True)
    third.start()
    third.join(0.1)
    assert third.is_alive()  # waiting for room
    scheduler.finished(scheduler.poll())
    third.join(5)
    assert not third.is_alive()


def test_the_outbox_survives_reopening_and_pages_pending_rows_in_due_order(tmp_path):
    path = tmp_path / "o.db"
    with Outbox(path) as box:
        run = box.create_run("r", {"vendors": {"komo": {"target": "http://x/${HOST}"}}})
        box.enqueue(
            run,
            [
                NewDelivery("komo", "CouponIssued", f"c{i}", (f"k{i}",), b"{}", due_at=10 - i)
                for i in range(5)
            ],
        )
    with Outbox(path) as box:
        assert [d.dedupe_keys[0] for d in box.pending(run, page=2)] == [
            "k4",
            "k3",
            "k2",
            "k1",
            "k0",
        ]
        assert box.run(run)["settings"] == {"vendors": {"komo": {"target": "http://x/${HOST}"}}}
        assert box.unfinished_runs() == [run]


def _delivery(i: int, due: float):
    from emulator.delivery.records import Delivery

    return Delivery(id=i, run_id=1, vendor="komo", event_type="CouponIssued", coupon_key=f"c{i}",
                    dedupe_keys=(f"k{i}",), body=b"{}", due_at=due)  # fmt: skip
