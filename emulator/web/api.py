"""The control API: trigger an event, start a run, read runs, deliveries and attempts, resend.

Every request body is checked against the same JSON Schema the OpenAPI document publishes
(``models``), so what the document calls valid is accepted and nothing else is.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from functools import cache
from typing import Any

from flask import Blueprint, Response, current_app, json, request

from emulator import __version__
from emulator.core.errors import EmulatorError
from emulator.web import models, openapi, params, plans
from emulator.web.problems import Problem
from emulator.web.queries import Page
from emulator.web.service import Conflict, Stopping
from emulator.web.state import State, current


def blueprint() -> Blueprint:
    bp = Blueprint("api", __name__)

    @bp.get("/openapi.json")
    def document() -> Response:
        state = current()
        doc = state.cache.get("openapi")
        if doc is None:
            doc = state.cache["openapi"] = json.dumps(openapi.document(state.token is not None))
        return Response(doc, mimetype="application/json")

    @bp.get("/readyz")
    def readyz() -> Any:
        state = current()
        if state.service.stopping:
            raise Problem(503, "unavailable", "the service is shutting down")
        state.queries.ping()
        return {"status": "ready", "version": __version__, "active_runs": state.service.active()}

    @bp.post("/api/events")
    def trigger() -> Any:
        data = _body("event")
        state = current()
        seed = data["seed"] if "seed" in data else secrets.randbelow(models.MAX_SEED + 1)
        prepared = _prepare(
            plans.event,
            data["vendor"],
            data["event_type"],
            overrides=data.get("overrides"),
            seed=seed,
            target=data.get("target"),
            time_scale=data.get("time_scale"),
        )
        run_id, ids = _start(state.service.start, prepared)
        delivery = state.queries.delivery(ids[0])
        payload = {
            "run": _run(state, run_id),
            "delivery": delivery,
            "seed": seed,
            "schema_errors": list(prepared.schema_errors),
        }
        return _accepted(payload, f"/api/deliveries/{ids[0]}")

    @bp.post("/api/runs")
    def start_run() -> Any:
        data = _body("run")
        state = current()
        plan = _prepare(
            plans.scenario,
            name=data.get("scenario"),
            text=data.get("yaml"),
            seed=data.get("seed"),
            targets=data.get("targets"),
            time_scale=data.get("time_scale"),
        )
        # Checked in full above; planning and storing go on in the run's own thread.
        run_id = _start(state.service.start_run, plan)
        payload = {
            "run": _run(state, run_id),
            "seed": plan.seed,
            "deliveries": f"/api/deliveries?run={run_id}",
        }
        return _accepted(payload, f"/api/runs/{run_id}")

    @bp.get("/api/runs")
    def runs() -> Any:
        state = current()
        page = state.queries.runs(params.limit(), params.cursor())
        for item in page.items:
            _live_state(state, item)
        return _page(page)

    @bp.get("/api/runs/<int:run_id>")
    def run(run_id: int) -> Any:
        return _run(current(), run_id)

    @bp.post("/api/runs/<int:run_id>/resend")
    def resend_run(run_id: int) -> Any:
        state = current()
        _run(state, run_id)
        return _resend(state, run_id, state.queries.failed(run_id))

    @bp.get("/api/scenarios")
    def scenarios() -> Any:
        return {"items": plans.names(current().service.defaults.scenarios)}

    @bp.get("/api/deliveries")
    def deliveries() -> Any:
        page = current().queries.deliveries(
            limit=params.limit(), cursor=params.cursor(), **params.delivery_filters()
        )
        return _page(page)

    @bp.get("/api/deliveries/<int:delivery_id>")
    def delivery(delivery_id: int) -> Any:
        return _delivery(current(), delivery_id, detail=True)

    @bp.get("/api/deliveries/<int:delivery_id>/body")
    def body(delivery_id: int) -> Response:
        data = current().queries.body(delivery_id)
        if data is None:
            raise _missing("delivery", delivery_id)
        return Response(data, mimetype="application/json")

    @bp.get("/api/deliveries/<int:delivery_id>/attempts")
    def attempts(delivery_id: int) -> Any:
        state = current()
        _delivery(state, delivery_id)
        return {"items": state.queries.attempts(delivery_id)}

    @bp.post("/api/deliveries/<int:delivery_id>/resend")
    def resend(delivery_id: int) -> Any:
        state = current()
        item = _delivery(state, delivery_id)
        return _resend(state, item["run_id"], [delivery_id])

    return bp


# Requests


REQUESTS = {"event": models.EVENT_REQUEST, "run": models.RUN_REQUEST}


def _body(kind: str) -> dict[str, Any]:
    if not request.is_json:
        raise Problem(
            415,
            "invalid-request",
            f"send the request body as JSON with 'Content-Type: application/json', "
            f"not {request.mimetype or 'no content type'!r}",
        )
    try:
        data = json.loads(request.get_data(cache=True), parse_constant=_not_json)
    except ValueError as exc:
        raise Problem(400, "invalid-request", f"the body is not valid JSON: {exc}") from None
    found = sorted(_validator(kind).iter_errors(data), key=lambda e: list(map(str, e.path)))
    if found:
        errors = [_schema_error(e) for e in found[:20]]
        raise Problem(
            400,
            "invalid-request",
            "the body does not match the request schema (see /openapi.json): "
            + "; ".join(f"{e['pointer'] or '(root)'}: {e['detail']}" for e in errors[:3]),
            errors=errors,
        )
    return data


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")  # Python's reader would take it


@cache
def _validator(kind: str) -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(REQUESTS[kind])


def _schema_error(error: Any) -> dict[str, str]:
    pointer = "".join(f"/{str(p).replace('~', '~0').replace('/', '~1')}" for p in error.path)
    best = error
    if error.context:  # oneOf: name the branch that came closest
        from jsonschema.exceptions import best_match

        best = best_match(error.context)
        pointer = "".join(f"/{p}" for p in best.absolute_path) or pointer
    return {"pointer": pointer, "detail": best.message[:500]}


# Work


def _prepare(build: Any, *args: Any, **kwargs: Any) -> Any:
    state = current()
    try:
        return build(state.service.defaults, *args, **kwargs)
    except plans.ScenarioNotFound as exc:
        raise Problem(404, "not-found", str(exc)) from None
    except EmulatorError as exc:  # settings, names, builders: the message says what to fix
        raise Problem(422, "invalid-settings", str(exc)) from None


def _start(start: Any, prepared: Any) -> Any:
    try:
        return start(prepared)
    except Stopping as exc:
        raise Problem(503, "unavailable", str(exc)) from None


def _resend(state: State, run_id: int, ids: list[int]) -> Response:
    try:
        resent = state.service.resend(run_id, ids) if ids else []
    except Conflict as exc:
        raise Problem(409, "conflict", str(exc)) from None
    except Stopping as exc:
        raise Problem(503, "unavailable", str(exc)) from None
    except EmulatorError as exc:  # the run's settings no longer parse (an unset ${VAR})
        raise Problem(422, "invalid-settings", str(exc)) from None
    return _accepted({"run_id": run_id, "resent": resent}, f"/api/runs/{run_id}")


# Answers


def _run(state: State, run_id: int) -> dict[str, Any]:
    item = state.queries.run(run_id)
    if item is None:
        raise _missing("run", run_id)
    return _live_state(state, item)


def _live_state(state: State, item: dict[str, Any]) -> dict[str, Any]:
    # The lease tells a live run from a dead one (Queries); ours count as running until settled.
    if state.service.running(item["id"]):
        item["state"] = "running"
    return item


def _delivery(state: State, delivery_id: int, *, detail: bool = False) -> dict[str, Any]:
    item = state.queries.delivery(delivery_id, detail=detail)
    if item is None:
        raise _missing("delivery", delivery_id)
    return item


def _missing(what: str, ident: int) -> Problem:
    return Problem(404, "not-found", f"no {what} {ident}; list them with GET /api/{what}s")


def _page(page: Page) -> dict[str, Any]:
    return {"items": page.items, "next_cursor": page.next_cursor}


def _accepted(payload: Mapping[str, Any], location: str) -> Response:
    response = current_app.json.response(payload)
    response.status_code = 202
    response.headers["Location"] = location
    return response
