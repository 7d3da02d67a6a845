"""The dispatcher: one event loop that keeps several requests in flight over keep-alive sockets.

A single thread sends due deliveries, reads answers as they come (``selectors``), has them judged
(``emulator.delivery.judging``: verdicts, attempt rows, batched outbox writes) and schedules the
retries (delays shrunk by ``time_scale``). Headers, the Digest exchange and the verification GET
come from ``emulator.delivery.endpoint``, as for every other sender. One thread, not a pool:
Python threads share one interpreter lock, and a worker back from ``recv`` would queue behind the
others for it, so answers would wait; here none does.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from emulator.core import catalogue
from emulator.core.policy import FAILED, PENDING
from emulator.delivery import injected
from emulator.delivery.endpoint import VERIFY_METHOD, Endpoint, Verifications
from emulator.delivery.http11 import ProtocolError, Response, ResponseReader, address, request_bytes
from emulator.delivery.judging import Exchange, Ledger, Progress, attempt_row, judge, settled
from emulator.delivery.outbox import Attempt, Delivery, Outbox
from emulator.delivery.scheduler import Scheduler
from emulator.delivery.transport import connect

__all__ = ["DEFAULT_WORKERS", "Dispatcher", "Progress"]

# Requests in flight at once, each on its own keep-alive connection: more of them overlap our work
# with the consumer's. A slow consumer on a real network wants more: raise it with --workers.
DEFAULT_WORKERS = 8
READ_SIZE = 65536
IDLE_TICK = 0.01  # how often an idle loop looks for newly submitted work


class _Connection:
    def __init__(self, key: tuple[str, str, int], sock: socket.socket) -> None:
        self.key = key
        self.sock = sock
        self.exchange: Exchange | None = None
        self.used = False


class Dispatcher:
    """Delivers a run's deliveries to their targets per the settings' profiles and rules.

    Use: ``start()``, ``submit(...)`` from the producing thread as deliveries are stored, then
    ``join()``. Errors in the loop thread are re-raised by ``join()``.

    One dispatcher can also serve several runs at once (the service): ``add_run`` gives a run
    settings of its own (targets, time scale, ordering), looked up per delivery by its run id;
    ``on_final`` hears of each delivery once its final state is written. Such a dispatcher is
    never joined: ``stop()`` ends it.
    """

    def __init__(
        self,
        outbox: Outbox,
        settings: Any,
        *,
        workers: int = DEFAULT_WORKERS,
        on_final: Callable[[Delivery, str], None] | None = None,
        max_outstanding: int = 20_000,
    ) -> None:
        self.outbox = outbox
        self.settings = settings
        self.workers = workers
        self.scale = float(settings.time_scale)
        self._runs: dict[int, Any] = {}  # run id -> its own settings (a shared dispatcher)
        self.scheduler = Scheduler(per_coupon=self._ordered, max_outstanding=max_outstanding)
        self.ledger = Ledger(outbox)
        self.progress = self.ledger.progress
        self._thread: threading.Thread | None = None
        self._errors: list[BaseException] = []
        self._stop = threading.Event()
        self._endpoints: dict[object, Endpoint] = {}
        self._verifications: dict[int | None, Verifications] = {}  # once per run and target
        self._parked: dict[tuple[int, str], list[Delivery]] = defaultdict(list)
        self._on_final = on_final
        self._finals: list[tuple[Delivery, str]] = []  # told to on_final once written
        self._selector = selectors.DefaultSelector()
        self._idle: dict[tuple[str, str, int], list[_Connection]] = defaultdict(list)
        self._busy: set[_Connection] = set()

    # Life cycle

    def start(self) -> Dispatcher:
        self._thread = threading.Thread(target=self._main, name="dispatcher", daemon=True)
        self._thread.start()
        return self

    def add_run(self, run_id: int, settings: Any) -> None:
        """Deliver run ``run_id``'s deliveries with ``settings`` (instead of the dispatcher's)."""
        self._runs[run_id] = settings

    def drop_run(self, run_id: int) -> None:
        """Forget a run's settings, endpoints and verifications (its deliveries are all final)."""
        self._runs.pop(run_id, None)
        for key in [k for k in list(self._endpoints) if isinstance(k, tuple) and k[0] == run_id]:
            self._endpoints.pop(key, None)
        self._verifications.pop(run_id, None)

    @property
    def error(self) -> BaseException | None:
        """What ended the loop thread, if it failed."""
        return self._errors[0] if self._errors else None

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

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
            if self.ledger.flush_due():
                self._flush()

    def _flush(self) -> None:
        self.ledger.flush()
        if self._finals:
            finals, self._finals = self._finals, []
            if self._on_final is not None:
                for delivery, status in finals:
                    self._on_final(delivery, status)

    def _finished(self, delivery: Delivery, status: str) -> None:
        self.scheduler.finished(delivery)
        if self._on_final is not None:
            self._finals.append((delivery, status))

    def _settings_of(self, delivery: Delivery) -> Any:
        return self._runs.get(delivery.run_id, self.settings)

    def _ordered(self, delivery: Delivery) -> bool:
        return self._settings_of(delivery).ordering == "per-coupon"

    def _endpoint(self, delivery: Delivery) -> Endpoint:
        vendor = delivery.vendor
        key: object = (delivery.run_id, vendor) if delivery.run_id in self._runs else vendor
        endpoint = self._endpoints.get(key)
        if endpoint is None:
            target = self._settings_of(delivery).vendors[vendor]
            endpoint = self._endpoints[key] = Endpoint(target, catalogue.vendor(vendor).profile)
        return endpoint

    def _verifications_of(self, delivery: Delivery) -> Verifications:
        key = delivery.run_id if delivery.run_id in self._runs else None
        found = self._verifications.get(key)
        if found is None:
            found = self._verifications[key] = Verifications()
        return found

    def _begin(self, delivery: Delivery) -> None:
        endpoint = self._endpoint(delivery)
        target = endpoint.target
        verifications = self._verifications_of(delivery)
        if verifications.needed(target):  # the GET before the first delivery, once per run
            self._parked[(delivery.run_id, target.url)].append(delivery)
            self._send(delivery, endpoint, VERIFY_METHOD, b"", verification=True)
            return
        outcome = verifications.outcome(target)
        if outcome is None:  # the GET is in flight
            self._parked[(delivery.run_id, target.url)].append(delivery)
            return
        if not outcome[0]:
            self._settle(delivery, None, outcome[1])
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
        exchange: Exchange | None = None,
    ) -> None:
        timeout = endpoint.target.timeout
        if exchange is None:
            auth_mode = None if verification else injected.auth_mode(delivery.label)
            exchange = Exchange(
                delivery, endpoint, endpoint.exchange(method, body, auth_mode), time.time(),
                time.perf_counter(), time.monotonic() + timeout, ResponseReader(method),
                verification,
            )  # fmt: skip
        exchange.headers = exchange.auth.headers()
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

    def _again(self, exchange: Exchange) -> None:
        """The same request once more (a Digest answer, or a stale keep-alive connection)."""
        self._send(
            exchange.delivery, exchange.endpoint, exchange.method, exchange.body, exchange=exchange
        )

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
        if exchange.auth.challenged(response):  # Digest: answer the challenge once
            self._again(exchange)
            return
        self._answered(exchange, response, None, None)

    def _retry_on_fresh(self, exchange: Exchange) -> bool:
        """A reused keep-alive connection the server had closed: send once more on a new one."""
        conn = next((c for c in self._busy if c.exchange is exchange), None)
        reused = conn is not None and conn.used
        if conn is not None:
            self._close(conn)
        if not reused or exchange.resent_on_fresh:
            return False
        exchange.resent_on_fresh = True
        self._again(exchange)
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

    def _drop_busy(self, exchange: Exchange) -> None:
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
        self, exchange: Exchange, response: Response | None, kind: str | None, error: str | None
    ) -> None:
        if exchange.verification:
            self._verification_done(exchange, response, error)
            return
        scale = float(self._settings_of(exchange.delivery).time_scale)
        attempt, update = judge(exchange, response, kind, error, scale)
        self.ledger.record(attempt, update)
        delivery = exchange.delivery
        if update.status == PENDING:
            delivery.attempts = update.attempts
            delivery.retry_counts = dict(update.retry_counts)
            delivery.due_at = update.due_at
            self.scheduler.retry(delivery)
        else:
            self._finished(delivery, update.status)

    def _verification_done(
        self, exchange: Exchange, response: Response | None, error: str | None
    ) -> None:
        target = exchange.endpoint.target
        parked = self._parked.pop((exchange.delivery.run_id, target.url), [])
        status = None if response is None else response.status
        passed, reason = self._verifications_of(exchange.delivery).judge(target, status, error)
        if passed:
            self.ledger.record(attempt_row(exchange, response, None, "verified", 0), None)
            for delivery in parked:
                self._send(delivery, exchange.endpoint, target.method, delivery.body)
            return
        first, *rest = parked
        self._settle(first, attempt_row(exchange, response, error, FAILED, 0), reason, response)
        for delivery in rest:
            self._settle(delivery, None, reason)

    def _settle(
        self,
        delivery: Delivery,
        attempt: Attempt | None,
        reason: str,
        response: Response | None = None,
    ) -> None:
        """Fail a delivery whose target refused verification (the GET's attempt on the first)."""
        self.ledger.record(attempt, settled(delivery, FAILED, response, reason))
        self._finished(delivery, FAILED)
