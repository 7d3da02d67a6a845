"""A run killed with SIGKILL while retries are pending loses nothing: ``resume`` delivers the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

from werkzeug import Response

from emulator.core.plan import simple_plan

COUNT = 60


def poll(condition, deadline: float, what: str) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_kill_9_with_retries_pending_then_resume_delivers_exactly_the_plan(httpserver, tmp_path):
    lock = threading.Lock()
    attempts: dict[str, int] = {}
    accepted: set[str] = set()

    def consumer(request):
        if request.method == "GET":
            return Response("", status=200)
        key = json.loads(request.get_data())["content_id"]
        with lock:
            attempts[key] = attempts.get(key, 0) + 1
            # Every event fails its first try, so the run holds retries when it is killed.
            if attempts[key] == 1:
                return Response("", status=503)
            accepted.add(key)
        return Response("", status=200)

    httpserver.expect_request("/hooks").respond_with_handler(consumer)
    events = tmp_path / "events.yaml"
    events.write_text(
        "seed: 11\n"
        # Punchh retries a 5xx after 60 s: at this scale 1.2 s, long enough to kill the run first.
        "time_scale: 0.02\n"
        f"vendors:\n  punchh:\n    target: {httpserver.url_for('/hooks')}\n"
        f"events:\n  - {{vendor: punchh, event: coupon-redemption, count: {COUNT}}}\n",
        encoding="utf-8",
    )
    db = tmp_path / "outbox.db"
    cli = [sys.executable, "-m", "emulator"]
    run = subprocess.Popen(
        [*cli, "run", str(events), "--db", str(db), "--quiet"], stderr=subprocess.PIPE
    )
    try:
        poll(lambda: len(attempts) == COUNT, 30, "every first attempt")
        assert not accepted
        os.kill(run.pid, signal.SIGKILL)
        run.wait(10)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == -signal.SIGKILL

    resumed = subprocess.run(
        [*cli, "resume", "--db", str(db), "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"delivered {COUNT}" in resumed.stderr

    planned = {
        e.body["content_id"]
        for e in simple_plan([("punchh", "coupon-redemption", COUNT, 0.0)], 11, datetime.now(UTC))
    }
    assert accepted == planned
    again = subprocess.run(
        [*cli, "resume", "--db", str(db)], capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0
    assert "nothing to resume" in again.stdout
