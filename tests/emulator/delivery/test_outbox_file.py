"""``--db FILE`` where FILE exists and is not an outbox: refused with exit 2, the file untouched."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from emulator.delivery.outbox import Outbox
from emulator.delivery.schema import NotAnOutbox, check_file


def _text(path):
    path.write_text("my notes\n")


def _empty(path):
    path.write_bytes(b"")


def _binary(path):
    path.write_bytes(bytes(range(256)) * 8)


def _other_sqlite(path):
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE contacts (name TEXT)")
    db.execute("INSERT INTO contacts VALUES ('ada')")
    db.commit()
    db.close()


def _sqlite_without_tables(path):
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 7")  # writes the header: a database, with no tables
    db.close()


KINDS = {
    "text": (_text, "is not an SQLite database"),
    "empty": (_empty, "is empty, not an outbox"),
    "binary": (_binary, "is not an SQLite database"),
    "other-sqlite": (
        _other_sqlite,
        "is an SQLite database but not an outbox (its tables: contacts",
    ),
    "sqlite-without-tables": (_sqlite_without_tables, "not an outbox (it has no tables"),
}


def cli(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args], capture_output=True, text=True, timeout=120,
        cwd=cwd, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("kind", list(KINDS))
def test_resume_refuses_a_file_that_is_not_an_outbox_and_leaves_it_byte_identical(kind, tmp_path):
    make, needle = KINDS[kind]
    db = tmp_path / "notes.db"
    make(db)
    before = db.read_bytes()
    result = cli("resume", "--db", str(db), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr
    assert f"--db {db}" in result.stderr
    assert "left as it is" in result.stderr
    assert "Traceback" not in result.stderr
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]  # no -wal, no -shm


@pytest.mark.parametrize("kind", ["text", "binary", "other-sqlite"])
@pytest.mark.parametrize(
    "command",
    [
        ["send", "komo", "CouponIssued", "--target", "http://127.0.0.1:9/never"],
        ["run", "events.yaml"],
        ["serve", "--port", "0"],
    ],
    ids=["send", "run", "serve"],
)
def test_commands_that_create_an_outbox_refuse_an_existing_file_that_is_something_else(
    command, kind, tmp_path
):
    (tmp_path / "events.yaml").write_text(
        "vendors:\n  komo:\n    target: http://127.0.0.1:9/never\n"
        "events:\n  - {vendor: komo, event: CouponIssued}\n"
    )
    make, needle = KINDS[kind]
    db = tmp_path / "notes.db"
    make(db)
    before = db.read_bytes()
    result = cli(*command, "--db", str(db), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"cannot open the outbox database '{db}'" in result.stderr
    assert needle in result.stderr
    assert db.read_bytes() == before


def test_an_outbox_opens_and_a_missing_or_fresh_file_may_become_one(tmp_path):
    fresh = tmp_path / "new.db"
    check_file(fresh)  # a new outbox
    with Outbox(fresh):
        pass
    check_file(fresh, new=False)  # now it is one
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    check_file(empty)  # as another process creating an outbox leaves it for an instant
    with pytest.raises(NotAnOutbox, match="is empty"):
        check_file(empty, new=False)
    text = tmp_path / "text.db"
    _text(text)
    with pytest.raises(NotAnOutbox, match="not an SQLite database"):
        Outbox(text)
    assert text.read_text() == "my notes\n"
