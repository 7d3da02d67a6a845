"""Leases in a real SQLite outbox: a live owner keeps a run, a dead or silent one loses it, and the
service's queries tell a live run from a dead one."""

from __future__ import annotations

import subprocess
import sys

import pytest

from emulator.delivery.lease import STALE_AFTER, Leases, RunOwned, me
from emulator.delivery.outbox import Outbox
from emulator.web.queries import Queries


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_claims_follow_the_owner_s_liveness(tmp_path):
    db = tmp_path / "outbox.db"
    with Outbox(db) as outbox:
        now = outbox.clock()
        live = outbox.create_run("live", {}, owner=(1, "elsewhere"))
        dead = outbox.create_run("dead", {}, owner=(dead_pid(), me()[1]))
        silent = outbox.create_run("silent", {}, owner=(1, "elsewhere"))
        with outbox.immediate() as con:
            con.execute(
                "UPDATE runs SET heartbeat_at = ? WHERE id = ?", (now - STALE_AFTER, silent)
            )
        leases = Leases(outbox)
        with pytest.raises(RunOwned, match="process 1 on elsewhere"):
            leases.claim(live)
        leases.claim(dead)
        leases.claim(silent)
        queries = Queries(str(db))
        assert queries.run(live)["state"] == "running"
        assert queries.run(dead)["state"] == "running"  # ours now
        leases.release(dead)
        assert queries.run(dead)["state"] == "interrupted"  # stored "running", owner gone
        leases.close()
        queries.close()
