"""The dispatcher: one event loop that keeps several requests in flight over keep-alive sockets.

A single thread sends due deliveries, reads answers as they come (``selectors``), judges them,
schedules retries (delays shrunk by ``time_scale``) and logs every attempt in batched outbox
transactions. One thread, not a pool: Python threads share one interpreter lock, and a worker
back from ``recv`` would queue behind the others for it, so answers would wait; here none does.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from emulator.core import catalogue, policy
from emulator.core.policy import DELIVERED, EXHAUSTED, FAILED, PENDING
from emulator.delivery import injected
from emulator.delivery.endpoint import Endpoint
from emulator.delivery.http11 import ProtocolError, Response, ResponseReader, address, request_bytes
from emulator.delivery.outbox import (
    RESPONSE_BODY_LIMIT,
    Attempt,
    Delivery,
    Outbox,
    Update,
)
from emulator.delivery.scheduler import Scheduler
from emulator.delivery.transport import connect

# Requests in flight at once, each on its own keep-alive connection: more of them overlap our work
# with the consumer's. A slow consumer on a real network wants more: raise it with --workers.
DEFAULT_WORKERS = 8
READ_SIZE = 65536
FLUSH_EVERY = 0.05  # seconds between outbox transactions
FLUSH_SIZE = 2000  # or this many results, whichever first
IDLE_TICK = 0.01  # how often an idle loop looks for newly submitted work


@dataclass
class Progress:
    """Live counters of one dispatch, read by the progress line and the summary."""

    submitted: int = 0
    attempts: int = 0
    retries: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.perf_counter)

    @property
    def done(self) -> int:
        return self.statuses[DELIVERED] + self.statuses[FAILED] + self.statuses[EXHAUSTED]

    def line(self) -> str:
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        return (
            f"{self.done}/{self.submitted} final: {self.statuses[DELIVERED]} delivered, "
            f"{self.statuses[FAILED]} failed, {self.statuses[EXHAUSTED]} exhausted; "
            f"{self.attempts} attempts ({self.retries} retries), {self.done / elapsed:,.0f}/s"
        )


@dataclass
class _Exchange:
    """One request on the wire and what is known of its answer so far."""

    delivery: Delivery
    endpoint: Endpoint
    method: str
    body: bytes
    headers: dict[str, str]
    started: float
    t0: float
    deadline: float
    reader: ResponseReader
    verification: bool = False
    digest_answered: bool = False
    resent_on_fresh: bool = False


class _Connection:
    def __init__(self, key: tuple[str, str, int], sock: socket.socket) -> None:
        self.key = key
        self.sock = sock
        self.exchange: _Exchange | None = None
        self.used = False


class Dispatcher:
    """Delivers a run's deliveries to their targets per the settings' profiles and rules.

    Use: ``start()``, ``submit(...)`` from the producing thread as deliveries are stored, then
    ``join()``. Errors in the loop thread are re-raised by ``join()``.
    """

    def __init__(self, outbox: Outbox, settings: Any, *, workers: int = DEFAULT_WORKERS) -> None:
        self.outbox = outbox
        self.settings = settings
        self.workers = workers
        self.scale = float(settings.time_scale)
        self.scheduler = Scheduler(per_coupon=settings.ordering == "per-coupon")
        self.progress = Progress()
        self._thread: threading.Thread | None = None
        self._errors: list[BaseException] = []
        self._stop = threading.Event()
        self._endpoints: dict[str, Endpoint] = {}
        self._verified: dict[str, tuple[bool, str] | None] = {}  # url -> None while in flight
        self._parked: dict[str, list[Delivery]] = defaultdict(list)
        self._results: list[tuple[Attempt | None, Update | None]] = []
        self._last_flush = time.monotonic()
        self._selector = selectors.DefaultSelector()
        self._idle: dict[tuple[str, str, int], list[_Connection]] = defaultdict(list)
        self._busy: set[_Connection] = set()

    # Life cycle

    def start(self) -> Dispatcher:
        self._thread = threading.Thread(target=self._main, name="dispatcher", daemon=True)
        self._thread.start()
        return self

    def submit(self, deliveries: list[Delivery]) -> None:
        for d in deliveries:
            self.progress.submitted += 1
            self.scheduler.submit(d)

    def join(self) -> Progress:
        """Wait until every submitted delivery is final and logged; re-raise a loop error."""
        self.scheduler.close()
        if self._thread is not None:
            self._thread.join()
        if self._errors:
            raise self._errors[0]
        return self.progress

    def stop(self) -> None:
        """Stop early (Ctrl-C): what is unfinished stays pending in the outbox for ``resume``."""
        self._stop.set()
        self.scheduler.stop()
        if self._thread is not None:
            self._thread.join(timeout=30)

    # The loop

    def _main(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # surfaced by join(): a failure in a thread must not vanish
            self._errors.append(exc)
            self.scheduler.stop()
        finally:
            try:
                self._flush()
            finally:
                for conn in [*self._busy, *(c for pool in self._idle.values() for c in pool)]:
                    conn.sock.close()
                self._selector.close()

    def _loop(self) -> None:
        scheduler = self.scheduler
        while not self._stop.is_set():
            while len(self._busy) < self.workers:
                delivery = scheduler.poll()
                if delivery is None:
                    break
                self._begin(delivery)
            if not self._busy and scheduler.drained():
                return
            timeout = IDLE_TICK
            wait = scheduler.next_due_in()
            if wait is not None:
                timeout = min(timeout, max(wait, 0.0))
            for key, _ in self._selector.select(timeout):
                self._readable(key.data)
            self._expire()
            if (
                len(self._results) >= FLUSH_SIZE
                or time.monotonic() - self._last_flush >= FLUSH_EVERY
            ):
                self._flush()

    def _endpoint(self, vendor: str) -> Endpoint:
        endpoint = self._endpoints.get(vendor)
        if endpoint is None:
            target = self.settings.vendors[vendor]
            endpoint = self._endpoints[vendor] = Endpoint(target, catalogue.vendor(vendor).profile)
        return endpoint

    def _begin(self, delivery: Delivery) -> None:
        endpoint = self._endpoint(delivery.vendor)
        target = endpoint.target
        if target.verification_get:
            url = target.url
            if url not in self._verified:  # Punchh's GET before the first POST, once per run
                self._verified[url] = None
                self._parked[url].append(delivery)
                self._send(delivery, endpoint, "GET", b"", verification=True)
                return
            state = self._verified[url]
            if state is None:
                self._parked[url].append(delivery)
                return
            if not state[0]:
                self._settle(delivery, None, FAILED, None, state[1])
                return
        self._send(delivery, endpoint, target.method, delivery.body)

    def _send(
        self,
        delivery: Delivery,
        endpoint: Endpoint,
        method: str,
        body: bytes,
        *,
        verification: bool = False,
        exchange: _Exchange | None = None,
    ) -> None:
        timeout = endpoint.target.timeout
        auth_mode = None if verification else injected.auth_mode(delivery.label)
        if exchange is None:
            exchange = _Exchange(
                delivery, endpoint, method, body, {}, time.time(), time.perf_counter(),
                time.monotonic() + timeout, ResponseReader(method), verification,
                digest_answered=auth_mode == "missing",
            )  # fmt: skip
        exchange.headers = endpoint.headers(method, body, auth_mode)
        exchange.reader = ResponseReader(method)
        key = address(endpoint.target.url)[0]
        try:
            wire = request_bytes(method, endpoint.target.url, exchange.headers, body)
            conn = self._checkout(key, timeout)
            conn.exchange = exchange
            self._busy.add(conn)
            conn.sock.sendall(wire)
        except TimeoutError:
            self._drop_busy(exchange)
            self._answered(exchange, None, "timeout", f"no answer within {timeout:g}s")
        except OSError as exc:
            if self._retry_on_fresh(exchange):
                return
            self._answered(exchange, None, "connection", f"{type(exc).__name__}: {exc}")

    def _checkout(self, key: tuple[str, str, int], timeout: float) -> _Connection:
        pool = self._idle[key]
        if pool:
            conn = pool.pop()
            conn.used = True
            return conn
        sock = connect(key, timeout)
        conn = _Connection(key, sock)
        self._selector.register(sock, selectors.EVENT_READ, conn)
        return conn

    def _readable(self, conn: _Connection) -> None:
        exchange = conn.exchange
        try:
            data = conn.sock.recv(READ_SIZE)
        except OSError as exc:
            data = b""
            error: Exception | None = exc
        else:
            error = None
        if exchange is None:  # an idle keep-alive connection the server closed
            self._close(conn)
            return
        try:
            response = exchange.reader.feed(data) if data else exchange.reader.eof()
        except (ConnectionResetError, ProtocolError) as exc:
            if isinstance(exc, ConnectionResetError) and self._retry_on_fresh(exchange):
                return
            self._close(conn)
            self._answered(exchange, None, "connection", str(error or exc))
            return
        if response is None:
            return
        conn.exchange = None
        self._busy.discard(conn)
        if response.keep_alive and data:
            self._idle[conn.key].append(conn)
        else:
            self._close(conn)
        if not exchange.digest_answered and exchange.endpoint.learn_challenge(response):
            exchange.digest_answered = True
            self._send(
                exchange.delivery,
                exchange.endpoint,
                exchange.method,
                exchange.body,
                exchange=exchange,
            )
            return
        self._answered(exchange, response, None, None)

    def _retry_on_fresh(self, exchange: _Exchange) -> bool:
        """A reused keep-alive connection the server had closed: send once more on a new one."""
        conn = next((c for c in self._busy if c.exchange is exchange), None)
        reused = conn is not None and conn.used
        if conn is not None:
            self._close(conn)
        if not reused or exchange.resent_on_fresh:
            return False
        exchange.resent_on_fresh = True
        self._send(
            exchange.delivery, exchange.endpoint, exchange.method, exchange.body, exchange=exchange
        )
        return True

    def _expire(self) -> None:
        now = time.monotonic()
        for conn in [
            c for c in self._busy if c.exchange is not None and c.exchange.deadline <= now
        ]:
            exchange = conn.exchange
            self._close(conn)
            self._answered(
                exchange, None, "timeout", f"no answer within {exchange.endpoint.target.timeout:g}s"
            )

    def _drop_busy(self, exchange: _Exchange) -> None:
        for conn in [c for c in self._busy if c.exchange is exchange]:
            self._close(conn)

    def _close(self, conn: _Connection) -> None:
        self._busy.discard(conn)
        pool = self._idle.get(conn.key)
        if pool and conn in pool:
            pool.remove(conn)
        with contextlib.suppress(KeyError, ValueError):  # never registered, or already closed
            self._selector.unregister(conn.sock)
        conn.sock.close()

    # Verdicts

    def _answered(
        self, exchange: _Exchange, response: Response | None, kind: str | None, error: str | None
    ) -> None:
        status = None if response is None else response.status
        if exchange.verification:
            self._verification_done(exchange, response, error)
            return
        delivery = exchange.delivery
        target = exchange.endpoint.target
        expect = injected.expectation(delivery.label, target.auth.type) if delivery.label else None
        if expect is not None:  # sent broken on purpose: judged by what a consumer must do
            verdict = injected.judge(expect, status, kind, delivery.retry_counts)
        else:
            verdict = policy.judge(
                target.retry, target.is_success, status, kind, delivery.retry_counts
            )
        number = delivery.attempts + 1
        attempt = self._attempt(exchange, response, error, verdict.status, number)
        due = time.time() + (verdict.delay or 0) * self.scale
        last_error = error or (None if verdict.status == DELIVERED else verdict.reason)
        update = Update(
            delivery.id, verdict.status, number, verdict.retry_counts, due, status, last_error
        )
        self._record(attempt, update)
        if verdict.status == PENDING:
            delivery.attempts = number
            delivery.retry_counts = dict(verdict.retry_counts)
            delivery.due_at = due
            self.scheduler.retry(delivery)
        else:
            self.scheduler.finished(delivery)

    def _verification_done(
        self, exchange: _Exchange, response: Response | None, error: str | None
    ) -> None:
        url = exchange.endpoint.target.url
        parked = self._parked.pop(url, [])
        if response is not None and response.status == 200:
            self._verified[url] = (True, "verification GET answered 200")
            self._record(self._attempt(exchange, response, None, "verified", 0), None)
            for delivery in parked:
                self._send(
                    delivery, exchange.endpoint, exchange.endpoint.target.method, delivery.body
                )
            return
        got = f"answered {response.status}" if response is not None else f"got no answer ({error})"
        reason = (
            f"verification GET to {url} {got}; Punchh activates a webhook only when this GET "
            "(same Authorization header) answers 200. Set verification_get: false to skip it."
        )
        self._verified[url] = (False, reason)
        first, *rest = parked
        self._settle(
            first, self._attempt(exchange, response, error, FAILED, 0), FAILED, response, reason
        )
        for delivery in rest:
            self._settle(delivery, None, FAILED, None, reason)

    def _settle(
        self,
        delivery: Delivery,
        attempt: Attempt | None,
        status: str,
        response: Response | None,
        reason: str,
    ) -> None:
        code = None if response is None else response.status
        update = Update(
            delivery.id,
            status,
            delivery.attempts,
            delivery.retry_counts,
            delivery.due_at,
            code,
            reason,
        )
        self._record(attempt, update)
        self.scheduler.finished(delivery)

    @staticmethod
    def _attempt(
        exchange: _Exchange, response: Response | None, error: str | None, outcome: str, number: int
    ) -> Attempt:
        return Attempt(
            delivery_id=exchange.delivery.id,
            number=number,
            started_at=exchange.started,
            duration_ms=(time.perf_counter() - exchange.t0) * 1000,
            method=exchange.method,
            url=exchange.endpoint.target.url,
            request_headers=exchange.endpoint.redacted(exchange.headers),
            status=None if response is None else response.status,
            response_headers=None if response is None else response.headers,
            response_body=None
            if response is None
            else response.body[:RESPONSE_BODY_LIMIT].decode("utf-8", errors="replace"),
            error=error,
            outcome=outcome,
        )

    # Log

    def _record(self, attempt: Attempt | None, update: Update | None) -> None:
        self._results.append((attempt, update))
        progress = self.progress
        if attempt is not None:
            progress.attempts += 1
        if update is None:
            return
        if update.status == PENDING:
            progress.retries += 1
        else:
            progress.statuses[update.status] += 1

    def _flush(self) -> None:
        if self._results:
            batch, self._results = self._results, []
            self.outbox.record(batch)
        self._last_flush = time.monotonic()
