"""The outbox's records: a delivery to store, a stored one, an attempt and a delivery's new state,
and how each maps to and from its SQLite row."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class NewDelivery:
    """A request body to store: the wire bytes and the keys a consumer dedupes it on."""

    vendor: str
    event_type: str
    coupon_key: str
    dedupe_keys: tuple[str, ...]
    body: bytes
    due_at: float
    label: str = ""


@dataclass
class Delivery:
    """A stored delivery as the dispatcher works on it."""

    id: int
    run_id: int
    vendor: str
    event_type: str
    coupon_key: str
    dedupe_keys: tuple[str, ...]
    body: bytes
    due_at: float
    attempts: int = 0
    retry_counts: dict[str, int] = field(default_factory=dict)
    label: str = ""


DELIVERY_COLUMNS = (
    "id, run_id, vendor, event_type, coupon_key, dedupe_keys, body, due_at, attempts,"
    " retry_counts, label"
)


def delivery_from_row(row: Sequence[Any]) -> Delivery:
    """A ``Delivery`` from a row selected as ``DELIVERY_COLUMNS``."""
    return Delivery(
        id=row[0],
        run_id=row[1],
        vendor=row[2],
        event_type=row[3],
        coupon_key=row[4],
        dedupe_keys=tuple(json.loads(row[5])),
        body=bytes(row[6]),
        due_at=row[7],
        attempts=row[8],
        retry_counts=json.loads(row[9]),
        label=row[10],
    )


# An attempt row as every reader selects it (the table aliased ``a``), for ``attempt_record``.
ATTEMPT_COLUMNS = (
    "a.delivery_id, a.number, a.started_at, a.duration_ms, a.method, a.url, a.request_headers,"
    " a.status, a.response_headers, a.response_body, a.error, a.outcome"
)


def attempt_record(row: Sequence[Any]) -> dict[str, Any]:
    """A logged attempt as reports and the API show it, from a row selected as ``ATTEMPT_COLUMNS``."""
    return {
        "number": row[1],
        "started_at": row[2],
        "duration_ms": round(row[3], 3),
        "method": row[4],
        "url": row[5],
        "request_headers": json.loads(row[6]),
        "status": row[7],
        "response_headers": None if row[8] is None else json.loads(row[8]),
        "response_body": row[9],
        "error": row[10],
        "outcome": row[11],
    }


@dataclass(frozen=True)
class Attempt:
    """One HTTP attempt, as logged (request headers already redacted)."""

    delivery_id: int
    number: int
    started_at: float
    duration_ms: float
    method: str
    url: str
    request_headers: Mapping[str, str]
    status: int | None
    response_headers: Mapping[str, str] | None
    response_body: str | None
    error: str | None
    outcome: str


@dataclass(frozen=True)
class Update:
    """A delivery's new state after an attempt."""

    delivery_id: int
    status: str
    attempts: int
    retry_counts: Mapping[str, int]
    due_at: float
    last_status: int | None
    last_error: str | None
