"""The OpenAPI 3.1 document of every route the service answers, as data.

Schemas come from ``models``, the same ones requests are checked against. With an API token
configured the guarded routes declare bearer security; without one they declare none, since the
document describes this server as it runs.
"""

from __future__ import annotations

from typing import Any

from emulator import __version__
from emulator.core import catalogue
from emulator.core.errors import listed
from emulator.web import models

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
RESOURCE_ID = {"type": "string", "minLength": 1, "maxLength": 200}


def document(secured: bool) -> dict[str, Any]:
    from emulator.web import access, openapi_open, resources

    guarded = [{"bearer": []}] if secured else []
    dashboard = [{"bearer": []}, {"basic": []}] if secured else []
    paths: dict[str, Any] = {}
    paths.update(_service(guarded))
    paths.update(openapi_open.dashboard(dashboard))
    paths.update(openapi_open.resources())
    paths.update(openapi_open.sink())
    # The guard refuses every cross-origin write outside the open paths, with or without a body.
    for path, item in paths.items():
        for method, op in item.items():
            if method.upper() in access.UNSAFE and not access.is_open(path):
                op["responses"]["403"] = problem_answer("a write from another origin (a web page)")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "coupon-emulator",
            "version": __version__,
            "summary": "Emulated coupon webhooks of "
            + listed(v.title for v in catalogue.VENDORS.values()),
            "description": (
                "Trigger events and runs, read every delivery and attempt, resend. Errors are "
                "RFC 9457 problem documents. Lists are paged newest first: pass a page's "
                "next_cursor as cursor for the next one."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": {
                "Problem": models.PROBLEM,
                "Run": models.RUN,
                "Delivery": models.DELIVERY,
                "DeliveryDetail": models.DELIVERY_DETAIL,
                "Attempt": models.ATTEMPT,
                "EventRequest": models.EVENT_REQUEST,
                "RunRequest": models.RUN_REQUEST,
                **resources.components(),
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "the API token"},
                "basic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "any user name, the API token as password (browsers)",
                },
            },
        },
    }


def query_parameters(doc: dict[str, Any]) -> dict[tuple[str, str], frozenset[str]]:
    """(path, method) -> the names of the query parameters the document declares there."""
    return {
        (path, method): frozenset(p["name"] for p in op.get("parameters", []) if p["in"] == "query")
        for path, item in doc["paths"].items()
        for method, op in item.items()
    }


# Building blocks


def json_answer(schema: Any, description: str = "OK", headers: Any = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def problem_answer(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": PROBLEM_REF}},
    }


def busy_answer(description: str) -> dict[str, Any]:
    answer = problem_answer(description + "; Retry-After says when to ask again")
    answer["headers"] = {
        "Retry-After": {
            "description": "seconds to wait before trying again",
            "schema": {"type": "integer", "minimum": 0},
        }
    }
    return answer


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def path_id(name: str, what: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": f"the {what}'s id",
        "schema": models.ID,
    }


def query(name: str, schema: Any, description: str, required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


PAGING = [
    query(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
        "items per page",
    ),
    query(
        "cursor",
        {"type": "string", "pattern": models.CURSOR_PATTERN},
        "the next_cursor of the previous page",
    ),
]
DELIVERY_FILTERS = [
    query("run", models.ID, "only this run's deliveries"),
    query("vendor", {"enum": models.VENDOR_SLUGS}, "only this vendor's"),
    query("event_type", {"type": "string", "maxLength": 200}, "only this event type"),
    query("status", {"enum": models.STATUSES}, "only deliveries in this status"),
]
ACCEPTED_LOCATION = {
    "Location": {"description": "where to follow the work", "schema": {"type": "string"}}
}


def operation(
    summary: str,
    responses: dict[str, Any],
    security: list[Any],
    *,
    parameters: list[Any] | None = None,
    body: str | None = None,
    tag: str,
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "security": security}
    if parameters:
        op["parameters"] = parameters
    answers = dict(responses)
    if security:
        answers["401"] = problem_answer("the API token is missing or wrong")
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(body)}},
        }
        answers.setdefault("400", problem_answer("the body does not match the schema"))
        answers["413"] = problem_answer("the body is larger than 2 MiB")
        answers["415"] = problem_answer("the body is not sent as application/json")
        answers["503"] = problem_answer("the service is shutting down")
    if parameters and any(p["in"] == "query" for p in parameters):
        answers.setdefault("400", problem_answer("a query parameter is invalid"))
    if "503" in answers:  # an operation that adds work: refused while the service is full
        answers["429"] = busy_answer("the service holds as much unfinished work as it takes")
        answers["503"] = busy_answer(
            "the service is shutting down, or too many runs wait to be planned"
        )
    op["responses"] = answers
    return op


# The routes


def _service(guarded: list[Any]) -> dict[str, Any]:
    accepted_run = json_answer(models.RUN_ACCEPTED, "stored; delivery goes on", ACCEPTED_LOCATION)
    resent = json_answer(
        models.RESEND_ACCEPTED, "reset to pending and being sent", ACCEPTED_LOCATION
    )
    not_found = problem_answer("no such run or delivery")
    return {
        "/healthz": {
            "get": operation("liveness: the process answers", {"200": json_answer(models.HEALTH)}, [],
                       tag="health"),
        },
        "/readyz": {
            "get": operation(
                "readiness: the outbox answers and the service is not stopping",
                {"200": json_answer(models.READY), "503": problem_answer("shutting down")},
                [],
                tag="health",
            ),
        },
        "/openapi.json": {
            "get": operation("this document", {"200": json_answer({"type": "object"})}, [], tag="health"),
        },
        "/asyncapi.json": {
            "get": operation("the vendors' webhooks: AsyncAPI 3.0, a channel per vendor",
                             {"200": json_answer({"type": "object"})}, [], tag="health"),
        },
        "/webhooks.json": {
            "get": operation("the vendors' webhooks: OpenAPI 3.1, one entry per event type",
                             {"200": json_answer({"type": "object"})}, [], tag="health"),
        },
        "/api/events": {
            "post": operation(
                "trigger one event about a fresh coupon (the built-in sink unless a target is set)",
                {
                    "202": json_answer(models.EVENT_ACCEPTED, "stored; delivery goes on",
                                 ACCEPTED_LOCATION),
                    "422": problem_answer("the settings (e.g. the target URL) cannot be used"),
                },
                guarded,
                body="EventRequest",
                tag="events",
            ),
        },
        "/api/runs": {
            "get": operation("runs with their progress, newest first",
                       {"200": json_answer(models.page(models.RUN))}, guarded, parameters=PAGING,
                       tag="runs"),
            "post": operation(
                "start a run from a shipped scenario or inline YAML",
                {
                    "202": accepted_run,
                    "404": problem_answer("no shipped scenario of that name"),
                    "422": problem_answer("the scenario or its settings cannot be used"),
                },
                guarded,
                body="RunRequest",
                tag="runs",
            ),
        },
        "/api/runs/{run_id}": {
            "get": operation("one run and its progress", {"200": json_answer(ref("Run")), "404": not_found},
                       guarded, parameters=[path_id("run_id", "run")], tag="runs"),
        },
        "/api/runs/{run_id}/resend": {
            "post": operation(
                "resend every failed or exhausted delivery of a run",
                {"202": resent, "404": not_found, "409": problem_answer("a delivery is still pending"),
                 "422": problem_answer("the run's settings no longer parse"),
                 "503": problem_answer("the service is shutting down")},
                guarded,
                parameters=[path_id("run_id", "run")],
                tag="runs",
            ),
        },
        "/api/scenarios": {
            "get": operation("the shipped scenarios' names", {"200": json_answer(models.SCENARIOS)}, guarded,
                       tag="runs"),
        },
        "/api/deliveries": {
            "get": operation("deliveries, newest first, filtered",
                       {"200": json_answer(models.page(ref("Delivery")))}, guarded,
                       parameters=[*DELIVERY_FILTERS, *PAGING], tag="deliveries"),
        },
        "/api/deliveries/{delivery_id}": {
            "get": operation("one delivery with its body and every attempt",
                       {"200": json_answer(ref("DeliveryDetail")), "404": not_found}, guarded,
                       parameters=[path_id("delivery_id", "delivery")], tag="deliveries"),
        },
        "/api/deliveries/{delivery_id}/body": {
            "get": operation("the exact request body bytes", {"200": json_answer({}), "404": not_found},
                       guarded, parameters=[path_id("delivery_id", "delivery")],
                       tag="deliveries"),
        },
        "/api/deliveries/{delivery_id}/attempts": {
            "get": operation(
                "every attempt of one delivery (headers with secrets redacted)",
                {"200": json_answer({"type": "object", "required": ["items"],
                               "additionalProperties": False,
                               "properties": {"items": {"type": "array",
                                                        "items": ref("Attempt")}}}),
                 "404": not_found},
                guarded, parameters=[path_id("delivery_id", "delivery")], tag="deliveries",
            ),
        },
        "/api/deliveries/{delivery_id}/resend": {
            "post": operation(
                "send a final delivery again: same body bytes, same dedupe keys",
                {"202": resent, "404": not_found,
                 "409": problem_answer("the delivery is still pending"),
                 "422": problem_answer("the run's settings no longer parse"),
                 "503": problem_answer("the service is shutting down")},
                guarded,
                parameters=[path_id("delivery_id", "delivery")],
                tag="deliveries",
            ),
        },
    }  # fmt: skip
