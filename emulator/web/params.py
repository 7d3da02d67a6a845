"""Query parameters of the list routes, checked as the OpenAPI document declares them.

``blank_ok`` is for the dashboard, whose filter form sends every field, empty ones included.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, request

from emulator.web import models
from emulator.web.problems import Problem

DEFAULT_LIMIT, MAX_LIMIT = 50, 500
_DIGITS = re.compile(r"^[1-9][0-9]{0,18}$")
# The dashboard's form fields are text: at most 18 digits, which its document states as a pattern.
FORM_MAX_ID = 10**18 - 1
_CURSOR = re.compile(models.CURSOR_PATTERN)


def _arg(name: str, blank_ok: bool) -> str | None:
    text = request.args.get(name)
    return None if blank_ok and text == "" else text


def integer(name: str, maximum: int = models.MAX_ID, *, blank_ok: bool = False) -> int | None:
    text = _arg(name, blank_ok)
    if text is None:
        return None
    if not _DIGITS.match(text) or not 1 <= int(text) <= maximum:
        raise bad(name, f"expected an integer from 1 to {maximum}")
    return int(text)


def limit(*, blank_ok: bool = False) -> int:
    value = integer("limit", MAX_LIMIT, blank_ok=blank_ok)
    return DEFAULT_LIMIT if value is None else value


def cursor(*, blank_ok: bool = False) -> int | None:
    text = _arg("cursor", blank_ok)
    if text is None:
        return None
    if not _CURSOR.match(text):
        raise bad("cursor", "expected the next_cursor of a previous page")
    return int(text)


def choice(name: str, valid: list[str], *, blank_ok: bool = False) -> str | None:
    text = _arg(name, blank_ok)
    if text is not None and text not in valid:
        raise bad(name, f"expected one of {', '.join(valid)}")
    return text


def text(name: str, *, blank_ok: bool = False) -> str | None:
    value = _arg(name, blank_ok)
    if value is not None and len(value) > 200:
        raise bad(name, "expected at most 200 characters")
    return value


def delivery_filters(*, blank_ok: bool = False) -> dict[str, Any]:
    return {
        "run": integer("run", FORM_MAX_ID if blank_ok else models.MAX_ID, blank_ok=blank_ok),
        "vendor": choice("vendor", models.VENDOR_SLUGS, blank_ok=blank_ok),
        "event_type": text("event_type", blank_ok=blank_ok),
        "status": choice("status", models.STATUSES, blank_ok=blank_ok),
    }


def bad(name: str, expected: str) -> Problem:
    return Problem(
        400,
        "invalid-request",
        f"query parameter {name}: {expected}",
        errors=[{"parameter": name, "detail": expected}],
    )


def install(app: Flask, allowed: Callable[[], Mapping[tuple[str, str], frozenset[str]]]) -> None:
    """Refuse query parameters a route does not declare: a mistyped filter must not match all.

    ``allowed()`` maps (OpenAPI path, method) to its query parameter names; it is asked once, on
    the first request with a query. The sink and the vendor resources are left alone: consumers
    may add their own parameters to those URLs.
    """
    table: dict[tuple[str, str], frozenset[str]] = {}

    @app.before_request
    def _known_only() -> None:
        rule = request.url_rule
        if rule is None or not request.args or rule.rule.startswith(("/sink/", "/vendors/")):
            return
        if not table:
            table.update(allowed())
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        method = "get" if request.method == "HEAD" else request.method.lower()
        known = table.get((path, method), frozenset())
        unknown = sorted(set(request.args) - known)
        if unknown:
            valid = ", ".join(sorted(known)) or "none"
            raise Problem(
                400,
                "invalid-request",
                f"unknown query parameter {unknown[0]!r}; this route takes: {valid}",
                errors=[{"parameter": name, "detail": "unknown parameter"} for name in unknown],
            )
