"""The outbox's tables, the columns an older outbox file gains when it is opened, and the check
that refuses to open as an outbox a file that is something else."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    created_at   REAL NOT NULL,
    settings     TEXT NOT NULL,
    source       TEXT,
    state        TEXT NOT NULL DEFAULT 'running',
    plan         TEXT,
    planned      INTEGER NOT NULL DEFAULT 0,
    plan_digest  TEXT NOT NULL DEFAULT '',
    plan_total   INTEGER,
    owner_pid    INTEGER,
    owner_host   TEXT,
    heartbeat_at REAL,
    schedule_offset REAL NOT NULL DEFAULT 0,
    schedule_factor REAL NOT NULL DEFAULT 1
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
    updated_at   REAL NOT NULL,
    seq          INTEGER
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

# Columns added since the first outbox files: a run's plan identity and progress (a run without
# ``plan`` was stored whole before delivery, so it has nothing to re-derive), its lease, how a
# resume at another time scale re-timed its schedule, and each delivery's place in its plan.
ADDED = {
    "runs": (
        ("plan", "TEXT"),
        ("planned", "INTEGER NOT NULL DEFAULT 0"),
        ("plan_digest", "TEXT NOT NULL DEFAULT ''"),
        ("plan_total", "INTEGER"),
        ("owner_pid", "INTEGER"),
        ("owner_host", "TEXT"),
        ("heartbeat_at", "REAL"),
        ("schedule_offset", "REAL NOT NULL DEFAULT 0"),
        ("schedule_factor", "REAL NOT NULL DEFAULT 1"),
    ),
    "deliveries": (("seq", "INTEGER"),),
}


def create(db: sqlite3.Connection) -> None:
    """Create the tables, or add what an older file lacks; safe with several processes at once."""
    db.executescript(SCHEMA)
    if not _missing(db):
        return
    db.execute("BEGIN IMMEDIATE")  # one process adds the columns; the others then find them
    try:
        for table, column, kind in _missing(db):
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _missing(db: sqlite3.Connection) -> list[tuple[str, str, str]]:
    out = []
    for table, columns in ADDED.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        out += [(table, name, kind) for name, kind in columns if name not in have]
    return out


SQLITE_HEADER = b"SQLite format 3\x00"
NEEDED = ("runs", "deliveries")  # what every outbox file has had since the first


class NotAnOutbox(ValueError):
    """An existing file that is not an outbox: left as it is, never turned into one."""


def check_file(path: str | Path, *, new: bool = True) -> None:
    """Refuse ``path`` unless it is an outbox, reading it only (nothing is written to it).

    With ``new`` (``run``, ``send``, ``serve``: they create an outbox) a missing file passes, and
    so do an empty file and an SQLite file with no tables yet, which is how a file looks for an
    instant while another process creates the outbox in it. Without (``resume``) it must hold the
    outbox's tables.
    """
    path = Path(path)
    if not path.exists() or path.is_dir():
        return  # a new outbox; sqlite names a directory's problem itself
    with open(path, "rb") as fh:
        header = fh.read(len(SQLITE_HEADER))
    if not header:
        if new:
            return
        raise NotAnOutbox(f"{path} is empty, not an outbox (it was left as it is)")
    if header != SQLITE_HEADER:
        raise NotAnOutbox(
            f"{path} is not an SQLite database, so not an outbox (it was left as it is)"
        )
    tables = _tables(path)
    if all(t in tables for t in NEEDED) or (new and (not tables or "runs" in tables)):
        return
    held = f"its tables: {', '.join(sorted(tables))}" if tables else "it has no tables"
    raise NotAnOutbox(
        f"{path} is an SQLite database but not an outbox ({held}; an outbox has "
        f"{' and '.join(NEEDED)}); it was left as it is"
    )


def _tables(path: Path) -> set[str]:
    # Read-only: opening it must not change a byte of a file that may not be ours.
    try:
        db = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, timeout=10)
        try:
            rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise NotAnOutbox(
            f"{path} cannot be read as an SQLite database ({exc}); it was left as it is"
        ) from None
    return {name for (name,) in rows}
