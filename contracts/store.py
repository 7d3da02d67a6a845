"""Verify results kept in an outbox database, so the service's contract page shows the latest.

``verify --db PATH`` adds its JSON report (``report.json_report``) as a row of the table
``verify_reports``; ``serve --db PATH`` reads the newest. The table is this module's alone: the
outbox's own tables are untouched.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

TABLE = """
CREATE TABLE IF NOT EXISTS verify_reports (
    id         INTEGER PRIMARY KEY,
    created_at REAL NOT NULL,
    report     TEXT NOT NULL
)
"""


def save(path: str, report: Mapping[str, Any]) -> int:
    """Store ``report``; returns its id. Raises ``sqlite3.Error`` or ``OSError`` when ``path`` is
    not a database that can be written."""
    db = sqlite3.connect(path, timeout=10)
    try:
        db.execute("PRAGMA busy_timeout=10000")
        with db:
            db.execute(TABLE)
            cursor = db.execute(
                "INSERT INTO verify_reports (created_at, report) VALUES (?, ?)",
                (time.time(), json.dumps(report)),
            )
        return int(cursor.lastrowid or 0)
    finally:
        db.close()


def latest(path: str) -> dict[str, Any] | None:
    """The newest stored report with ``stored_at`` (epoch seconds) added; None when there is none."""
    if not Path(path).exists():
        return None
    db = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, timeout=10)
    try:
        db.execute("PRAGMA busy_timeout=10000")
        try:
            row = db.execute(
                "SELECT created_at, report FROM verify_reports ORDER BY id DESC LIMIT 1"
            ).fetchone()
        except sqlite3.OperationalError:  # no verify run stored yet: the table does not exist
            return None
    finally:
        db.close()
    if row is None:
        return None
    return {**json.loads(row[1]), "stored_at": row[0]}
