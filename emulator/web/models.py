"""JSON Schemas of the control API's requests and responses: validation and OpenAPI use the same.

Request schemas are self-contained (no ``$ref``) so that one validator checks a request with
exactly what the document promises; every JSON value that passes them is accepted.
"""

from __future__ import annotations

from typing import Any

from emulator.core import catalogue
from emulator.core.policy import FINAL, PENDING
from emulator.readers import library

MAX_ID = 2**63 - 1
MAX_SEED = 2**31 - 1
STATUSES = [PENDING, *FINAL]
RUN_STATES = ["running", "done", "interrupted", "failed"]
VENDOR_SLUGS = list(catalogue.VENDORS)
SCENARIO_NAME_PATTERN = library.NAME.pattern
CURSOR_PATTERN = r"^[1-9][0-9]{0,17}$"
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})"
_PCHARS = r"A-Za-z0-9._~!$&'()*+,;=:@%/-"
# An http(s) URL with a host name or IPv4 address: what the delivery settings accept as a target.
URL_PATTERN = (
    rf"^https?://[A-Za-z0-9][A-Za-z0-9.-]{{0,252}}(:{_PORT})?(/[{_PCHARS}]*)?(\?[{_PCHARS}?]*)?$"
)

ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TIME = {"type": "string", "format": "date-time"}
URL = {"type": "string", "pattern": URL_PATTERN, "maxLength": 2048}
SEED = {"type": "integer", "minimum": 0, "maximum": MAX_SEED}
TIME_SCALE = {
    "type": "number",
    "minimum": 0,
    "maximum": 1000,
    "description": "multiplies every vendor delay and retry interval (0.001 in CI)",
}
HEADERS = {"type": "object", "additionalProperties": {"type": "string"}}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


PROBLEM = _object(
    ["type", "title", "status", "detail", "instance"],
    type={"type": "string", "minLength": 1},
    title={"type": "string"},
    status={"type": "integer", "minimum": 400, "maximum": 599},
    detail={"type": "string"},
    instance={"type": "string"},
    errors={
        "type": "array",
        "items": _object(
            ["detail"],
            detail={"type": "string"},
            pointer={"type": "string", "description": "where in the body (JSON Pointer)"},
            parameter={"type": "string", "description": "which query parameter"},
        ),
    },
)
HEALTH = _object(["status", "version"], status={"const": "ok"}, version={"type": "string"})
READY = _object(
    ["status", "version", "active_runs"],
    status={"const": "ready"},
    version={"type": "string"},
    active_runs={"type": "integer", "minimum": 0},
)
COUNT = {"type": "integer", "minimum": 0}
PROGRESS = _object(
    ["total", *STATUSES, "attempts"], total=COUNT, attempts=COUNT, **dict.fromkeys(STATUSES, COUNT)
)
PLAN = _object(
    ["planned", "complete", "planning"],
    planned={**COUNT, "description": "deliveries of the run's plan stored so far"},
    complete={"type": "boolean", "description": "the whole plan is stored"},
    planning={"type": "boolean", "description": "the run's process is still planning it"},
)
RUN = _object(
    ["id", "name", "created_at", "source", "state", "targets", "progress", "plan"],
    id=ID,
    name={"type": "string"},
    created_at=TIME,
    source=nullable({"type": "string"}),
    state={"enum": RUN_STATES},
    targets={
        "type": "object",
        "propertyNames": {"enum": VENDOR_SLUGS},
        "additionalProperties": {"type": "string"},
    },
    progress=PROGRESS,
    plan=PLAN,
    error={"type": "string", "description": "why the run failed (state failed), if known"},
)
_DELIVERY_PROPERTIES: dict[str, Any] = {
    "id": ID,
    "run_id": ID,
    "vendor": {"enum": VENDOR_SLUGS},
    "event_type": {"type": "string"},
    "coupon_key": {"type": "string"},
    "dedupe_keys": {"type": "array", "items": {"type": "string"}},
    "label": {"type": "string"},
    "status": {"enum": STATUSES},
    "attempt_count": COUNT,
    "last_status": nullable({"type": "integer"}),
    "last_error": nullable({"type": "string"}),
    "due_at": TIME,
    "created_at": TIME,
    "updated_at": TIME,
}
DELIVERY = _object(list(_DELIVERY_PROPERTIES), **_DELIVERY_PROPERTIES)
ATTEMPT = _object(
    [
        "delivery_id", "number", "started_at", "duration_ms", "method", "url", "request_headers",
        "status", "response_headers", "response_body", "error", "outcome",
    ],
    delivery_id=ID,
    number={"type": "integer", "minimum": 0, "description": "0: the verification GET"},
    started_at=TIME,
    duration_ms={"type": "number", "minimum": 0},
    method={"type": "string"},
    url={"type": "string"},
    request_headers={**HEADERS, "description": "as sent, secrets replaced by [redacted]"},
    status=nullable({"type": "integer"}),
    response_headers=nullable(HEADERS),
    response_body=nullable({"type": "string"}),
    error=nullable({"type": "string"}),
    outcome={
        "enum": [*STATUSES, "verified", "resent"],
        "description": "pending: a retry was scheduled; resent: sent again at once, in the same "
        "try (a Digest challenge answered, a closed kept-alive connection); verified: the "
        "verification GET was answered 200",
    },
)  # fmt: skip
DELIVERY_DETAIL = _object(
    [*_DELIVERY_PROPERTIES, "body", "attempts"],
    **_DELIVERY_PROPERTIES,
    body={"type": "string", "description": "the exact request body, as UTF-8 text"},
    attempts={"type": "array", "items": ATTEMPT},
)


def page(item: dict[str, Any]) -> dict[str, Any]:
    return _object(
        ["items", "next_cursor"],
        items={"type": "array", "items": item},
        next_cursor=nullable({"type": "string", "pattern": CURSOR_PATTERN}),
    )


EVENT_ACCEPTED = _object(
    ["run", "delivery", "seed", "schema_errors"],
    run=RUN,
    delivery=DELIVERY,
    seed=SEED,
    schema_errors={
        "type": "array",
        "items": {"type": "string"},
        "description": "how the body breaks its event type's schema after the overrides",
    },
)
RUN_ACCEPTED = _object(
    ["run", "seed", "deliveries"],
    run=RUN,
    seed=SEED,
    deliveries={
        "type": "string",
        "description": "where to list the run's deliveries; they are planned and stored after "
        "this answer, so run.progress.total grows until the plan is stored (run.plan tells how "
        "far planning has got)",
    },
)
RESEND_ACCEPTED = _object(["run_id", "resent"], run_id=ID, resent={"type": "array", "items": ID})
SCENARIOS = _object(
    ["items"],
    items={"type": "array", "items": {"type": "string", "pattern": SCENARIO_NAME_PATTERN}},
)
TARGETS = {
    "type": "object",
    "properties": {slug: URL for slug in VENDOR_SLUGS},
    "additionalProperties": False,
    "description": "vendor -> consumer URL; the auth configured for that vendor stays",
}
RUN_REQUEST = {
    **_object(
        [],
        scenario={"type": "string", "pattern": SCENARIO_NAME_PATTERN,
                  "description": "a shipped scenario's name (GET /api/scenarios)"},
        yaml={"type": "string", "minLength": 1, "maxLength": 100_000,
              "description": "a scenario (flows:) or an event list (events:) as YAML text"},
        seed=SEED,
        targets=TARGETS,
        time_scale=TIME_SCALE,
    ),
    "oneOf": [{"required": ["scenario"]}, {"required": ["yaml"]}],
}  # fmt: skip

# One branch per vendor, so that a vendor only ever meets its own event types.
EVENT_REQUEST = {
    "oneOf": [
        _object(
            ["vendor", "event_type"],
            vendor={"const": slug},
            event_type={"enum": [et.name for et in catalogue.event_types(slug)]},
            overrides={
                "type": "object",
                "description": "a JSON Merge Patch (RFC 7396) applied to the built body",
            },
            seed=SEED,
            target=URL,
            time_scale=TIME_SCALE,
        )
        for slug in catalogue.VENDORS
    ]
}
