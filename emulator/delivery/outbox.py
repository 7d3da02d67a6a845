"""The durable outbox: every event is stored in SQLite before it is sent; every attempt is logged.

Writes are grouped in transactions for speed; an event is committed before any attempt to send it,
so a killed run loses no accepted event and ``resume`` finishes what it left pending. The settings
of a run are stored as given (``${VAR}`` unexpanded), so secrets stay in the environment.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from emulator.core.auth import scrub_settings
from emulator.core.policy import FINAL, PENDING
from emulator.delivery.records import (
    ATTEMPT_COLUMNS,
    DELIVERY_COLUMNS,
    Attempt,
    Delivery,
    NewDelivery,
    Update,
    attempt_record,
    delivery_from_row,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  REAL NOT NULL,
    settings    TEXT NOT NULL,
    source      TEXT,
    state       TEXT NOT NULL DEFAULT 'running'
);
CREATE TABLE IF NOT EXISTS deliveries (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs(id),
    vendor       TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    coupon_key   TEXT NOT NULL,
    dedupe_keys  TEXT NOT NULL,
    body         BLOB NOT NULL,
    label        TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    retry_counts TEXT NOT NULL DEFAULT '{}',
    due_at       REAL NOT NULL,
    last_status  INTEGER,
    last_error   TEXT,
    created_at   REAL NOT NULL,
    updated_at   REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries(run_id, due_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS deliveries_by_run ON deliveries(run_id, status);
CREATE TABLE IF NOT EXISTS attempts (
    id               INTEGER PRIMARY KEY,
    delivery_id      INTEGER NOT NULL REFERENCES deliveries(id),
    number           INTEGER NOT NULL,
    started_at       REAL NOT NULL,
    duration_ms      REAL NOT NULL,
    method           TEXT NOT NULL,
    url              TEXT NOT NULL,
    request_headers  TEXT NOT NULL,
    status           INTEGER,
    response_headers TEXT,
    response_body    TEXT,
    error            TEXT,
    outcome          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attempts_by_delivery ON attempts(delivery_id);
"""

RESPONSE_BODY_LIMIT = 4096


class Outbox:
    """One SQLite file; safe to share between threads (one connection, serialised by a lock)."""

    def __init__(self, path: str | Path, clock=time.time) -> None:
        self.path = str(path)
        self.clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a killed process; only a power cut may lose the last commits.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Runs

    def create_run(self, name: str, settings: Mapping[str, Any], source: str | None = None) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO runs (name, created_at, settings, source) VALUES (?, ?, ?, ?)",
                # Stored as written (${VAR}), literal secrets replaced: never in clear on disk.
                (name, self.clock(), json.dumps(scrub_settings(settings)), source),
            )
            return int(cur.lastrowid)

    def run(self, run_id: int) -> dict[str, Any]:
        row = self._one(
            "SELECT id, name, created_at, settings, source, state FROM runs WHERE id = ?", (run_id,)
        )
        if row is None:
            raise LookupError(f"no run {run_id} in {self.path}")
        return {
            "id": row[0],
            "name": row[1],
            "created_at": row[2],
            "settings": json.loads(row[3]),
            "source": row[4],
            "state": row[5],
        }

    def set_run_state(self, run_id: int, state: str) -> None:
        with self._lock:
            self._db.execute("UPDATE runs SET state = ? WHERE id = ?", (state, run_id))

    def unfinished_runs(self) -> list[int]:
        """Runs that still hold pending deliveries (a killed run, or one never dispatched)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT run_id FROM deliveries WHERE status = 'pending' ORDER BY run_id"
            ).fetchall()
        return [r[0] for r in rows]

    # Deliveries

    def enqueue(self, run_id: int, items: Sequence[NewDelivery]) -> list[Delivery]:
        """Store ``items`` in one transaction; they are durable when this returns."""
        now = self.clock()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                # Inside the write transaction no one else can insert: number the rows ourselves
                # and insert them in one executemany, far cheaper than a statement per row.
                first = self._db.execute(
                    "SELECT COALESCE(MAX(id), 0) + 1 FROM deliveries"
                ).fetchone()[0]
                self._db.executemany(
                    "INSERT INTO deliveries (id, run_id, vendor, event_type, coupon_key, dedupe_keys,"
                    " body, label, due_at, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (first + i, run_id, d.vendor, d.event_type, d.coupon_key,
                         json.dumps(d.dedupe_keys), d.body, d.label, d.due_at, now, now)
                        for i, d in enumerate(items)
                    ],
                )  # fmt: skip
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return [
            Delivery(
                id=first + i,
                run_id=run_id,
                vendor=d.vendor,
                event_type=d.event_type,
                coupon_key=d.coupon_key,
                dedupe_keys=d.dedupe_keys,
                body=d.body,
                due_at=d.due_at,
                label=d.label,
            )
            for i, d in enumerate(items)
        ]

    def pending(self, run_id: int, page: int = 1000) -> Iterator[Delivery]:
        """The run's pending deliveries in due order, read in pages so memory stays flat."""
        last_due, last_id = float("-inf"), 0
        while True:
            with self._lock:
                rows = self._db.execute(
                    f"SELECT {DELIVERY_COLUMNS} FROM deliveries"
                    " WHERE run_id = ? AND status = 'pending' AND (due_at, id) > (?, ?)"
                    " ORDER BY due_at, id LIMIT ?",
                    (run_id, last_due, last_id, page),
                ).fetchall()
            if not rows:
                return
            for r in rows:
                yield delivery_from_row(r)
            last_due, last_id = rows[-1][7], rows[-1][0]

    def record(self, results: Iterable[tuple[Attempt | None, Update | None]]) -> None:
        """Log attempts and apply the deliveries' new states, all in one transaction.

        An update without an attempt is a delivery settled without a request of its own; an
        attempt without an update changed no delivery's state (a passed verification request).
        """
        now = self.clock()
        attempt_rows = []
        update_rows = []
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
                        json.dumps(dict(a.request_headers)),
                        a.status,
                        None
                        if a.response_headers is None
                        else json.dumps(dict(a.response_headers)),
                        a.response_body,
                        a.error,
                        a.outcome,
                    )
                )
            if u is None:
                continue
            update_rows.append(
                (
                    u.status,
                    u.attempts,
                    json.dumps(dict(u.retry_counts)),
                    u.due_at,
                    u.last_status,
                    u.last_error,
                    now,
                    u.delivery_id,
                )
            )
        if not update_rows and not attempt_rows:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO attempts (delivery_id, number, started_at, duration_ms, method, url,"
                    " request_headers, status, response_headers, response_body, error, outcome)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    attempt_rows,
                )
                self._db.executemany(
                    "UPDATE deliveries SET status = ?, attempts = ?, retry_counts = ?, due_at = ?,"
                    " last_status = ?, last_error = ?, updated_at = ? WHERE id = ?",
                    update_rows,
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def mark(self, delivery_ids: Iterable[int], status: str, error: str | None = None) -> None:
        """Set deliveries final without an attempt (e.g. a target that failed verification)."""
        now = self.clock()
        with self._lock:
            self._db.executemany(
                "UPDATE deliveries SET status = ?, last_error = ?, updated_at = ? WHERE id = ?",
                [(status, error, now, i) for i in delivery_ids],
            )

    def reset_for_resend(self, delivery_id: int, due_at: float) -> Delivery:
        """Put a delivery back to pending, same body and dedupe keys, to be sent again."""
        with self._lock:
            self._db.execute(
                "UPDATE deliveries SET status = 'pending', retry_counts = '{}', due_at = ?,"
                " updated_at = ? WHERE id = ?",
                (due_at, self.clock(), delivery_id),
            )
        row = self._one(f"SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?", (delivery_id,))
        if row is None:
            raise LookupError(f"no delivery {delivery_id} in {self.path}")
        return delivery_from_row(row)

    # Reading back

    def counts(self, run_id: int) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute(
                "SELECT status, COUNT(*) FROM deliveries WHERE run_id = ? GROUP BY status",
                (run_id,),
            ).fetchall()
        counts = dict.fromkeys((PENDING, *FINAL), 0)
        counts.update(dict(rows))
        return counts

    def deliveries(self, run_id: int) -> list[dict[str, Any]]:
        """Every delivery of a run with its attempts, for reports."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, vendor, event_type, coupon_key, dedupe_keys, label, status, attempts,"
                " last_status, last_error FROM deliveries WHERE run_id = ? ORDER BY id",
                (run_id,),
            ).fetchall()
            attempts = self._db.execute(
                f"SELECT {ATTEMPT_COLUMNS}"
                " FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.run_id = ?"
                " ORDER BY a.delivery_id, a.number",
                (run_id,),
            ).fetchall()
        by_delivery: dict[int, list[dict[str, Any]]] = {}
        for a in attempts:
            by_delivery.setdefault(a[0], []).append(attempt_record(a))
        return [
            {
                "id": r[0],
                "vendor": r[1],
                "event_type": r[2],
                "coupon_key": r[3],
                "dedupe_keys": json.loads(r[4]),
                "label": r[5],
                "status": r[6],
                "attempt_count": r[7],
                "last_status": r[8],
                "last_error": r[9],
                "attempts": by_delivery.get(r[0], []),
            }
            for r in rows
        ]

    def body(self, delivery_id: int) -> bytes:
        row = self._one("SELECT body FROM deliveries WHERE id = ?", (delivery_id,))
        if row is None:
            raise LookupError(f"no delivery {delivery_id} in {self.path}")
        return bytes(row[0])

    def _one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        with self._lock:
            return self._db.execute(sql, params).fetchone()
