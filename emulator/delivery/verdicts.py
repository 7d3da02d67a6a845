"""What the dispatcher does with an answer: a delivery's attempt judged and its next step taken
(retry, final), a verification GET opening its lane or passing its failure on to every delivery it
held, a circuit-breaker ping moving the breaker, and a request that could not be written failing
its delivery. A part of ``Dispatcher`` (``emulator.delivery.dispatcher``), kept apart for size:
the loop and the sockets there, the verdicts here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.core import policy
from emulator.core.policy import DELIVERED, FAILED, PENDING
from emulator.delivery.breaker import DEACTIVATED
from emulator.delivery.endpoint import verification_verdict
from emulator.delivery.judging import (
    DELIVERY,
    PING,
    VERIFY,
    Exchange,
    attempt_row,
    interim,
    judge,
    settled,
)
from emulator.delivery.records import Delivery, Update

if TYPE_CHECKING:
    from emulator.delivery.http11 import Response


class Verdicts:
    """The verdict half of ``Dispatcher``; it uses the dispatcher's ledger, scheduler and clock."""

    clock: Any
    ledger: Any
    scheduler: Any
    progress: Any
    _held: int
    _counts: Any
    _unfinished: Any
    _on_final: Any
    _finals: list[tuple[Delivery, str]]

    def _interim(self, exchange: Exchange, response: Response | None, error: str) -> None:
        attempt, update = interim(exchange, response, error)
        self.ledger.record(attempt, update, retry=False)

    def _answered(
        self, exchange: Exchange, response: Response | None, kind: str | None, error: str | None
    ) -> None:
        if exchange.kind == VERIFY:
            self._verified(exchange, response, kind, error)
            return
        if exchange.kind == PING:
            self._pinged(exchange, response, error)
            return
        now = self.clock.now()
        attempt, update = judge(exchange, response, kind, error, exchange.lane.scale, now)
        self.ledger.record(attempt, update)
        delivery = exchange.delivery
        exchange.lane.count(update.status == DELIVERED, now, delivery, self.progress)
        if update.status == PENDING:
            delivery.attempts = update.attempts
            delivery.retry_counts = dict(update.retry_counts)
            delivery.due_at = update.due_at
            self.scheduler.retry(delivery)
        else:
            self._finished(delivery, update.status)

    def _verified(
        self, exchange: Exchange, response: Response | None, kind: str | None, error: str | None
    ) -> None:
        """The verification GET's answer: the lane opens, or every delivery it held takes the
        failure as its own try and follows its retry rules (so the GET is asked again before
        the first retry); one failed GET never settles the run."""
        lane, now = exchange.lane, self.clock.now()
        lane.verifying = False
        status = None if response is None else response.status
        passed, reason = verification_verdict(lane.target, status, error)
        lane.count(passed, now, exchange.delivery, self.progress)
        if passed:
            lane.verified = True
            self.ledger.record(attempt_row(exchange, response, None, "verified", 0), None)
            return  # what it held goes out as workers free up: no burst
        held = list(lane.held)
        lane.held.clear()
        self._held -= len(held)
        if exchange.delivery not in held:  # its subject was settled meanwhile: log the GET alone
            self.ledger.record(attempt_row(exchange, response, error, PENDING, 0), None)
        for delivery in held:
            verdict = policy.judge(
                lane.target.retry, _never, status, kind or "connection", delivery.retry_counts
            )
            why = f"{reason} ({verdict.reason})"
            row = None
            if delivery is exchange.delivery:
                row = attempt_row(exchange, response, error or why, verdict.status, 0)
            due = now + (verdict.delay or 0) * lane.scale
            update = Update(delivery.id, verdict.status, delivery.attempts, verdict.retry_counts,
                            due, status, why)  # fmt: skip
            self.ledger.record(row, update)
            if verdict.status == PENDING:
                delivery.retry_counts, delivery.due_at = dict(verdict.retry_counts), due
                self.scheduler.retry(delivery)
            else:
                self._finished(delivery, verdict.status)

    def _pinged(self, exchange: Exchange, response: Response | None, error: str | None) -> None:
        lane, now = exchange.lane, self.clock.now()
        breaker = lane.breaker
        assert breaker is not None
        ok = response is not None and response.status == 200
        state = breaker.pinged(ok, now)
        self.progress.breakers[lane.target.vendor] = breaker.describe()
        total = len(breaker.policy.pings)
        note = f"circuit breaker ping {breaker.pings} of {total}: webhook {breaker.describe()}"
        outcome = "verified" if ok else FAILED if state == DEACTIVATED else PENDING
        self.ledger.record(attempt_row(exchange, response, error or note, outcome, 0), None)

    def _unsendable(self, exchange: Exchange, reason: str) -> None:
        """A request that cannot be written (a header outside latin-1, a Digest challenge we cannot
        answer): that delivery's failure, named; nothing was sent."""
        lane = exchange.lane
        if exchange.kind == VERIFY:
            lane.verifying = False
        if exchange.kind == PING and lane.breaker is not None:
            lane.breaker.pinging = False
            lane.breaker.next_ping = None
            lane.breaker.state = DEACTIVATED
        delivery = exchange.delivery
        if exchange.kind != DELIVERY and delivery in lane.held:
            lane.held.remove(delivery)
            self._held -= 1
        elif exchange.kind != DELIVERY:
            return
        self._fail(delivery, f"cannot send this request: {reason}")

    def _fail(self, delivery: Delivery, reason: str) -> None:
        self.ledger.record(None, settled(delivery, FAILED, None, reason))
        self._finished(delivery, FAILED)

    def _finished(self, delivery: Delivery, status: str) -> None:
        self.scheduler.finished(delivery)
        if self._on_final is not None:
            self._finals.append((delivery, status))
        with self._counts:
            self._unfinished[delivery.vendor] -= 1


def _never(status: int) -> bool:
    """A verification GET that failed: no status makes it a success after the fact."""
    return False
