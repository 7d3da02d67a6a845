"""The service under concurrent mixed traffic: it stays up, answers only 2xx/429/503, loses no
accepted work, and /healthz keeps answering (the full figures: benchmarks/service_load.py)."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
import urllib.error
import urllib.request

from benchmarks.service_load import mixed_request
from tests.emulator.web.conftest import start, stop

THREADS = 10
REQUESTS = 30
HEALTH_DEADLINE = 5.0  # generous: the benchmark measures the real figure (under 1 s)


def _call(url: str, method: str, path: str, body: object = None) -> tuple[int, dict, object]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data is not None else {}
    req = urllib.request.Request(url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read() or b"null")


def _client(url: str, seed: int, answers: list, lock: threading.Lock) -> None:
    rng = random.Random(seed)
    for _ in range(REQUESTS):
        request = mixed_request(rng)
        status, headers, body = _call(url, *request)
        with lock:
            answers.append((request[1], status, headers, body))


def test_concurrent_mixed_requests_keep_the_service_up_and_lose_no_accepted_work(tmp_path):
    # A small capacity, so that some requests meet a full service and must get 429 or 503.
    served = start(tmp_path, "--capacity", "40", "--threads", "4")
    answers: list = []
    health: list[tuple[int | None, str]] = []
    lock = threading.Lock()
    done = threading.Event()

    def poll_health() -> None:
        while not done.is_set():
            try:
                with urllib.request.urlopen(served.url + "/healthz", timeout=HEALTH_DEADLINE) as a:
                    health.append((a.status, ""))
            except (OSError, urllib.error.URLError) as exc:
                health.append((None, str(exc)))
            time.sleep(0.05)

    poller = threading.Thread(target=poll_health)
    poller.start()
    clients = [
        threading.Thread(target=_client, args=(served.url, i, answers, lock))
        for i in range(THREADS)
    ]
    try:
        for c in clients:
            c.start()
        for c in clients:
            c.join()
    finally:
        done.set()
        poller.join()

    assert served.process.poll() is None, served.log.read_text()
    assert len(answers) == THREADS * REQUESTS
    statuses = {status for _, status, _, _ in answers}
    assert all(200 <= s < 300 or s in (429, 503) for s in statuses), statuses
    refused = [(h, b) for _, s, h, b in answers if s in (429, 503)]
    for headers, body in refused:
        assert int(headers["Retry-After"]) >= 1
        assert body["status"] in (429, 503)
        assert body["detail"]
    assert health
    assert all(status == 200 for status, _ in health), health[-5:]

    accepted_runs = {b["run"]["id"] for _, s, _, b in answers if s == 202}
    accepted_deliveries = {
        b["delivery"]["id"] for path, s, _, b in answers if s == 202 and path == "/api/events"
    }
    assert accepted_deliveries, "no event was accepted at all"
    with sqlite3.connect(served.db) as db:
        runs = {r[0] for r in db.execute("SELECT id FROM runs")}
        deliveries = {r[0] for r in db.execute("SELECT id FROM deliveries")}
    assert accepted_runs <= runs
    assert accepted_deliveries <= deliveries

    # Everything accepted is delivered in the end, by the one dispatcher, to the built-in sink.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with sqlite3.connect(served.db) as db:
            pending = db.execute("SELECT COUNT(*) FROM deliveries WHERE status != 'delivered'")
            if pending.fetchone()[0] == 0:
                break
        time.sleep(0.1)
    with sqlite3.connect(served.db) as db:
        left = db.execute(
            "SELECT status, COUNT(*) FROM deliveries WHERE status != 'delivered' GROUP BY status"
        ).fetchall()
    assert left == []
    log = stop(served)
    assert "Task queue depth" not in served.log.read_text()
    assert "stopped" in log
