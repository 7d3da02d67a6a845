"""How the dispatcher moves bytes: a request onto a keep-alive connection (taken from the pool or
opened), readiness events moving each exchange on, and how it ends (answered, broken, late). A part
of ``Dispatcher`` (``emulator.delivery.dispatcher``), kept apart for size: which delivery goes
when is decided there, what an answer means in ``emulator.delivery.verdicts``."""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

from emulator.core.errors import EmulatorError
from emulator.delivery.http11 import ResponseReader, request_bytes
from emulator.delivery.judging import Exchange
from emulator.delivery.outbox import RESPONSE_BODY_LIMIT
from emulator.delivery.wire import Connection, EarlyAnswer, WireError

if TYPE_CHECKING:
    from emulator.delivery.http11 import Response
    from emulator.delivery.lanes import Lane


class Sockets:
    """The socket half of ``Dispatcher``; it uses the dispatcher's selector, pool and clock."""

    clock: Any
    _selector: Any
    _idle: Any
    _busy: set[Connection]

    # Implemented by the verdict half (emulator.delivery.verdicts).
    _answered: Any
    _interim: Any
    _unsendable: Any

    def _send(self, lane: Lane, exchange: Exchange, now: float, fresh: bool = False) -> None:
        timeout = lane.target.timeout
        exchange.started, exchange.t0, exchange.deadline = now, time.perf_counter(), now + timeout
        try:
            exchange.headers = headers = exchange.auth.headers()
            wire = request_bytes(exchange.method, lane.target.url, headers, exchange.body)
        except (ValueError, EmulatorError) as exc:  # nothing went on the wire: nothing to log
            self._unsendable(exchange, f"{type(exc).__name__}: {exc}")
            return
        lane.in_flight += 1
        try:
            conn = self._checkout(lane, fresh)
        except WireError as exc:
            lane.in_flight -= 1
            self._answered(exchange, None, "connection", str(exc))
            return
        conn.exchange = exchange
        self._busy.add(conn)
        reader = ResponseReader(exchange.method, RESPONSE_BODY_LIMIT)
        try:
            self._watch(conn, conn.begin(wire, reader))
        except EarlyAnswer as early:
            self._complete(conn, exchange, early.response)
        except WireError as exc:
            self._broken(conn, exchange, exc)

    def _checkout(self, lane: Lane, fresh: bool) -> Connection:
        pool = self._idle[lane.key]
        if pool and not fresh:
            return pool.pop()
        try:
            return Connection(lane.key, lane.context)
        except OSError as exc:  # the name does not resolve, no route, no file descriptors left
            raise WireError(f"{type(exc).__name__}: {exc}", answered=False) from exc

    def _watch(self, conn: Connection, events: int) -> None:
        if conn.watching == events:
            return
        if conn.watching:
            self._selector.modify(conn.sock, events, conn)
        else:
            self._selector.register(conn.sock, events, conn)
        conn.watching = events

    def _ready(self, conn: Connection, mask: int) -> None:
        exchange = conn.exchange
        if exchange is None:  # an idle keep-alive connection the server closed
            self._close(conn)
            return
        try:
            response = conn.step(mask)
        except EarlyAnswer as early:
            response = early.response
        except WireError as exc:
            self._broken(conn, exchange, exc)
            return
        if response is None:
            self._watch(conn, conn.events)
            return
        self._complete(conn, exchange, response)

    def _complete(self, conn: Connection, exchange: Exchange, response: Response) -> None:
        self._busy.discard(conn)
        exchange.lane.in_flight -= 1
        if conn.finished(response):
            self._watch(conn, conn.events)
            self._idle[conn.key].append(conn)
        else:
            self._close(conn)
        if exchange.auth.challenged(response):  # Digest: answer the challenge once, logged
            self._interim(exchange, response, "a Digest challenge; answered on the next request")
            self._send(exchange.lane, exchange, self.clock.now())
            return
        self._answered(exchange, response, None, None)

    def _broken(self, conn: Connection, exchange: Exchange, exc: WireError) -> None:
        """No answer. A kept-alive connection the server had closed before any byte of the answer
        is the one case sent again at once, on a fresh connection, once, and logged."""
        self._busy.discard(conn)
        exchange.lane.in_flight -= 1
        self._close(conn)
        if conn.used and not exc.answered and not exchange.resent:
            exchange.resent = True
            self._interim(exchange, None, f"{exc} (a kept-alive connection the consumer had "
                          "closed; sent again on a fresh connection)")  # fmt: skip
            self._send(exchange.lane, exchange, self.clock.now(), fresh=True)
            return
        self._answered(exchange, None, "connection", str(exc))

    def _expire(self, now: float) -> None:
        late = [c for c in self._busy if c.exchange.deadline <= now]  # type: ignore[union-attr]
        for conn in late:
            exchange = conn.exchange
            assert isinstance(exchange, Exchange)
            self._busy.discard(conn)
            exchange.lane.in_flight -= 1
            self._close(conn)
            timeout = exchange.lane.target.timeout
            self._answered(exchange, None, "timeout", f"no answer within {timeout:g}s")

    def _close(self, conn: Connection) -> None:
        pool = self._idle.get(conn.key)
        if pool and conn in pool:
            pool.remove(conn)
        if conn.watching:
            with contextlib.suppress(KeyError, ValueError):  # already closed
                self._selector.unregister(conn.sock)
            conn.watching = 0
        conn.close()
