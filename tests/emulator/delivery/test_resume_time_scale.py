"""``resume`` at another time scale re-times what still waits: events not yet due, retries
scheduled, and the part of the plan a kill left unstored. On a virtual clock: no real waiting."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from werkzeug import Response

from emulator.core.plan import simple_plan
from emulator.core.policy import DELIVERED
from emulator.delivery import envelopes as envelopes_module
from emulator.delivery import runner
from emulator.delivery.clock import VirtualClock
from emulator.delivery.lease import Leases
from emulator.delivery.records import Update
from emulator.delivery.runner import Driver, PlanIdentity, envelopes, fold, resume_run
from emulator.readers import config, loader

T0 = 1_800_000_000.0  # the run's start, on the virtual clock
KILLED_FOR = 10.0  # seconds between the kill and the resume


def consumer(
    httpserver, clock: VirtualClock, fail: set[str] = frozenset()
) -> dict[str, list[float]]:
    """Every POST's instant on the virtual clock, by content id; the first POST of an event in
    ``fail`` is answered 503."""
    seen: dict[str, list[float]] = {}

    def handler(request):
        if request.method == "GET":
            return Response("", status=200)
        key = json.loads(request.get_data())["content_id"]
        seen.setdefault(key, []).append(clock.now())
        return Response("", status=503 if key in fail and len(seen[key]) == 1 else 200)

    httpserver.expect_request("/hooks").respond_with_handler(handler)
    return seen


def key_of(delivery) -> str:
    return json.loads(delivery.body)["content_id"]


def test_resume_at_a_smaller_scale_shortens_the_waits_of_stored_deliveries(httpserver, outbox):
    clock = VirtualClock(start=T0 + KILLED_FOR)
    raw = {"time_scale": 1, "vendors": {"punchh": {"target": "http://127.0.0.1/hooks"}}}
    settings = config.parse(raw, source="test")
    start = datetime.fromtimestamp(T0, UTC)
    planned = simple_plan([("punchh", "coupon-redemption", 2, 0.0)], 1, start)
    later, retried = envelopes(planned, settings, T0)
    seen = consumer(httpserver, clock, fail={json.loads(later.body)["content_id"]})
    # What a killed run leaves: an event due in an hour, and one whose retry is due at 60 s.
    run_id = outbox.create_run("killed", raw)
    later_row, retried_row = outbox.enqueue(
        run_id, [replace(later, due_at=T0 + 3600), replace(retried, due_at=T0)]
    )
    outbox.record([(None, Update(retried_row.id, "pending", 1, {"5xx": 1}, T0 + 60, 503, "503"))])

    target = {"punchh": {"target": httpserver.url_for("/hooks")}}
    faster = config.parse({"time_scale": 0.001, "vendors": target}, source="test")
    result = resume_run(outbox, run_id, faster, clock=clock)

    assert result.counts[DELIVERED] == 2, result.counts
    now = T0 + KILLED_FOR
    # The 50 s left of the retry's wait, and the 3,590 s left of the event's, both times 0.001.
    assert seen[key_of(retried_row)] == [pytest.approx(now + 50 * 0.001, abs=1e-6)]
    first, second = seen[key_of(later_row)]
    assert first == pytest.approx(now + 3590 * 0.001, abs=1e-6)
    # Its first try was answered 503: the retry, scheduled during the resume, takes the new scale.
    assert second - first == pytest.approx(60 * 0.001, abs=1e-6)
    offset, factor = outbox.schedule(run_id)
    assert factor == pytest.approx(0.001)
    assert offset == pytest.approx(now * (1 - 0.001))


def test_resume_at_a_larger_scale_lengthens_them_and_the_same_scale_changes_nothing(
    httpserver, outbox
):
    clock = VirtualClock(start=T0 + KILLED_FOR)
    seen = consumer(httpserver, clock)
    raw = {"time_scale": 0.01, "vendors": {"punchh": {"target": httpserver.url_for("/hooks")}}}
    start = datetime.fromtimestamp(T0, UTC)
    [event] = envelopes(simple_plan([("punchh", "coupon-redemption", 1, 0.0)], 2, start),
                        config.parse(raw, source="test"), T0)  # fmt: skip
    run_id = outbox.create_run("killed", raw)
    [row] = outbox.enqueue(run_id, [replace(event, due_at=T0 + 36)])  # 3,600 vendor s at 0.01
    same = config.parse(raw, source="test")
    runner.retime(outbox, run_id, float(same.time_scale), clock.now())
    assert outbox.schedule(run_id) == (0.0, 1.0)  # resumed at its own scale: nothing re-timed

    slower = config.parse({**raw, "time_scale": 0.02}, source="test")
    resume_run(outbox, run_id, slower, clock=clock)
    assert seen[key_of(row)] == [pytest.approx(T0 + KILLED_FOR + 26 * 2, abs=1e-6)]


def test_the_part_of_the_plan_left_unstored_is_re_timed_and_still_re_derives(
    httpserver, outbox, tmp_path, monkeypatch
):
    monkeypatch.setattr(envelopes_module, "ENQUEUE_CHUNK", 2)  # a kill after the first chunk of 2
    clock = VirtualClock(start=T0 + KILLED_FOR)
    seen = consumer(httpserver, clock)
    events = tmp_path / "events.yaml"
    events.write_text(
        f"seed: 5\nvendors:\n  punchh:\n    target: {httpserver.url_for('/hooks')}\n"
        "events:\n  - {vendor: punchh, event: coupon-redemption, count: 6, every: 600}\n"
    )
    plan = loader.plan(str(events), loader.layers(), seed=None,
                       start=datetime.fromtimestamp(T0, UTC))  # fmt: skip
    identity = PlanIdentity(plan.source, plan.text, plan.seed, T0)
    whole = list(envelopes(plan.events, plan.settings, T0))  # due at 0, 600, ..., 3000 s
    leases = Leases(outbox)
    run_id = leases.create_run("killed", plan.settings_raw, str(events), identity.as_json())
    next(Driver(outbox, run_id, plan.settings, clock=clock).store(iter(whole)))
    leases.release(run_id)
    leases.close()
    assert outbox.run(run_id)["planned"] == 2

    stored = outbox.run(run_id)["settings"]
    faster, _ = loader.settings(stored, (), loader.layers(None, [], 0.001), str(events))
    result = resume_run(outbox, run_id, faster, clock=clock)

    assert result.counts[DELIVERED] == 6, result.counts
    now = T0 + KILLED_FOR
    for d in whole:
        wait = max(d.due_at - now, 0.0) * 0.001
        assert seen[json.loads(d.body)["content_id"]] == [pytest.approx(now + wait, abs=1e-6)]
    # The digest is still the plan's own, so a later resume re-derives it.
    digest = hashlib.sha256()
    for d in whole:
        fold(digest, d)
    run = outbox.run(run_id)
    assert run["plan_complete"]
    assert run["plan_digest"] == digest.hexdigest()
