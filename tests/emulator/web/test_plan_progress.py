"""A run resource tells how far its planning has got: ``plan.planned`` deliveries stored so far,
``plan.complete`` once all are, ``plan.planning`` while its process is still at it."""

from __future__ import annotations

from pathlib import Path

from tests.emulator.web.test_api import EVENT_LIST

ROOT = Path(__file__).resolve().parents[3]


def test_a_finished_run_and_a_single_event_show_their_whole_plan_stored(service):
    status, accepted = service.json("POST", "/api/runs", {"yaml": EVENT_LIST})
    assert status == 202, accepted
    assert set(accepted["run"]["plan"]) == {"planned", "complete", "planning"}
    done = service.wait_for(f"/api/runs/{accepted['run']['id']}", lambda r: r["state"] == "done")
    assert done["plan"] == {"planned": 5, "complete": True, "planning": False}

    body = {"vendor": "komo", "event_type": "CouponIssued"}
    status, event = service.json("POST", "/api/events", body)
    assert status == 202, event
    # A single event is stored whole before it is answered.
    assert event["run"]["plan"] == {"planned": 1, "complete": True, "planning": False}


def test_a_large_run_shows_its_planning_while_it_goes_on(serve):
    served = serve("--scenarios", str(ROOT / "scenarios"), token=None)
    status, accepted = served.json("POST", "/api/runs", {"scenario": "load"})
    assert status == 202, accepted
    path = f"/api/runs/{accepted['run']['id']}"
    grown = served.wait_for(path, lambda r: r["plan"]["planned"] > 0, timeout=60)
    assert grown["state"] == "running"
    assert grown["plan"]["planning"] is True
    assert grown["plan"]["complete"] is False
    first = grown["plan"]["planned"]
    later = served.wait_for(path, lambda r: r["plan"]["planned"] > first, timeout=60)
    assert later["plan"]["planning"] is True
    assert later["plan"]["planned"] <= later["progress"]["total"]
    status, _, page = served.request("GET", f"/runs/{accepted['run']['id']}")
    assert status == 200
    assert "so far, still planning" in page.decode()  # the run page says the total will grow
