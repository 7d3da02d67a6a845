"""The control API against a real service: trigger, runs, deliveries, attempts, resend, problems."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from werkzeug import Response

from emulator.core import catalogue

FIRST_TYPES = [(slug, v.event_types[0].name) for slug, v in catalogue.VENDORS.items()]
EVENT_LIST = """\
name: two vendors
seed: 11
events:
  - {vendor: komo, event: CouponViewed, count: 3}
  - {vendor: punchh, event: coupon-redemption, count: 2}
"""


def _final(item):
    return item["status"] != "pending"


def _applied(service, vendor, key):
    status, answer = service.json(
        "GET", f"/sink/probe/applied?vendor={vendor}&key={key}", token=False
    )
    assert status == 200, answer
    return answer["count"]


@pytest.mark.parametrize(("vendor", "event_type"), FIRST_TYPES)
def test_an_event_triggered_without_a_target_arrives_at_the_built_in_sink(
    service, vendor, event_type
):
    status, accepted = service.json(
        "POST", "/api/events", {"vendor": vendor, "event_type": event_type}
    )
    assert status == 202, accepted
    delivery = accepted["delivery"]
    assert accepted["run"]["targets"] == {vendor: f"{service.url}/sink/{vendor}"}
    done = service.wait_for(f"/api/deliveries/{delivery['id']}", _final)
    assert done["status"] == "delivered", done
    # The sink checked the vendor's auth (401 otherwise) and applied the event exactly once.
    (key,) = delivery["dedupe_keys"]
    assert _applied(service, vendor, key) == 1
    assert json.loads(done["body"])  # the exact body, as text


def test_the_accepted_answer_points_at_the_delivery_and_stores_it_first(service):
    status, headers, data = service.request(
        "POST", "/api/events", {"vendor": "fabric", "event_type": "offers:coupon:created"}
    )
    accepted = json.loads(data)
    assert status == 202
    assert headers["Location"] == f"/api/deliveries/{accepted['delivery']['id']}"
    assert accepted["run"]["progress"]["total"] == 1
    assert isinstance(accepted["seed"], int)


def test_the_same_seed_gives_the_same_body_apart_from_the_clock(service):
    bodies = []
    for _ in range(2):
        _, accepted = service.json(
            "POST", "/api/events", {"vendor": "komo", "event_type": "CouponIssued", "seed": 42}
        )
        assert accepted["seed"] == 42
        _, body = service.json("GET", f"/api/deliveries/{accepted['delivery']['id']}/body")
        bodies.append(body)
    assert bodies[0]["id"] == bodies[1]["id"]
    assert bodies[0]["coupon_id"] == bodies[1]["coupon_id"]


def test_overrides_are_a_json_merge_patch_and_schema_breaks_are_reported(service):
    status, accepted = service.json(
        "POST",
        "/api/events",
        {
            "vendor": "komo",
            "event_type": "CouponIssued",
            "overrides": {"offer_name": "Two for one", "site_name": None, "Favourite": "tea"},
        },
    )
    assert status == 202
    _, body = service.json("GET", f"/api/deliveries/{accepted['delivery']['id']}/body")
    assert body["offer_name"] == "Two for one"
    assert "site_name" not in body  # null removes a key (RFC 7396)
    assert body["Favourite"] == "tea"
    assert any("site_name" in e for e in accepted["schema_errors"])


def test_an_override_that_removes_the_dedupe_key_is_still_sent_keyless(service):
    status, accepted = service.json(
        "POST", "/api/events", {"vendor": "komo", "event_type": "CouponIssued",
                                "overrides": {"id": None}},
    )  # fmt: skip
    assert status == 202
    assert accepted["delivery"]["dedupe_keys"] == []
    done = service.wait_for(f"/api/deliveries/{accepted['delivery']['id']}", _final)
    assert done["status"] == "delivered"  # the sink acknowledges what it cannot dedupe


def test_resending_an_exhausted_delivery_sends_the_same_bytes_and_key(service, httpserver):
    received: list[bytes] = []
    answer = {"status": 503}

    def consumer(request):
        received.append(request.get_data())
        return Response("", status=answer["status"])

    httpserver.expect_request("/hooks/rebilly").respond_with_handler(consumer)
    status, accepted = service.json(
        "POST",
        "/api/events",
        {
            "vendor": "rebilly",
            "event_type": "coupon-issued",
            "target": httpserver.url_for("/hooks/rebilly"),
            "time_scale": 0,
        },
    )
    assert status == 202
    path = f"/api/deliveries/{accepted['delivery']['id']}"
    exhausted = service.wait_for(path, _final)
    assert exhausted["status"] == "exhausted"
    tries = exhausted["attempt_count"]
    assert tries == len(received) > 1

    answer["status"] = 200
    status, resent = service.json("POST", path + "/resend")
    assert status == 202
    assert resent == {"run_id": accepted["run"]["id"], "resent": [accepted["delivery"]["id"]]}
    delivered = service.wait_for(path, _final)
    assert delivered["status"] == "delivered"
    assert delivered["attempt_count"] == tries + 1
    assert delivered["attempts"][-1]["number"] == tries + 1
    assert received[-1] == received[0]  # the same bytes, hence the same dedupe key
    _, _, stored = service.request("GET", path + "/body")
    assert stored == received[0]
    assert delivered["dedupe_keys"] == accepted["delivery"]["dedupe_keys"]


def test_resending_a_delivered_event_to_the_sink_is_deduplicated_there(service):
    _, accepted = service.json("POST", "/api/events", {"vendor": "punchh",
                                                       "event_type": "coupon-void"})  # fmt: skip
    path = f"/api/deliveries/{accepted['delivery']['id']}"
    service.wait_for(path, _final)
    assert service.json("POST", path + "/resend")[0] == 202
    again = service.wait_for(path, lambda d: _final(d) and d["attempt_count"] == 2)
    assert again["status"] == "delivered"
    assert _applied(service, "punchh", accepted["delivery"]["dedupe_keys"][0]) == 1


def test_a_pending_delivery_cannot_be_resent(service):
    target = f"http://127.0.0.1:{_closed_port()}/hooks"
    _, accepted = service.json(
        "POST",
        "/api/events",
        {"vendor": "komo", "event_type": "CouponIssued", "target": target, "time_scale": 1},
    )
    path = f"/api/deliveries/{accepted['delivery']['id']}"
    waiting = service.wait_for(path, lambda d: d["attempt_count"] >= 1)
    assert waiting["status"] == "pending"  # refused, the next try is 10 s away
    status, problem = service.json("POST", path + "/resend")
    assert status == 409
    assert problem["type"].endswith(":conflict")
    assert service.json("GET", path)[1]["attempt_count"] == 1


def test_a_run_from_inline_yaml_reports_progress_and_lists_its_deliveries(service):
    status, accepted = service.json("POST", "/api/runs", {"yaml": EVENT_LIST})
    assert status == 202, accepted
    run = accepted["run"]
    assert run["name"] == "two vendors"
    assert accepted["seed"] == 11
    # The answer comes before planning ends: deliveries are stored after it, listed here.
    assert accepted["deliveries"] == f"/api/deliveries?run={run['id']}"
    assert run["progress"]["total"] <= 5
    done = service.wait_for(f"/api/runs/{run['id']}", lambda r: r["state"] == "done")
    assert done["progress"] == {
        "total": 5, "pending": 0, "delivered": 5, "failed": 0, "exhausted": 0,
        "attempts": done["progress"]["attempts"],
    }  # fmt: skip
    assert done["progress"]["attempts"] >= 5

    _, page = service.json("GET", f"/api/deliveries?run={run['id']}&vendor=punchh")
    assert [d["event_type"] for d in page["items"]] == ["coupon-redemption"] * 2
    _, page = service.json("GET", f"/api/deliveries?run={run['id']}&status=failed")
    assert page["items"] == []

    seen, cursor = [], None
    while True:
        query = f"/api/deliveries?run={run['id']}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        _, page = service.json("GET", query)
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen, reverse=True)

    _, runs = service.json("GET", "/api/runs?limit=500")
    assert run["id"] in [r["id"] for r in runs["items"]]


def test_a_broken_scenario_is_a_422_naming_line_and_key(service):
    status, problem = service.json(
        "POST", "/api/runs", {"yaml": "events:\n  - {vendor: kommo, event: CouponIssued}\n"}
    )
    assert status == 422
    assert problem["detail"].startswith("request:yaml:2:")
    assert "events[0].vendor" in problem["detail"]
    assert "komo" in problem["detail"]  # the valid names are listed


def test_resend_of_a_run_resends_exactly_its_failed_deliveries(service, httpserver):
    answer = {"status": 503}
    httpserver.expect_request("/hooks/komo").respond_with_handler(
        lambda request: Response("", status=answer["status"])
    )
    text = EVENT_LIST.replace("punchh, event: coupon-redemption", "komo, event: CouponIssued")
    status, accepted = service.json(
        "POST",
        "/api/runs",
        {"yaml": text, "targets": {"komo": httpserver.url_for("/hooks/komo")}, "time_scale": 0},
    )
    assert status == 202, accepted
    run_path = f"/api/runs/{accepted['run']['id']}"
    done = service.wait_for(run_path, lambda r: r["state"] == "done")
    assert done["progress"]["exhausted"] == 5
    _, failed = service.json("GET", f"/api/deliveries?run={accepted['run']['id']}")
    answer["status"] = 200
    status, resent = service.json("POST", run_path + "/resend")
    assert status == 202
    assert sorted(resent["resent"]) == sorted(d["id"] for d in failed["items"])
    done = service.wait_for(run_path, lambda r: r["progress"]["delivered"] == 5)
    assert done["state"] == "done"


def test_shipped_scenarios_are_listed_and_started_by_name(serve, tmp_path):
    folder = tmp_path / "shipped"
    folder.mkdir()
    (folder / "demo.yaml").write_text(EVENT_LIST)
    service = serve("--scenarios", str(folder))
    assert service.json("GET", "/api/scenarios") == (200, {"items": ["demo"]})
    status, accepted = service.json("POST", "/api/runs", {"scenario": "demo"})
    assert status == 202
    assert accepted["run"]["source"] == str(folder / "demo.yaml")
    status, problem = service.json("POST", "/api/runs", {"scenario": "nope"})
    assert status == 404
    assert "demo" in problem["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "kind"),
    [
        ("GET", "/api/nothing", None, 404, ":not-found"),
        ("GET", "/api/runs/999999", None, 404, ":not-found"),
        ("GET", "/api/deliveries?status=lost", None, 400, ":invalid-request"),
        ("GET", "/api/deliveries?vendr=komo", None, 400, ":invalid-request"),
        ("POST", "/api/events", {"vendor": "komo", "event_type": "Nope"}, 400, ":invalid-request"),
        ("POST", "/api/events", {"vendor": "komo"}, 400, ":invalid-request"),
        ("POST", "/api/runs", {"yaml": "a", "scenario": "b"}, 400, ":invalid-request"),
    ],
)
def test_errors_are_problem_documents(service, method, path, body, status, kind):
    got, headers, data = service.request(method, path, body)
    assert got == status
    assert headers["Content-Type"] == "application/problem+json"
    problem = json.loads(data)
    assert problem["type"].endswith(kind)
    assert problem["status"] == status
    assert problem["instance"] == path.split("?")[0]
    assert problem["title"]
    assert problem["detail"]


def test_a_wrong_method_is_405_with_allow_and_bad_bodies_are_refused(service):
    status, headers, _ = service.request("DELETE", "/api/events")
    assert status == 405
    assert "POST" in headers["Allow"]
    status, _, _ = service.request(
        "POST", "/api/events", headers={"Content-Type": "text/plain"}, body=None
    )
    assert status == 415
    req_status, _, data = service.request(
        "POST", "/api/events", headers={"Content-Type": "application/json"}, body=None
    )
    assert req_status == 400
    assert "not valid JSON" in json.loads(data)["detail"]


def test_health_readiness_and_the_document_need_no_token(service):
    assert service.json("GET", "/healthz", token=False)[1]["status"] == "ok"
    status, ready = service.json("GET", "/readyz", token=False)
    assert (status, ready["status"]) == (200, "ready")
    status, doc = service.json("GET", "/openapi.json", token=False)
    assert status == 200
    assert doc["openapi"] == "3.1.0"
    assert doc["paths"]["/api/events"]["post"]["security"] == [{"bearer": []}]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_numbers_that_json_does_not_have_are_refused(service, constant):
    body = f'{{"vendor": "komo", "event_type": "CouponIssued", "time_scale": {constant}}}'
    status, _, data = service.request("POST", "/api/events", raw=body.encode())
    assert status == 400
    assert "not a JSON value" in json.loads(data)["detail"]


def test_the_shipped_quickstart_scenario_runs_into_the_services_own_sink(serve):
    """The scenario aims at ${SINK_URL}; the service sets it to its own sink, whatever its port."""
    shipped = Path(__file__).resolve().parents[3] / "scenarios"
    service = serve("--scenarios", str(shipped))
    assert "quickstart" in service.json("GET", "/api/scenarios")[1]["items"]
    status, accepted = service.json(
        "POST", "/api/runs", {"scenario": "quickstart", "time_scale": 0.0001}
    )
    assert status == 202, accepted
    run = service.wait_for(
        f"/api/runs/{accepted['run']['id']}", lambda r: r["state"] == "done", timeout=60
    )
    progress = run["progress"]
    assert progress["delivered"] == progress["total"] > 0, progress
    vendors = {
        d["vendor"]
        for d in service.json("GET", f"/api/deliveries?run={run['id']}&limit=200")[1]["items"]
    }
    assert vendors == {"komo", "fabric", "rebilly", "punchh"}
