"""Errors as RFC 9457 problem details: one exception to raise, one handler that renders them all."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

MEDIA_TYPE = "application/problem+json"
# Problem types of our own. Tag URIs (RFC 4151) name them without promising a page to fetch;
# plain HTTP errors use "about:blank", whose title is the status phrase (RFC 9457 §4.2.1).
TYPE_PREFIX = "tag:coupon-emulator,2026:problem:"
TYPES = {
    "invalid-request": "The request does not match the API's schema",
    "invalid-settings": "The delivery settings or scenario cannot be used",
    "unauthorized": "A valid API token is required",
    "cross-origin": "Cross-origin requests cannot change anything",
    "not-found": "No such resource",
    "conflict": "The resource is not in a state that allows this",
    "unavailable": "The service is shutting down",
    "busy": "The service holds as much work as it takes now; retry after Retry-After seconds",
    "server-error": "Internal server error",
}

log = logging.getLogger("emulator.web")


class Problem(Exception):
    """Raise anywhere in a request: the handler answers with this problem document."""

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        *,
        errors: Sequence[Mapping[str, str]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        if kind not in TYPES:
            raise ValueError(f"unknown problem type {kind!r}; known: {', '.join(TYPES)}")
        self.status = status
        self.kind = kind
        self.detail = detail
        self.errors = tuple(dict(e) for e in errors)
        self.headers = dict(headers or {})


def document(
    status: int,
    detail: str,
    kind: str | None = None,
    errors: Sequence[Mapping[str, str]] = (),
) -> dict[str, Any]:
    """The problem object itself (RFC 9457 §3): type, title, status, detail, instance."""
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + kind if kind else "about:blank",
        "title": TYPES[kind] if kind else HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors:
        body["errors"] = [dict(e) for e in errors]
    return body


def response(
    status: int,
    detail: str,
    kind: str | None = None,
    errors: Sequence[Mapping[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    payload = json.dumps(document(status, detail, kind, errors))
    return Response(payload, status=status, mimetype=MEDIA_TYPE, headers=dict(headers or {}))


def register(app: Flask) -> None:
    """Every error the app lets out becomes a problem document; none shows a traceback."""

    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Response:
        return response(exc.status, exc.detail, exc.kind, exc.errors, exc.headers)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        # Keep what the exception says about itself (Allow on a 405), not its HTML body.
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        kind = "not-found" if status == 404 else None
        detail = exc.description or HTTPStatus(status).description
        if status == 404:
            detail = f"nothing at {request.path}; the routes are listed at /openapi.json"
        return response(status, detail, kind, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return response(
            500,
            f"{type(exc).__name__} while handling the request; the service log has the details",
            "server-error",
        )
