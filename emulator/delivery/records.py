"""The outbox's records: a delivery to store, a stored one, an attempt and a delivery's new state,
and how each maps to and from its SQLite row."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
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
    events: int = 1  # planned events it carries (a batch: several); counted, not stored

    def row(self) -> tuple:
        """Its fields in order, ``NewDelivery(*row)`` again: what crosses a pipe (``marshal``)."""
        return (self.vendor, self.event_type, self.coupon_key, self.dedupe_keys, self.body,
                self.due_at, self.label, self.events)  # fmt: skip


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


def result_rows(
    results: Iterable[tuple[Attempt | None, Update | None]], now: float
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The ``attempts`` rows to insert and the ``deliveries`` updates to apply (``Outbox.record``),
    updates stamped ``now``."""
    attempt_rows = []
    update_rows = []
    # Request after request carries the same headers (redacted) and answers with the same ones:
    # each distinct set is written as JSON once per call.
    texts: dict[tuple[tuple[str, Any], ...], str] = {}

    def text(mapping: Mapping[str, Any]) -> str:
        key = tuple(mapping.items())
        out = texts.get(key)
        if out is None:
            out = texts[key] = json.dumps(dict(mapping))
        return out

    for a, u in results:
        if a is not None:
            attempt_rows.append(
                (
                    a.delivery_id,
                    a.number,
                    a.started_at,
                    a.duration_ms,
                    a.method,
                    a.url,
                    text(a.request_headers),
                    a.status,
                    None if a.response_headers is None else text(a.response_headers),
                    a.response_body,
                    a.error,
                    a.outcome,
                )
            )
        if u is not None:
            update_rows.append(
                (
                    u.status,
                    u.attempts,
                    text(u.retry_counts),
                    u.due_at,
                    u.last_status,
                    u.last_error,
                    now,
                    u.delivery_id,
                )
            )
    return attempt_rows, update_rows
