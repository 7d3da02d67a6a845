"""The dashboard in real headless Chromium: an event triggered over the API shows, escaped; resend works.

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
