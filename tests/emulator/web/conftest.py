"""A real ``coupon-emulator serve`` per test module: waitress, the SQLite file, the built-in sink.

The server runs as the user runs it, in its own process; on teardown it gets SIGTERM and must
exit 0 with no traceback in its log, so errors in its threads cannot pass unnoticed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

TOKEN = "t0ken-for-tests"
START_DEADLINE = 15.0


@dataclass
class Served:
    """A running service: its URL, its process and its database."""

    url: str
    process: subprocess.Popen
    db: Path
    log: Path
    token: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | bool | None = True,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, Message, bytes]:
        """One HTTP request; ``token=True`` sends the service's token, a string sends that one.

        ``body`` goes as JSON; ``raw`` goes as it is, labelled application/json.
        """
        data = raw if raw is not None else None if body is None else json.dumps(body).encode()
        sent = dict(headers or {})
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        bearer = self.token if token is True else token
        if bearer:
            sent["Authorization"] = f"Bearer {bearer}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(req, timeout=10) as answer:
                return answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def json(self, method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        status, _, data = self.request(method, path, body, **kwargs)
        return status, json.loads(data) if data else None

    def wait_for(self, path: str, done: Callable[[Any], bool], timeout: float = 15.0) -> Any:
        """Poll a JSON resource until ``done(it)``; fail with the last answer at the deadline."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            status, last = self.json("GET", path)
            if status == 200 and done(last):
                return last
            time.sleep(0.05)
        pytest.fail(f"{path} never reached the expected state; last answer: {last}")


def start(
    tmp: Path,
    *args: str,
    token: str | None = None,
    env: dict[str, str] | None = None,
    executable: list[str] | None = None,
) -> Served:
    """Start ``serve --port 0`` and wait for its /healthz; the port is read from its first line."""
    db = tmp / "service.db"
    log = tmp / "service.log"
    environ = {**os.environ, **(env or {})}
    environ.pop("COUPON_EMULATOR_API_TOKEN", None)
    if token:
        environ["COUPON_EMULATOR_API_TOKEN"] = token
    command = executable or [sys.executable, "-m", "emulator"]
    process = subprocess.Popen(
        [*command, "serve", "--port", "0", "--db", str(db), *args],
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        env=environ,
        cwd=tmp,
    )
    line = process.stdout.readline()
    if "serving on " not in line:
        process.wait(5)
        pytest.fail(f"serve did not start: {line!r}; log: {log.read_text()}")
    url = line.split("serving on ", 1)[1].split(" ", 1)[0]
    served = Served(url, process, db, log, token, env or {})
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        try:
            if served.request("GET", "/healthz", token=False)[0] == 200:
                return served
        except OSError:
            pass
        time.sleep(0.02)
    stop(served)
    pytest.fail(f"/healthz never answered; log: {log.read_text()}")


def stop(served: Served) -> str:
    """SIGTERM, then the exit code must be 0 and the log free of tracebacks; returns stdout."""
    served.process.send_signal(signal.SIGTERM)
    try:
        out, _ = served.process.communicate(timeout=40)
    except subprocess.TimeoutExpired:
        served.process.kill()
        out, _ = served.process.communicate()
        pytest.fail(f"serve ignored SIGTERM; log: {served.log.read_text()}")
    log = served.log.read_text()
    assert served.process.returncode == 0, f"serve exited {served.process.returncode}: {log}"
    assert "Traceback" not in log, log
    return out


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> Iterator[Served]:
    """One service for a module's tests, with a token; tests use their own runs' ids."""
    served = start(tmp_path_factory.mktemp("service"), token=TOKEN)
    yield served
    stop(served)


@pytest.fixture
def serve(tmp_path) -> Iterator[Callable[..., Served]]:
    """Start a service of one's own; every one started is stopped (and checked) at the end."""
    started: list[Served] = []

    def run(*args: str, **kwargs: Any) -> Served:
        served = start(tmp_path, *args, **kwargs)
        started.append(served)
        return served

    yield run
    for served in started:
        if served.process.poll() is None:
            stop(served)
