"""Read-only queries over the outbox for the API, the dashboard and the vendor resources.

A connection of its own (SQLite in WAL mode lets it read while the dispatchers write), so pages
and filters never wait on the outbox's write lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from emulator.core.auth import REDACTED
from emulator.core.policy import FINAL, PENDING
from emulator.delivery.lease import owner_of
from emulator.delivery.records import ATTEMPT_COLUMNS, attempt_record

MAX_ID = 2**63 - 1  # SQLite's INTEGER; a larger id cannot exist
# Query parameters that carry credentials in some consumers' webhook URLs.
_SECRET_PARAMS = ("token", "key", "secret", "signature", "sig", "password", "auth", "code")
STATUSES = (PENDING, *FINAL)
# A run's row as the API shows it; the last two: deliveries of its plan stored so far, and
# whether that is all of it (a run with no plan identity is stored whole before it starts).
_RUN_COLUMNS = (
    "id, name, created_at, source, state, settings, owner_pid, owner_host, heartbeat_at,"
    " planned, plan IS NULL OR plan_total IS NOT NULL"
)


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def iso(ts: float | None) -> str | None:
    """Epoch seconds as RFC 3339 in UTC with milliseconds, as every time in the API."""
    if ts is None:
        return None
    at = datetime.fromtimestamp(ts, UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def safe_url(url: str) -> str:
    """``url`` with the values of credential-like query parameters replaced by ``[redacted]``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    pairs = [
        (k, REDACTED if any(s in k.lower() for s in _SECRET_PARAMS) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    return urlunsplit(parts._replace(query=urlencode(pairs, safe="[]")))


class Queries:
    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.execute("PRAGMA query_only=ON")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def ping(self) -> None:
        self._all("SELECT 1 FROM runs LIMIT 1", ())

    # Runs

    def runs(self, limit: int, cursor: int | None = None) -> Page:
        rows = self._all(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE id < ? ORDER BY id DESC LIMIT ?",
            (_below(cursor), limit + 1),
        )
        items = [self._run(r) for r in rows[:limit]]
        self._add_progress(items)
        return _page(items, rows, limit)

    def run(self, run_id: int) -> dict[str, Any] | None:
        if not 0 < run_id <= MAX_ID:
            return None
        rows = self._all(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?",
            (run_id,),
        )
        if not rows:
            return None
        item = self._run(rows[0])
        self._add_progress([item])
        return item

    @staticmethod
    def _run(r: Sequence[Any]) -> dict[str, Any]:
        try:
            vendors = json.loads(r[5]).get("vendors") or {}
        except (ValueError, AttributeError):
            vendors = {}
        targets = {
            slug: safe_url(entry["target"])
            for slug, entry in sorted(vendors.items())
            if isinstance(entry, dict) and isinstance(entry.get("target"), str)
        }
        # The stored settings may hold literal secrets; only the target URLs ever leave.
        state = _state(r[4], owner_of(r[6:9]))
        complete = bool(r[10])
        return {
            "id": r[0],
            "name": r[1],
            "created_at": iso(r[2]),
            "source": r[3],
            "state": state,
            "targets": targets,
            # Planning progress: a long plan is stored chunk by chunk while delivery goes on.
            "plan": {
                "planned": r[9],
                "complete": complete,
                "planning": state == "running" and not complete,
            },
        }

    def _add_progress(self, items: list[dict[str, Any]]) -> None:
        if not items:
            return
        ids = [i["id"] for i in items]
        marks = ",".join("?" * len(ids))
        # A run's attempts are its deliveries' attempt counts added up, so the two agree: the
        # verification GETs and breaker pings logged beside them are requests, not tries of a
        # delivery (a delivery held by a failed GET has 0 attempts and 1 logged request).
        counts = self._all(
            "SELECT run_id, status, COUNT(*), SUM(attempts) FROM deliveries"
            f" WHERE run_id IN ({marks}) GROUP BY run_id, status",
            ids,
        )
        by_run: dict[int, dict[str, int]] = {i: dict.fromkeys(STATUSES, 0) for i in ids}
        attempts: dict[int, int] = {}
        for run_id, status, n, tries in counts:
            by_run[run_id][status] = n
            attempts[run_id] = attempts.get(run_id, 0) + (tries or 0)
        for item in items:
            c = by_run[item["id"]]
            item["progress"] = {
                "total": sum(c.values()),
                **c,
                "attempts": attempts.get(item["id"], 0),
            }

    def requests(self, run_id: int, limit: int) -> list[tuple[str, float, str, float]]:
        """The run's logged requests, oldest first: ``(vendor, started_at, outcome, duration_ms)``
        (verification GETs included), what its charts draw."""
        return [
            (r[0], r[1], r[2], r[3])
            for r in self._all(
                "SELECT d.vendor, a.started_at, a.outcome, a.duration_ms FROM attempts a"
                " JOIN deliveries d ON d.id = a.delivery_id WHERE d.run_id = ?"
                " ORDER BY a.id LIMIT ?",
                (run_id, limit),
            )
        ]

    def request_count(self, run_id: int) -> int:
        rows = self._all(
            "SELECT COUNT(*) FROM attempts a JOIN deliveries d ON d.id = a.delivery_id"
            " WHERE d.run_id = ?",
            (run_id,),
        )
        return int(rows[0][0])

    def attempt_tally(self, run_id: int) -> dict[tuple[int, str], int]:
        """``{(attempts, status): deliveries}`` of a run."""
        rows = self._all(
            "SELECT attempts, status, COUNT(*) FROM deliveries WHERE run_id = ?"
            " GROUP BY attempts, status",
            (run_id,),
        )
        return {(r[0], r[1]): r[2] for r in rows}

    def failed(self, run_id: int) -> list[int]:
        rows = self._all(
            "SELECT id FROM deliveries WHERE run_id = ? AND status IN ('failed', 'exhausted')"
            " ORDER BY id",
            (run_id,),
        )
        return [r[0] for r in rows]

    def statuses(self, run_id: int, delivery_ids: Sequence[int]) -> dict[int, str]:
        """The status of each of ``delivery_ids`` that belongs to run ``run_id``."""
        found: dict[int, str] = {}
        ids = [i for i in delivery_ids if 0 < i <= MAX_ID]
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._all(
                f"SELECT id, status FROM deliveries WHERE run_id = ? AND id IN ({marks})",
                (run_id, *chunk),
            )
            found.update(dict(rows))
        return found

    # Deliveries

    def deliveries(
        self,
        *,
        limit: int,
        cursor: int | None = None,
        run: int | None = None,
        vendor: str | None = None,
        event_type: str | None = None,
        status: str | None = None,
    ) -> Page:
        where, params = ["id < ?"], [_below(cursor)]
        for column, value in (
            ("run_id", run),
            ("vendor", vendor),
            ("event_type", event_type),
            ("status", status),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        rows = self._all(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE {' AND '.join(where)}"
            " ORDER BY id DESC LIMIT ?",
            (*params, limit + 1),
        )
        return _page([_delivery(r) for r in rows[:limit]], rows, limit)

    def delivery(self, delivery_id: int, *, detail: bool = False) -> dict[str, Any] | None:
        """One delivery; ``detail`` adds its body (as text) and its attempts."""
        if not 0 < delivery_id <= MAX_ID:
            return None
        rows = self._all(
            f"SELECT {_DELIVERY_COLUMNS}, body FROM deliveries WHERE id = ?", (delivery_id,)
        )
        if not rows:
            return None
        item = _delivery(rows[0])
        if detail:
            item["body"] = bytes(rows[0][-1]).decode("utf-8", errors="replace")
            item["attempts"] = self.attempts(delivery_id)
        return item

    def body(self, delivery_id: int) -> bytes | None:
        if not 0 < delivery_id <= MAX_ID:
            return None
        rows = self._all("SELECT body FROM deliveries WHERE id = ?", (delivery_id,))
        return bytes(rows[0][0]) if rows else None

    def attempts(self, delivery_id: int) -> list[dict[str, Any]]:
        rows = self._all(
            f"SELECT {ATTEMPT_COLUMNS} FROM attempts a WHERE a.delivery_id = ? ORDER BY a.id",
            (delivery_id,),
        )
        return [
            {
                "delivery_id": a[0],
                **attempt_record(a),
                "started_at": iso(a[2]),
                "url": safe_url(a[5]),
            }
            for a in rows
        ]

    # What the vendor resources are built from

    def happened(
        self, vendor: str, needle: str, now: float, type_prefix: str = ""
    ) -> Iterator[bytes]:
        """Bodies of ``vendor`` containing ``needle``, oldest first, of events that have happened.

        An event has happened once it is due or has been attempted: a scenario's future event is
        not yet part of the coupon's state, as it would not be at the vendor.
        """
        rows = self._all(
            "SELECT body FROM deliveries WHERE vendor = ? AND event_type LIKE ? ESCAPE '\\'"
            " AND instr(CAST(body AS TEXT), ?) > 0"
            " AND (status != 'pending' OR attempts > 0 OR due_at <= ?)"
            " ORDER BY id LIMIT 10000",
            (vendor, _like_prefix(type_prefix), needle, now),
        )
        for r in rows:
            yield bytes(r[0])

    def _all(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()


_DELIVERY_COLUMNS = (
    "id, run_id, vendor, event_type, coupon_key, dedupe_keys, label, status, attempts,"
    " last_status, last_error, due_at, created_at, updated_at"
)


def _delivery(r: Sequence[Any]) -> dict[str, Any]:
    return {
        "id": r[0],
        "run_id": r[1],
        "vendor": r[2],
        "event_type": r[3],
        "coupon_key": r[4],
        "dedupe_keys": json.loads(r[5]),
        "label": r[6],
        "status": r[7],
        "attempt_count": r[8],
        "last_status": r[9],
        "last_error": r[10],
        "due_at": iso(r[11]),
        "created_at": iso(r[12]),
        "updated_at": iso(r[13]),
    }


def _state(stored: str, owner: Any) -> str:
    """A run's state as it is now: "running" while a live process owns it (whichever process),
    "interrupted" when it says running but its process is gone."""
    if owner is not None and owner.live(time.time()):
        return "running"
    return "interrupted" if stored == "running" else stored


def _below(cursor: int | None) -> int:
    return MAX_ID if cursor is None else min(cursor, MAX_ID)


def _page(items: list[dict[str, Any]], rows: list[Any], limit: int) -> Page:
    more = len(rows) > limit
    return Page(items, str(items[-1]["id"]) if more and items else None)


def _like_prefix(prefix: str) -> str:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"
