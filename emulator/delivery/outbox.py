"""The durable outbox: every event is stored in SQLite before it is sent; every attempt is logged.

Writes are grouped in transactions for speed; an event is committed before any attempt to send it.
A run's plan is stored in chunks as delivery goes on, each chunk numbered on from the run's
``planned`` count and committed with it and the digest of everything stored so far, so the stored
part of a plan is always a whole prefix that ``resume`` can check and continue (see
``emulator.delivery.runner``). The settings of a run are stored as given (``${VAR}``
unexpanded), so secrets stay in the environment.
"""

from __future__ import annotations

import contextlib
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
    result_rows,
)
from emulator.delivery.schema import check_file, create

RESPONSE_BODY_LIMIT = 4096
MAX_ID = 2**63 - 1
PAGE_SIZE = 16384  # bytes, for a new file
CHECKPOINT_BYTES = 64 << 20  # the write-ahead log is folded into the file at this size


class Outbox:
    """One SQLite file; safe to share between threads (one connection, serialised by a lock)."""

    def __init__(self, path: str | Path, clock=time.time) -> None:
        self.path = str(path)
        self.clock = clock
        self._lock = threading.Lock()
        check_file(self.path)  # an existing file that is something else is never made an outbox
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        # Pages of 16 KiB rather than 4 (a new file only; a file keeps the size it was made
        # with): a delivery's row holds its body, and each attempt rewrites that row's page in
        # the log; bigger pages hold several bodies, so SQLite makes a quarter of the reads and
        # writes (the kernel's time in a 20,000-event run fell by a third).
        self._db.execute(f"PRAGMA page_size={PAGE_SIZE}")
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a killed process; only a power cut may lose the last commits.
        self._db.execute("PRAGMA synchronous=NORMAL")
        # A checkpoint (copying the log into the file, with two fsyncs) every 64 MiB of log
        # rather than every 4 MiB: a 20,000-event run spent a fifth of its time in them. How
        # often says nothing about what survives a kill: a commit is in the log either way.
        page = self._db.execute("PRAGMA page_size").fetchone()[0]
        self._db.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_BYTES // page}")
        self._db.execute("PRAGMA busy_timeout=10000")
        create(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Runs

    def create_run(
        self,
        name: str,
        settings: Mapping[str, Any],
        source: str | None = None,
        *,
        plan: Mapping[str, Any] | None = None,
        owner: tuple[int, str] | None = None,
    ) -> int:
        """A new run; with ``plan`` (what re-derives it) its plan may be stored as it goes, and
        with ``owner`` (pid, host) it is leased to that process from its first instant."""
        now = self.clock()
        pid, host = owner if owner is not None else (None, None)
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO runs (name, created_at, settings, source, plan, owner_pid, owner_host,"
                " heartbeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                # Stored as written (${VAR}), literal secrets replaced: never in clear on disk.
                (name, now, json.dumps(scrub_settings(settings)), source,
                 None if plan is None else json.dumps(plan), pid, host,
                 None if owner is None else now),
            )  # fmt: skip
            return int(cur.lastrowid)

    def run(self, run_id: int) -> dict[str, Any]:
        row = self._one(
            "SELECT id, name, created_at, settings, source, state, plan, planned, plan_digest,"
            " plan_total, owner_pid, owner_host, heartbeat_at FROM runs WHERE id = ?",
            (run_id,),
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
            "plan": None if row[6] is None else json.loads(row[6]),
            "planned": row[7],
            "plan_digest": row[8],
            # A run without a plan identity was stored whole before it was delivered.
            "plan_complete": row[6] is None or row[9] is not None,
            "owner": row[10:13],  # pid, host, heartbeat (emulator.delivery.lease)
        }

    def schedule(self, run_id: int) -> tuple[float, float]:
        """``(offset, factor)``: the run's due times are ``offset + factor * planned`` (``(0, 1)``
        until a resume at another time scale re-times them; ``retime``)."""
        row = self._one("SELECT schedule_offset, schedule_factor FROM runs WHERE id = ?", (run_id,))
        if row is None:
            raise LookupError(f"no run {run_id} in {self.path}")
        return float(row[0]), float(row[1])

    def retime(self, run_id: int, now: float, ratio: float) -> None:
        """Multiply by ``ratio`` every wait of the run still ahead of ``now`` (its pending
        deliveries: events not yet due, retries scheduled) and record it in the run's schedule,
        so what is planned later is re-timed alike; in one transaction."""
        with self.immediate() as db:
            db.execute(
                "UPDATE deliveries SET due_at = ? + (due_at - ?) * ?"
                " WHERE run_id = ? AND status = 'pending' AND due_at > ?",
                (now, now, ratio, run_id, now),
            )
            db.execute(
                "UPDATE runs SET schedule_offset = ? + (schedule_offset - ?) * ?,"
                " schedule_factor = schedule_factor * ? WHERE id = ?",
                (now, now, ratio, ratio, run_id),
            )

    def finish_plan(self, run_id: int, total: int) -> None:
        """Record that the whole plan, ``total`` deliveries, is stored."""
        with self._lock:
            self._db.execute(
                "UPDATE runs SET plan_total = ? WHERE id = ? AND planned = ?",
                (total, run_id, total),
            )

    @contextlib.contextmanager
    def immediate(self) -> Iterator[sqlite3.Connection]:
        """A write transaction of its own (no other writer meanwhile), for a read-then-write."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def set_run_state(self, run_id: int, state: str) -> None:
        with self._lock:
            self._db.execute("UPDATE runs SET state = ? WHERE id = ?", (state, run_id))

    def unfinished_runs(self) -> list[int]:
        """Runs that still hold pending deliveries or whose plan is not wholly stored (a killed
        or stopped run, or one never dispatched)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT run_id FROM deliveries WHERE status = 'pending'"
                " UNION SELECT id FROM runs WHERE plan IS NOT NULL AND plan_total IS NULL"
                " ORDER BY 1"
            ).fetchall()
        return [r[0] for r in rows]

    # Deliveries

    def enqueue(
        self,
        run_id: int,
        items: Sequence[NewDelivery],
        *,
        after: int | None = None,
        digest: str | None = None,
    ) -> list[Delivery]:
        """Store ``items`` in one transaction; they are durable when this returns.

        They are numbered on from the run's ``planned`` count, which grows with them in the same
        transaction (with the plan's ``digest`` so far, when given). ``after``: the count the
        caller expects; another count means someone else stored part of this plan meanwhile, and
        nothing is stored (RuntimeError), so no part of a plan is ever stored twice.
        """
        now = self.clock()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                # Inside the write transaction no one else can insert: number the rows ourselves
                # and insert them in one executemany, far cheaper than a statement per row.
                first = self._db.execute(
                    "SELECT COALESCE(MAX(id), 0) + 1 FROM deliveries"
                ).fetchone()[0]
                row = self._db.execute(
                    "SELECT planned FROM runs WHERE id = ?", (run_id,)
                ).fetchone()
                seq = row[0] if row is not None else 0
                if after is not None and seq != after:
                    raise RuntimeError(
                        f"run {run_id}: {seq} deliveries of its plan are stored, not {after}; "
                        "another process is storing this plan"
                    )
                self._db.executemany(
                    "INSERT INTO deliveries (id, run_id, vendor, event_type, coupon_key, dedupe_keys,"
                    " body, label, due_at, created_at, updated_at, seq)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (first + i, run_id, d.vendor, d.event_type, d.coupon_key,
                         json.dumps(d.dedupe_keys), d.body, d.label, d.due_at, now, now, seq + i)
                        for i, d in enumerate(items)
                    ],
                )  # fmt: skip
                self._db.execute(
                    "UPDATE runs SET planned = planned + ?, plan_digest = COALESCE(?, plan_digest)"
                    " WHERE id = ?",
                    (len(items), digest, run_id),
                )
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

    def pending(
        self, run_id: int, page: int = 1000, *, through: int | None = None
    ) -> Iterator[Delivery]:
        """The run's pending deliveries in due order, read in pages so memory stays flat; only
        those with ids up to ``through`` (what was stored when the reading began), if given."""
        last_due, last_id = float("-inf"), 0
        limit = MAX_ID if through is None else through
        while True:
            with self._lock:
                rows = self._db.execute(
                    f"SELECT {DELIVERY_COLUMNS} FROM deliveries"
                    " WHERE run_id = ? AND status = 'pending' AND (due_at, id) > (?, ?)"
                    " AND id <= ? ORDER BY due_at, id LIMIT ?",
                    (run_id, last_due, last_id, limit, page),
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
        attempt_rows, update_rows = result_rows(results, self.clock())
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

    def last_id(self, run_id: int) -> int:
        """The highest delivery id of the run (0 when it has none)."""
        row = self._one("SELECT COALESCE(MAX(id), 0) FROM deliveries WHERE run_id = ?", (run_id,))
        return int(row[0]) if row is not None else 0

    def counts(self, run_id: int) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute(
                "SELECT status, COUNT(*) FROM deliveries WHERE run_id = ? GROUP BY status",
                (run_id,),
            ).fetchall()
        counts = dict.fromkeys((PENDING, *FINAL), 0)
        counts.update(dict(rows))
        return counts

    def tally(self, run_id: int, worst: int = 10) -> dict[str, Any]:
        """A run's size for its summary without reading its bodies or attempts: deliveries,
        events (dedupe keys), failed or exhausted ones, and the first ``worst`` of them."""
        with self._lock:
            deliveries, events = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(json_array_length(dedupe_keys)), 0)"
                " FROM deliveries WHERE run_id = ?",
                (run_id,),
            ).fetchone()
            bad = self._db.execute(
                "SELECT id, vendor, event_type, status, last_error FROM deliveries"
                " WHERE run_id = ? AND status IN ('failed', 'exhausted') ORDER BY id",
                (run_id,),
            ).fetchall()
        keys = ("id", "vendor", "event_type", "status", "last_error")
        return {
            "deliveries": deliveries,
            "events": events,
            "bad": len(bad),
            "worst": [dict(zip(keys, row, strict=True)) for row in bad[:worst]],
        }

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
