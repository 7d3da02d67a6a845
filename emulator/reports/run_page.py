"""A delivery run as HTML: counts with failures first, the three charts, and every delivery that
failed, was exhausted or was retried.

Rendered from a run's deliveries as the outbox reports them (``Outbox.deliveries``: each with its
attempts); ``charts_html`` is what the dashboard's run page shows too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from emulator.reports import charts, html

BAD = ("failed", "exhausted")
LISTED = 200  # deliveries listed in full; the charts count all of them


def points(deliveries: Sequence[Mapping[str, Any]]) -> list[charts.Point]:
    """Every logged request of the deliveries, as chart points."""
    return [
        charts.Point(
            d["vendor"], a["started_at"], charts.attempt_outcome(a["outcome"]), a["duration_ms"]
        )
        for d in deliveries
        for a in d["attempts"]
    ]


def counts_html(counts: Mapping[str, int], attempts: int) -> str:
    """Failed and exhausted first, coloured when there are any: a run with failures never looks
    clean."""
    return html.counts(
        [
            ("failed", counts.get("failed", 0), "bad" if counts.get("failed") else ""),
            ("exhausted", counts.get("exhausted", 0), "bad" if counts.get("exhausted") else ""),
            ("pending", counts.get("pending", 0), "warn" if counts.get("pending") else ""),
            ("delivered", counts.get("delivered", 0), "good"),
            ("requests", attempts, ""),
        ]
    )


def charts_html(points: Sequence[charts.Point], tallies: Mapping[tuple[int, str], int]) -> str:
    """The run's three charts, each in a figure."""
    return "".join(
        f'<figure class="chart">{svg}</figure>'
        for svg in (
            charts.timeline(points),
            charts.latency(points),
            charts.attempts_per_delivery(tallies),
        )
    )


def _badge(status: str) -> str:
    return f'<span class="badge {escape(status)}">{escape(status)}</span>'


def deliveries_table(deliveries: Sequence[Mapping[str, Any]]) -> str:
    """Deliveries that failed, were exhausted or needed more than one attempt, worst first, each
    with every logged request (verification GETs included)."""
    shown = [d for d in deliveries if d["status"] in BAD or d["attempt_count"] > 1]
    shown.sort(key=lambda d: (d["status"] not in BAD, -d["attempt_count"], d["id"]))
    if not shown:
        return '<p class="muted">Every delivery succeeded at its first request.</p>'
    rows = []
    for d in shown[:LISTED]:
        tries = " ".join(
            _badge(charts.attempt_outcome(a["outcome"]))
            + (f" {a['status']}" if a["status"] is not None else "")
            for a in d["attempts"]
        )
        rows.append(
            f'<tr data-delivery="{d["id"]}"><td>#{d["id"]}</td><td>{escape(d["vendor"])}</td>'
            f"<td>{escape(d['event_type'])}</td><td>{_badge(d['status'])}</td>"
            f"<td>{d['attempt_count']}</td><td>{tries}</td>"
            f'<td class="muted">{escape(d["last_error"] or "")}</td></tr>'
        )
    more = (
        f'<p class="muted">... and {len(shown) - LISTED} more (--report FILE lists every attempt)</p>'
        if len(shown) > LISTED
        else ""
    )
    return (
        '<table class="list" id="retried"><thead><tr><th>Delivery</th><th>Vendor</th>'
        "<th>Event type</th><th>Status</th><th>Attempts</th><th>Each request</th>"
        f"<th>Last error</th></tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"
    )


def document(run: Mapping[str, Any], deliveries: Sequence[Mapping[str, Any]]) -> str:
    """The whole self-contained page of a run: ``run`` has ``id``, ``name``, ``counts``."""
    counts = run["counts"]
    found = points(deliveries)
    bad = counts.get("failed", 0) + counts.get("exhausted", 0)
    verdict = (
        f"{bad} not delivered"
        if bad
        else "all delivered"
        if not counts.get("pending")
        else "unfinished"
    )
    tallies = Counter((d["attempt_count"], d["status"]) for d in deliveries)
    body = (
        f'<h1>Run #{run["id"]}: {escape(run["name"])} <small class="muted">{verdict}</small></h1>'
        f"{counts_html(counts, len(found))}"
        f'<p class="muted">{len(deliveries)} deliveries; outbox {escape(str(run.get("db", "")))}</p>'
        f"<h2>Over time</h2>{charts_html(found, tallies)}"
        f"<h2>Failed, exhausted and retried deliveries</h2>{deliveries_table(deliveries)}"
    )
    return html.page(f"run #{run['id']}: {verdict}", body)
