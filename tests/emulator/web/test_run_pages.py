"""The dashboard's run and contract pages over HTTP, and a run's attempts agreeing with its
deliveries'."""

from __future__ import annotations

import re

from contracts import store


def test_a_delivery_held_by_a_failed_verification_get_has_0_attempts_and_so_has_its_run(
    service, httpserver
):
    # Punchh activates a webhook only when a GET answers 200; this one answers 404, so the
    # delivery fails without a POST: one logged request, no attempt of the delivery.
    httpserver.expect_request("/hooks/punchh", method="GET").respond_with_data("", status=404)
    _, accepted = service.json(
        "POST", "/api/events",
        {"vendor": "punchh", "event_type": "coupon-redemption",
         "target": httpserver.url_for("/hooks/punchh"), "time_scale": 0.0001},
    )  # fmt: skip
    path = f"/api/deliveries/{accepted['delivery']['id']}"
    delivery = service.wait_for(path, lambda d: d["status"] != "pending")
    assert delivery["status"] == "failed"
    assert delivery["attempt_count"] == 0
    _, attempts = service.json("GET", path + "/attempts")
    assert [a["number"] for a in attempts["items"]] == [0]  # the GET, logged
    _, run = service.json("GET", f"/api/runs/{accepted['run']['id']}")
    assert run["progress"]["attempts"] == 0  # as its only delivery says

    status, _, page = service.request("GET", f"/deliveries/{delivery['id']}")
    assert status == 200
    text = page.decode()
    assert '<span id="attempt-count">0</span>' in text
    assert "1 request logged" in text
    status, _, page = service.request("GET", f"/runs/{run['id']}")
    assert status == 200
    assert 'data-count="failed"><strong>1<' in page.decode()
    assert 'data-count="requests"><strong>1<' in page.decode()
    assert "1 delivery, 0 attempts; started" in page.decode()


def test_an_unknown_run_page_is_404(service):
    status, _, _ = service.request("GET", "/runs/999999")
    assert status == 404


def test_the_contract_page_says_how_to_fill_it_then_shows_the_latest_results(serve, tmp_path):
    served = serve()
    status, _, page = served.request("GET", "/contract")
    assert status == 200
    assert "No verify results in this database yet" in page.decode()
    report = {
        "tool": "coupon-emulator verify", "seed": 7, "consumers": {"komo": "http://x/komo"},
        "probe": None,
        "summary": {"passed": 1, "failed": 1, "errors": 0, "skipped": 0, "total": 2, "seconds": 0.1},
        "results": [
            {"vendor": "komo", "case": "accepts", "event_type": "CouponIssued",
             "id": "accepts[CouponIssued]", "status": "passed", "title": "answered 200",
             "message": "", "seconds": 0.01, "reproduce": "coupon-emulator verify ..."},
            {"vendor": "komo", "case": "rejects-bad-auth", "event_type": None,
             "id": "rejects-bad-auth", "status": "failed", "title": "komo rejects-bad-auth: x",
             "message": "t\n  sent:     POST http://x/komo\n  got:      200 </pre><i>hi</i>\n"
                        "  expected: 401\nReproduce with: coupon-emulator verify --case r",
             "seconds": 0.01, "reproduce": "coupon-emulator verify --case r"},
        ],
    }  # fmt: skip
    store.save(str(served.db), {**report, "seed": 6})
    store.save(str(served.db), report)
    status, _, page = served.request("GET", "/contract")
    text = page.decode()
    assert "seed 7" in text  # the latest
    assert re.search(r'<tr data-case="rejects-bad-auth"><th>rejects-bad-auth</th>'
                     r'<td class="cell fail" data-vendor="komo">FAIL</td>', text)  # fmt: skip
    assert "200 &lt;/pre&gt;&lt;i&gt;hi&lt;/i&gt;" in text
    assert "<i>hi" not in text
    assert "Reproduce with: <code>coupon-emulator verify --case r</code>" in text
