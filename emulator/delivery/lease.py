"""Runs owned by live processes: a lease in the outbox (owner pid, host, heartbeat), renewed by
one thread per process, so ``resume`` never delivers a run that another process is delivering.

A lease is live while its heartbeat is younger than ``STALE_AFTER`` seconds and, on this host,
while its owner process exists; a run whose owner was killed is free at once on the same host,
and after ``STALE_AFTER`` seconds on another host sharing the file.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from emulator.core.errors import EmulatorError
from emulator.delivery.outbox import Outbox

STALE_AFTER = 30.0  # seconds without a heartbeat before another process may take a run over
RENEW_EVERY = 5.0
HOST = socket.gethostname()


def me() -> tuple[int, str]:
    """This process as an owner: (pid, host)."""
    return os.getpid(), HOST


@dataclass(frozen=True)
class Owner:
    pid: int
    host: str
    heartbeat_at: float

    def live(self, now: float, stale_after: float = STALE_AFTER) -> bool:
        if now - self.heartbeat_at >= stale_after:
            return False
        if self.host == HOST:
            return self.pid == os.getpid() or process_exists(self.pid)
        return True

    def describe(self, now: float) -> str:
        return (
            f"process {self.pid} on {self.host} (last heartbeat {max(now - self.heartbeat_at, 0):.0f}"
            " s ago)"
        )


class RunOwned(EmulatorError):
    """The run is being delivered by another live process."""

    def __init__(self, run_id: int, owner: Owner, now: float) -> None:
        self.run_id = run_id
        self.owner = owner
        super().__init__(
            f"run {run_id} is being delivered by {owner.describe(now)}; not resumed. Wait for it "
            f"to finish, or stop it (its unfinished work stays resumable); a run whose process "
            f"died without a heartbeat for {STALE_AFTER:.0f} s is taken over"
        )


def process_exists(pid: int) -> bool:
    """Whether ``pid`` is a process on this host that is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc (macOS): the signal test said it exists


def owner_of(row: tuple[int | None, str | None, float | None]) -> Owner | None:
    """The owner stored in (owner_pid, owner_host, heartbeat_at), if any."""
    pid, host, beat = row
    if pid is None or host is None or beat is None:
        return None
    return Owner(int(pid), str(host), float(beat))


class Leases:
    """The runs this process owns in one outbox, all renewed by one heartbeat thread.

    Claims are counted: a run claimed twice (a service's run and a resend of it) is released
    when both are done.
    """

    def __init__(
        self,
        outbox: Outbox,
        *,
        renew_every: float = RENEW_EVERY,
        stale_after: float = STALE_AFTER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.outbox = outbox
        self.renew_every = renew_every
        self.stale_after = stale_after
        self.clock = clock
        self._held: Counter[int] = Counter()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def create_run(self, name: str, settings, source, plan=None) -> int:
        """A new run (``Outbox.create_run``), owned by this process from its first instant."""
        run_id = self.outbox.create_run(name, settings, source, plan=plan, owner=me())
        self._hold(run_id)
        return run_id

    def claim(self, run_id: int) -> None:
        """Own the run; RunOwned if another live process does, LookupError if there is none."""
        with self._lock:
            if self._held[run_id]:
                self._held[run_id] += 1
                return
        now = self.clock()
        pid, host = me()
        with self.outbox.immediate() as db:
            row = db.execute(
                "SELECT owner_pid, owner_host, heartbeat_at FROM runs WHERE id = ?", (run_id,)
            ).fetchone()
            if row is None:
                raise LookupError(f"no run {run_id} in {self.outbox.path}")
            owner = owner_of(row)
            theirs = owner is not None and (owner.pid, owner.host) != (pid, host)
            if theirs and owner.live(now, self.stale_after):
                raise RunOwned(run_id, owner, now)
            db.execute(
                "UPDATE runs SET owner_pid = ?, owner_host = ?, heartbeat_at = ? WHERE id = ?",
                (pid, host, now, run_id),
            )
        self._hold(run_id)

    def release(self, run_id: int) -> None:
        with self._lock:
            self._held[run_id] -= 1
            if self._held[run_id] > 0:
                return
            del self._held[run_id]
        pid, host = me()
        with self.outbox.immediate() as db:
            db.execute(
                "UPDATE runs SET owner_pid = NULL, owner_host = NULL, heartbeat_at = NULL"
                " WHERE id = ? AND owner_pid = ? AND owner_host = ?",
                (run_id, pid, host),
            )

    def close(self) -> None:
        self._closed.set()
        if self._thread is not None:
            self._thread.join()

    def _hold(self, run_id: int) -> None:
        with self._lock:
            self._held[run_id] += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._beat, name="leases", daemon=True)
                self._thread.start()

    def _beat(self) -> None:
        pid, host = me()
        while not self._closed.wait(self.renew_every):
            with self._lock:
                held = list(self._held)
            if not held:
                continue
            try:
                with self.outbox.immediate() as db:
                    db.executemany(
                        "UPDATE runs SET heartbeat_at = ? WHERE id = ? AND owner_pid = ?"
                        " AND owner_host = ?",
                        [(self.clock(), run_id, pid, host) for run_id in held],
                    )
            except Exception:  # a busy or closed file: the next beat tries again
                continue


def live_owner(outbox: Outbox, run_id: int, now: float | None = None) -> Owner | None:
    """The live process that owns the run, if one does."""
    now = time.time() if now is None else now
    owner = owner_of(outbox.run(run_id)["owner"])
    return owner if owner is not None and owner.live(now) else None
