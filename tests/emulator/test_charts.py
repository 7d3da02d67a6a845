"""The SVG charts: one series per vendor (or status), bars that add up, text escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from emulator.reports import charts

SVG = "{http://www.w3.org/2000/svg}"


def _points() -> list[charts.Point]:
    return [
        charts.Point("komo", 100.0, "delivered", 2.0),
        charts.Point("komo", 100.5, "retrying", 30.0),
        charts.Point("komo", 101.0, "delivered", 3.0),
        charts.Point("a<b>", 102.0, "exhausted", 5000.0),
    ]


def _series(svg: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    return {g.get("data-series"): g for g in root.iter(f"{SVG}g") if g.get("class") == "series"}


def _count(g: ET.Element) -> int:
    return sum(
        int(re.search(r": (\d+)", r.find(f"{SVG}title").text).group(1))
        for r in g.iter(f"{SVG}rect")
    )


def test_the_timeline_has_a_series_per_vendor_and_counts_every_request():
    svg = charts.timeline(_points())
    series = _series(svg)
    assert list(series) == ["komo", "a<b>"]  # escaped in the markup, the name as given
    assert _count(series["komo"]) == 3
    assert _count(series["a<b>"]) == 1
    outcomes = {r.get("data-outcome") for r in series["komo"].iter(f"{SVG}rect")}
    assert outcomes == {"delivered", "retrying"}
    assert "<b>" not in svg


def test_latency_puts_every_request_in_a_bar_slow_ones_in_the_last():
    series = _series(charts.latency(_points()))
    assert _count(series["komo"]) == 3
    assert _count(series["a<b>"]) == 1


def test_attempts_per_delivery_stacks_by_status():
    svg = charts.attempts_per_delivery({(1, "delivered"): 2, (3, "exhausted"): 1})
    series = _series(svg)
    assert list(series) == ["delivered", "exhausted"]
    assert "1 of 3 retried" in svg


def test_an_empty_run_draws_an_empty_chart_not_an_error():
    for svg in (charts.timeline([]), charts.latency([]), charts.attempts_per_delivery({})):
        assert "no requests yet" in svg
        assert _series(svg) == {}


def test_a_stored_pending_attempt_is_shown_as_retrying():
    assert charts.attempt_outcome("pending") == "retrying"
    assert charts.attempt_outcome("delivered") == "delivered"
