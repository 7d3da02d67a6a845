"""The dashboard: runs (failures first), a page per run with its charts, deliveries with filters,
each attempt in full, a resend button, and the latest contract results.

Server-rendered with Jinja's autoescape, so every value from a payload shows as text. A per-page
Content-Security-Policy nonce lets only the page's own script and style run.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask import Blueprint, Response, render_template
from markupsafe import Markup

from emulator import __version__
from emulator.core import catalogue
from emulator.reports import charts, run_page, verify_page
from emulator.reports import html as report_html
from emulator.web import models, params
from emulator.web.problems import Problem
from emulator.web.queries import iso
from emulator.web.state import current

RUNS_SHOWN = 10
BAD_SHOWN = 50  # failed and exhausted deliveries listed on a run's page
CHARTED = 200_000  # requests a run's charts are drawn from (the first ones), to keep pages quick


def blueprint() -> Blueprint:
    bp = Blueprint("dashboard", __name__)

    @bp.get("/")
    def index() -> Response:
        state = current()
        filters = params.delivery_filters(blank_ok=True)
        deliveries = state.queries.deliveries(
            limit=params.limit(), cursor=params.cursor(), **filters
        )
        runs = state.queries.runs(RUNS_SHOWN).items
        for run in runs:
            _shown(state.live(run))
        for d in deliveries.items:
            d["shown_status"] = shown_status(d)
        return _page(
            "index.html",
            runs=runs,
            deliveries=deliveries.items,
            next_cursor=deliveries.next_cursor,
            filters={k: "" if v is None else v for k, v in filters.items()},
            vendors=models.VENDOR_SLUGS,
            statuses=models.STATUSES,
            event_types=[et.name for et in catalogue.event_types()],
            live=any(run["state"] == "running" for run in runs),
        )

    @bp.get("/runs/<int:run_id>")
    def run(run_id: int) -> Response:
        state = current()
        item = state.queries.run(run_id)
        if item is None:
            raise Problem(404, "not-found", f"no run {run_id}")
        _shown(state.live(item))
        requests = state.queries.requests(run_id, CHARTED)
        total = state.queries.request_count(run_id)
        points = [
            charts.Point(vendor, at, charts.attempt_outcome(outcome), ms)
            for vendor, at, outcome, ms in requests
        ]
        bad = []
        for status in ("failed", "exhausted"):
            bad += state.queries.deliveries(limit=BAD_SHOWN, run=run_id, status=status).items
        for d in bad:
            d["shown_status"] = shown_status(d)
        return _page(
            "run.html",
            run=item,
            counts=Markup(run_page.counts_html(item["progress"], total)),
            charted=CHARTED if len(requests) == CHARTED < total else None,
            charts=Markup(run_page.charts_html(points, state.queries.attempt_tally(run_id))),
            bad=sorted(bad, key=lambda d: d["id"])[:BAD_SHOWN],
            live=item["state"] == "running",
        )

    @bp.get("/deliveries/<int:delivery_id>")
    def delivery(delivery_id: int) -> Response:
        item = current().queries.delivery(delivery_id, detail=True)
        if item is None:
            raise Problem(404, "not-found", f"no delivery {delivery_id}")
        item["shown_status"] = shown_status(item)
        for a in item["attempts"]:
            a["shown_outcome"] = charts.attempt_outcome(a["outcome"])
        return _page("delivery.html", d=item, body=_pretty(item["body"]))

    @bp.get("/contract")
    def contract() -> Response:
        from contracts import store

        report = store.latest(current().queries.path)
        if report is None:
            return _page("contract.html", report=None, content="", db=current().queries.path)
        return _page(
            "contract.html",
            report=report,
            stored_at=iso(report["stored_at"]),
            content=Markup(verify_page.body(report, _case_order())),
        )

    return bp


def shown_status(delivery: dict[str, Any]) -> str:
    """A delivery's status as a badge says it: a pending delivery already tried is ``retrying``
    (its next try is scheduled), ``pending`` only when it has not been tried yet."""
    if delivery["status"] == "pending" and delivery["attempt_count"] > 0:
        return "retrying"
    return delivery["status"]


def _shown(run: dict[str, Any]) -> dict[str, Any]:
    """A run with what the runs table shows first: how many deliveries did not go through."""
    p = run["progress"]
    run["not_delivered"] = p["failed"] + p["exhausted"]
    run["bar"] = Markup(charts.status_bar(p))
    return run


def _case_order() -> list[str]:
    from contracts import cases

    return cases.names()


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _page(template: str, **context: Any) -> Response:
    nonce = secrets.token_urlsafe(16)
    html = render_template(
        template, nonce=nonce, version=__version__, report_css=report_html.CSS, **context
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
