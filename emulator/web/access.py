"""Who may use the control API and dashboard: the optional bearer token, and same-origin writes.

With a token set, every route but the open ones (health, the OpenAPI document, the vendor
resources and the sink, which consumers call with vendor auth, and the documents of the API and
of the vendors' webhooks) needs ``Authorization: Bearer T``,
or HTTP Basic with the token as password, which is how a browser logs in to the dashboard. Writes
from another origin are refused whatever the token: a web page must not drive the emulator.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from flask import Flask, request

from emulator.web.problems import Problem

OPEN = (
    "/healthz",
    "/readyz",
    "/openapi.json",
    "/asyncapi.json",
    "/webhooks.json",
    "/vendors/",
    "/sink/",
)
REALM = 'realm="coupon-emulator"'
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def is_open(path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in OPEN)


def install(app: Flask, token: str | None) -> None:
    @app.before_request
    def _guard() -> None:
        if is_open(request.path):
            return
        if token is not None and not _authorized(token):
            api = request.path.startswith("/api/")
            challenge = f"Bearer {REALM}" if api else f'Basic {REALM}, charset="UTF-8"'
            raise Problem(
                401,
                "unauthorized",
                "this service requires its API token: send 'Authorization: Bearer <token>' "
                "(the token given to serve with --api-token or COUPON_EMULATOR_API_TOKEN)",
                headers={"WWW-Authenticate": challenge},
            )
        if request.method in UNSAFE and _cross_origin():
            raise Problem(
                403,
                "cross-origin",
                "a request from another origin cannot change anything here; call the API "
                "directly (no Origin header) or from the dashboard itself",
            )


def _authorized(token: str) -> bool:
    value = request.headers.get("Authorization", "")
    scheme, _, credentials = value.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return hmac.compare_digest(credentials.encode(), token.encode())
    if scheme.lower() == "basic":  # what a browser sends once the dashboard asked for a login
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        password = decoded.partition(":")[2]
        return hmac.compare_digest(password.encode(), token.encode())
    return False


def _cross_origin() -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    return origin.rstrip("/") != request.host_url.rstrip("/")
