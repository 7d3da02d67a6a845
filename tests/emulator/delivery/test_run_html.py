"""``run --html``: one self-contained page of a run whose failures stand out, with its charts."""

from __future__ import annotations

import re
import subprocess
import sys


def test_run_html_counts_exhausted_first_and_charts_every_vendor(httpserver, tmp_path):
    httpserver.expect_request("/komo").respond_with_data("", status=200)
    events = tmp_path / "events.yaml"
    events.write_text(
        "seed: 3\nvendors:\n"
        f"  komo: {{target: '{httpserver.url_for('/komo')}'}}\n"
        "  fabric: {target: 'http://127.0.0.1:1/down', auth: {type: api-key, value: k}}\n"
        "events:\n  - {vendor: komo, event: CouponViewed, count: 3}\n"
        "  - {vendor: fabric, event: 'offers:coupon:created', count: 2}\n"
    )
    page = tmp_path / "run.html"
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "run", str(events), "--db", str(tmp_path / "o.db"),
         "--time-scale", "0.0001", "--html", str(page), "--quiet"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    html = page.read_text()
    counts = re.findall(r'class="count ([a-z]*)" data-count="([a-z]+)"><strong>(\d+)<', html)
    assert [c[1] for c in counts[:2]] == ["failed", "exhausted"]  # the bad news first
    assert ("bad", "exhausted", "2") in counts
    assert ("good", "delivered", "3") in counts
    assert "2 not delivered" in html
    for chart in ("timeline", "latency", "retries"):
        assert f'data-chart="{chart}"' in html
    timeline = html.split('data-chart="timeline"')[1].split("</svg>")[0]
    assert re.findall(r'class="series" data-series="(\w+)"', timeline) == ["komo", "fabric"]
    assert 'data-outcome="exhausted"' in timeline
    assert 'data-outcome="retrying"' in timeline  # the refused tries before the last
    listed = re.findall(r'<tr data-delivery="(\d+)">', html)
    assert len(listed) == 2  # the exhausted ones; komo's went through at the first request
    assert "ECONNREFUSED" in html
    assert "<script" not in html
    assert not re.search(r'(src|href)="(?!#)', html)  # nothing fetched


def test_an_unwritable_html_path_is_refused_before_anything_is_sent(tmp_path):
    events = tmp_path / "events.yaml"
    events.write_text(
        "vendors:\n  komo: {target: 'http://127.0.0.1:1/'}\n"
        "events:\n  - {vendor: komo, event: CouponIssued}\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "run", str(events), "--db", str(tmp_path / "o.db"),
         "--html", str(tmp_path / "missing" / "run.html")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--html " in done.stderr
    assert "cannot write this file" in done.stderr
    assert not (tmp_path / "o.db").exists()
