"""The dashboard: runs with progress, deliveries with filters, each attempt in full, a resend button.

Server-rendered with Jinja's autoescape, so every value from a payload shows as text. A per-page
Content-Security-Policy nonce lets only the page's own script and style run.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from flask import Blueprint, Response, render_template

from emulator import __version__
from emulator.core import catalogue
from emulator.web import models, params
from emulator.web.problems import Problem
from emulator.web.state import current

RUNS_SHOWN = 10


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
            state.live(run)
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

    @bp.get("/deliveries/<int:delivery_id>")
    def delivery(delivery_id: int) -> Response:
        item = current().queries.delivery(delivery_id, detail=True)
        if item is None:
            raise Problem(404, "not-found", f"no delivery {delivery_id}")
        return _page("delivery.html", d=item, body=_pretty(item["body"]))

    return bp


def _pretty(text: str) -> str:
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def _page(template: str, **context: Any) -> Response:
    nonce = secrets.token_urlsafe(16)
    html = render_template(template, nonce=nonce, version=__version__, **context)
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
