"""The dashboard in real headless Chromium: an event triggered over the API shows, escaped; resend works;
failed runs, retrying deliveries and the contract results show as they are; the ``verify --html`` and
``run --html`` files open on their own. Screenshots go to each test's tmp dir.

Debian's chromium (``apt-get install chromium``) driven by Playwright's Python client; Playwright's
own browser downloads are never used.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.emulator.web.conftest import TOKEN

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
SCRIPT = "<script>window.__pwned = 1</script><b>bold</b>"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="no Chromium at /usr/bin/chromium: install Debian's package (apt-get install chromium)",
)


sync = pytest.importorskip("playwright.sync_api")


@pytest.fixture
def browser():
    with sync.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def test_a_triggered_event_shows_escaped_and_can_be_resent_from_the_page(
    service, browser, tmp_path
):
    status, accepted = service.json(
        "POST",
        "/api/events",
        {"vendor": "komo", "event_type": "CouponIssued", "overrides": {"offer_name": SCRIPT}},
    )
    assert status == 202
    delivery = accepted["delivery"]
    service.wait_for(f"/api/deliveries/{delivery['id']}", lambda d: d["status"] == "delivered")
    key = delivery["dedupe_keys"][0]
    assert service.json("GET", f"/sink/probe/applied?vendor=komo&key={key}")[1] == {"count": 1}

    context = browser.new_context(http_credentials={"username": "ci", "password": TOKEN})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(service.url + "/?vendor=komo")
    row = page.locator(f'tr[data-delivery="{delivery["id"]}"]')
    assert "delivered" in row.inner_text()
    assert "CouponIssued" in row.inner_text()
    assert page.locator("#runs").count() == 1
    vendors = {
        t.strip() for t in page.locator("#deliveries tbody tr td:nth-child(3)").all_inner_texts()
    }
    assert vendors == {"komo"}  # the filter applied

    row.locator("a").first.click()
    page.wait_for_url(f"**/deliveries/{delivery['id']}")
    body = page.locator("#body").inner_text()
    assert SCRIPT in body  # shown as text ...
    assert page.locator("#body b").count() == 0  # ... not as markup
    assert page.evaluate("window.__pwned") is None  # and never run
    assert page.locator("section.attempt").count() == 1
    assert "User-Agent" in page.locator("section.attempt").inner_text()

    page.locator("button.resend").click()
    # The page polls the API, then reloads once the delivery is final again.
    sync.expect(page.locator("#attempt-count")).to_have_text("2", timeout=15_000)
    assert page.locator("section.attempt").count() == 2
    assert page.locator("#status").inner_text() == "delivered"
    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    _, again = service.json("GET", f"/api/deliveries/{delivery['id']}")
    assert again["attempt_count"] == 2
    assert service.json("GET", f"/sink/probe/applied?vendor=komo&key={key}")[1] == {"count": 1}
    assert problems == []  # no script error, no Content-Security-Policy violation
    context.close()


def _page(browser):
    """A page logged in to the service, with every console error and script error collected."""
    context = browser.new_context(http_credentials={"username": "ci", "password": TOKEN})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page, problems


def _shot(page, path: Path) -> None:
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 800, width  # a page was drawn, not a blank strip
    assert height >= 300, height


def broken_consumer(environ, start_response):
    start_response("500 Internal Server Error", [("Content-Type", "text/html")])
    return [SCRIPT.encode()]


def test_failures_stand_out_badges_tell_the_truth_and_the_contract_page_shows_verify(
    service, browser, tmp_path
):
    down = "http://127.0.0.1:9/down"  # nothing listens: every try is refused
    _, exhausted = service.json(
        "POST", "/api/events",
        {"vendor": "komo", "event_type": "CouponIssued", "target": down, "time_scale": 0.0001},
    )  # fmt: skip
    _, waiting = service.json(
        "POST", "/api/events",
        {"vendor": "komo", "event_type": "CouponIssued", "target": down, "time_scale": 1},
    )  # fmt: skip
    failed_id, waiting_id = exhausted["delivery"]["id"], waiting["delivery"]["id"]
    service.wait_for(f"/api/deliveries/{failed_id}", lambda d: d["status"] == "exhausted")
    service.wait_for(f"/api/deliveries/{waiting_id}", lambda d: d["attempt_count"] >= 1)
    run_id = exhausted["run"]["id"]
    _, run = service.json("GET", f"/api/runs/{run_id}")
    _, detail = service.json("GET", f"/api/deliveries/{failed_id}")
    assert (
        run["progress"]["attempts"] == detail["attempt_count"] >= 2
    )  # the run and its delivery agree

    from contracts.serving import serve_wsgi
    from emulator.cli import main

    with serve_wsgi(broken_consumer) as base:
        code = main(["verify", "--consumer", f"komo={base}/komo", "--case", "accepts",
                     "--seed", "1", "--db", str(service.db)])  # fmt: skip
    assert code == 1

    page, problems = _page(browser)
    page.goto(service.url + "/")
    row = page.locator(f'#runs tr[data-run="{run_id}"]')
    assert row.get_attribute("data-outcome") == "failed"
    assert "bad" in (row.get_attribute("class") or "")
    assert row.locator(".outcome").inner_text() == "1 not delivered"
    assert row.locator('svg.bar rect[data-status="exhausted"]').count() == 1
    listed = page.locator(f'#deliveries tr[data-delivery="{waiting_id}"]')
    assert listed.locator(".status").inner_text() == "retrying"  # tried, the next try scheduled
    _shot(page, tmp_path / "runs.png")

    row.locator("a").first.click()
    page.wait_for_url(f"**/runs/{run_id}")
    assert page.locator("#outcome").inner_text() == "1 not delivered"
    assert page.locator('[data-count="exhausted"]').inner_text().startswith("1")
    timeline = page.locator('svg[data-chart="timeline"]')
    assert timeline.locator("g.series").count() == 1  # one vendor in this run
    assert timeline.locator("g.series").get_attribute("data-series") == "komo"
    assert timeline.locator('rect[data-outcome="exhausted"]').count() == 1
    assert timeline.locator('rect[data-outcome="retrying"]').count() >= 1
    assert page.locator('svg[data-chart="latency"] g.series').count() == 1
    assert page.locator('svg[data-chart="retries"] g.series').count() == 1
    assert page.locator(f'#bad tr[data-delivery="{failed_id}"]').count() == 1
    _shot(page, tmp_path / "run.png")

    page.locator(f'#bad tr[data-delivery="{failed_id}"] a').click()
    page.wait_for_url(f"**/deliveries/{failed_id}")
    assert page.locator("#status").inner_text() == "exhausted"
    badges = page.locator("section.attempt .status").all_inner_texts()
    assert badges[-1] == "exhausted"
    assert set(badges[:-1]) == {"retrying"}
    assert page.locator("#attempt-count").inner_text() == str(len(badges))
    # Attempts come before the body.
    first, body = (
        page.locator("section.attempt").first.bounding_box(),
        page.locator("#body").bounding_box(),
    )
    assert first["y"] < body["y"]
    _shot(page, tmp_path / "failed-delivery.png")

    page.goto(service.url + f"/deliveries/{waiting_id}")
    assert page.locator("#status").inner_text() == "retrying"

    page.locator("nav a", has_text="Contract").click()
    page.wait_for_url("**/contract")
    cells = page.locator('#matrix tr[data-case="accepts"] td.cell')
    assert cells.count() == 1
    assert "fail" in cells.get_attribute("class")
    assert cells.inner_text() == "FAIL 4/4"
    failures = page.locator("section.failure")
    assert failures.count() == 4
    assert SCRIPT in failures.first.locator("pre.answer").inner_text()  # the answer, as text
    assert page.locator("section.failure b").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert "Reproduce with: coupon-emulator verify" in failures.first.inner_text()
    _shot(page, tmp_path / "contract.png")
    assert problems == []  # no script error, no Content-Security-Policy violation
    page.context.close()


def test_the_report_files_open_in_chromium_self_contained_and_escaped(browser, tmp_path):
    from contracts.serving import serve_wsgi
    from emulator.cli import main

    verify_html, run_html = tmp_path / "verify.html", tmp_path / "run.html"
    with serve_wsgi(broken_consumer) as base:
        assert main(["verify", "--consumer", f"komo={base}/komo", "--case", "accepts",
                     "--case", "rejects-malformed-json", "--seed", "1",
                     "--html", str(verify_html)]) == 1  # fmt: skip
    events = tmp_path / "events.yaml"
    events.write_text(
        "vendors:\n  komo: {target: 'http://127.0.0.1:9/down'}\n"
        "  fabric: {target: 'http://127.0.0.1:9/down', auth: {type: api-key, value: k}}\n"
        "events:\n  - {vendor: komo, event: CouponIssued, count: 2}\n"
        "  - {vendor: fabric, event: 'offers:coupon:created'}\n"
    )
    assert main(["run", str(events), "--db", str(tmp_path / "o.db"), "--time-scale", "0.0001",
                 "--quiet", "--html", str(run_html)]) == 1  # fmt: skip

    context = browser.new_context(offline=True)  # a self-contained page needs no network
    page = context.new_page()
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if not r.url.startswith("file:") else None)
    page.goto(verify_html.as_uri())
    assert page.title() == "verify: failed"
    assert page.locator("#matrix td.cell.fail").count() == 2
    assert page.locator("section.failure").count() == 5
    assert SCRIPT in page.locator("section.failure pre.answer").first.inner_text()
    assert page.locator("section.failure b").count() == 0
    assert page.evaluate("window.__pwned") is None
    colour = page.locator("#matrix td.cell.fail").first.evaluate(
        "e => getComputedStyle(e).backgroundColor"
    )
    assert colour == "rgb(242, 184, 184)"  # the inline CSS applied: failures are red
    _shot(page, tmp_path / "verify-file.png")

    page.goto(run_html.as_uri())
    assert page.locator('[data-count="exhausted"] strong').inner_text() == "3"
    assert page.locator("svg.chart").count() == 3
    series = page.locator('svg[data-chart="timeline"] g.series')
    assert [series.nth(i).get_attribute("data-series") for i in range(series.count())] == [
        "komo", "fabric",
    ]  # fmt: skip
    assert page.locator("#retried tbody tr").count() == 3
    _shot(page, tmp_path / "run-file.png")
    assert fetched == []
    context.close()
