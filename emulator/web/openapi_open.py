"""The OpenAPI paths of the routes outside the control API: dashboard, vendor resources, sink."""

from __future__ import annotations

from typing import Any

from emulator.core import catalogue
from emulator.core.resources import JSON, ResourceRoute
from emulator.web import models
from emulator.web import resources as vendor_resources
from emulator.web.openapi import (
    PAGING,
    RESOURCE_ID,
    json_answer,
    operation,
    path_id,
    problem_answer,
    query,
)

# The dashboard's filter form sends every field, empty ones too; an empty field means "any".
FORM_FILTERS = [
    query("run", {"type": "string", "pattern": r"^([1-9][0-9]{0,17})?$"}, "only this run's"),
    query("vendor", {"enum": ["", *models.VENDOR_SLUGS]}, "only this vendor's"),
    query("event_type", {"type": "string", "maxLength": 200}, "only this event type"),
    query("status", {"enum": ["", *models.STATUSES]}, "only deliveries in this status"),
]


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def dashboard(security: list[Any]) -> dict[str, Any]:
    return {
        "/": {
            "get": operation(
                "the dashboard: runs with progress, deliveries with filters",
                {"200": _html("the page")},
                security,
                parameters=[*FORM_FILTERS, *PAGING],
                tag="dashboard",
            ),
        },
        "/deliveries/{delivery_id}": {
            "get": operation(
                "one delivery's body and attempts, with a resend button",
                {"200": _html("the page"), "404": problem_answer("no such delivery")},
                security,
                parameters=[path_id("delivery_id", "delivery")],
                tag="dashboard",
            ),
        },
        "/runs/{run_id}": {
            "get": operation(
                "one run: counts (failures first), its charts, its failed deliveries",
                {"200": _html("the page"), "404": problem_answer("no such run")},
                security,
                parameters=[path_id("run_id", "run")],
                tag="dashboard",
            ),
        },
        "/contract": {
            "get": operation(
                "the latest contract results that 'verify --db' stored in this database",
                {"200": _html("the page")},
                security,
                tag="dashboard",
            ),
        },
    }


def _resource(route: ResourceRoute) -> dict[str, Any]:
    parameters = [
        {"name": p, "in": "path", "required": True, "schema": RESOURCE_ID} for p in route.parameters
    ]
    if route.media_type == JSON:
        answer = json_answer(vendor_resources.schema(route), route.answer)
    else:
        binary = {"type": "string", "format": "binary"}
        answer = {"description": route.answer, "content": {route.media_type: {"schema": binary}}}
    return {
        "get": operation(
            route.summary,
            {"200": answer, "404": problem_answer("unknown, or deleted in its lifecycle")},
            [],
            parameters=parameters,
            tag="vendor resources",
        )
    }


def resources() -> dict[str, Any]:
    """Every vendor's resources, at the paths the vendor declares."""
    return {
        vendor_resources.path(v.slug, route): _resource(route)
        for v in catalogue.VENDORS.values()
        for route in v.resources
    }


def _verifying() -> str:
    """The titles of the vendors that send a verification GET."""
    return ", ".join(v.title for v in catalogue.VENDORS.values() if v.profile.verification_get)


def sink() -> dict[str, Any]:
    vendor = {
        "name": "vendor",
        "in": "path",
        "required": True,
        "schema": {"enum": list(catalogue.VENDORS)},
    }
    error = {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}},
    }
    counts = {
        "type": "object",
        "required": ["applied", "duplicate", "stale", "ignored"],
        "properties": {k: models.COUNT for k in ("applied", "duplicate", "stale", "ignored")},
    }
    refused = {
        "400": json_answer(error, "the body is not a JSON object"),
        "401": json_answer(error, "the vendor's auth did not verify (nothing applied)"),
        "404": json_answer(error, "unknown vendor"),
    }
    write = {
        "responses": {"200": json_answer(counts, "events applied, duplicates, stale, ignored"),
                      **refused},
        "requestBody": {"required": True,
                        "content": {"application/json": {"schema": {"type": "object"}}}},
    }  # fmt: skip
    sink_ops: dict[str, Any] = {
        "get": {
            "summary": f"the verification GET ({_verifying()}) and health ping (any vendor)",
            "responses": {
                "200": json_answer({"type": "object", "required": ["ok", "vendor"]}, "verified"),
                **refused,
            },
        },
    }
    for method in ("post", "put", "patch"):
        sink_ops[method] = {
            "summary": "a webhook delivery, checked as the vendor signs it",
            **write,
        }
    for op in sink_ops.values():
        op.update({"tags": ["sink"], "security": [], "parameters": [vendor]})
    probe_error = json_answer(error, "a query parameter is missing")
    return {
        "/sink/{vendor}": sink_ops,
        "/sink/probe/applied": {
            "get": {
                "summary": "times the sink applied the event with dedupe key K (probe protocol)",
                "tags": ["sink"], "security": [],
                "parameters": [
                    query("vendor", {"type": "string", "minLength": 1}, "vendor slug", required=True),
                    query("key", {"type": "string"}, "the event's dedupe key", required=True),
                ],
                "responses": {
                    "200": json_answer({"type": "object", "required": ["count"],
                                  "properties": {"count": models.COUNT}}),
                    "400": probe_error,
                },
            }
        },
        "/sink/probe/coupon": {
            "get": {
                "summary": "the status (and revision, where the vendor has one) the sink holds for a coupon",
                "tags": ["sink"], "security": [],
                "parameters": [
                    query("vendor", {"type": "string", "minLength": 1}, "vendor slug", required=True),
                    query("id", {"type": "string"}, "the coupon id", required=True),
                ],
                "responses": {
                    "200": json_answer({"type": "object", "required": ["status", "revision"],
                                  "properties": {"status": models.nullable({"type": "string"}),
                                                 "revision": models.nullable({"type": "integer"})}}),
                    "400": probe_error,
                    "404": json_answer(error, "no such coupon seen"),
                },
            }
        },
    }  # fmt: skip
