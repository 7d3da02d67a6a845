"""What the dispatcher makes of an answer: the verdict on an attempt, the attempt row, the counters.

No sockets here: the dispatcher's loop (``emulator.delivery.dispatcher``) moves the bytes and hands
each finished exchange to these functions, which judge it by the delivery's label (broken on
purpose) or the target's retry rules, and queue the attempt and the delivery's new state for the
outbox in batched transactions.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from emulator.core import policy
from emulator.core.policy import DELIVERED, EXHAUSTED, FAILED, PENDING, RESENT
from emulator.delivery import injected
from emulator.delivery.endpoint import AuthExchange, Endpoint
from emulator.delivery.http11 import Response
from emulator.delivery.outbox import RESPONSE_BODY_LIMIT, Attempt, Delivery, Outbox, Update

FLUSH_EVERY = 0.05  # seconds between outbox transactions
FLUSH_SIZE = 2000  # or this many results, whichever first


@dataclass
class Progress:
    """Live counters of one dispatch, read by the progress line and the summary."""

    planned: int = 0  # events of the plan stored so far (a resume: those it stored itself)
    plan_complete: bool = False  # the whole plan is stored
    submitted: int = 0
    attempts: int = 0
    retries: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    # vendor -> the state of its circuit breaker, once it has tripped (e.g. "suspended after ...")
    breakers: dict[str, str] = field(default_factory=dict)

    @property
    def done(self) -> int:
        return self.statuses[DELIVERED] + self.statuses[FAILED] + self.statuses[EXHAUSTED]


# What an exchange is for: a delivery's request, the verification GET before deliveries, or a
# circuit breaker's ping while the webhook is suspended.
DELIVERY, VERIFY, PING = "delivery", "verify", "ping"


class Exchange:
    """One request on the wire (or about to be) and how it is going."""

    __slots__ = (
        "auth",
        "deadline",
        "delivery",
        "endpoint",
        "headers",
        "kind",
        "lane",
        "resent",
        "started",
        "t0",
    )  # fmt: skip

    def __init__(
        self, delivery: Delivery, endpoint: Endpoint, auth: AuthExchange, kind: str, lane: Any
    ) -> None:
        self.delivery = delivery
        self.endpoint = endpoint
        self.auth = auth
        self.kind = kind
        self.lane = lane
        self.started = 0.0  # clock time of the send, for the attempt row
        self.t0 = 0.0  # perf_counter at the send, for the duration
        self.deadline = 0.0  # clock time by which the whole exchange must be over
        self.headers: dict[str, str] = {}
        self.resent = False  # already sent again on a fresh connection once

    @property
    def method(self) -> str:
        return self.auth.method

    @property
    def body(self) -> bytes:
        return self.auth.body


def attempt_row(
    exchange: Exchange, response: Response | None, error: str | None, outcome: str, number: int
) -> Attempt:
    """The attempt log row of an exchange (number 0: a GET, verification or circuit-breaker ping)."""
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


def judge(
    exchange: Exchange,
    response: Response | None,
    kind: str | None,
    error: str | None,
    scale: float,
    now: float,
) -> tuple[Attempt, Update]:
    """The attempt row and the delivery's new state once a delivery's exchange has ended.

    ``kind`` is ``"timeout"`` or ``"connection"`` when no answer came; a retry's delay is the
    rule's, shrunk by ``scale`` (the run's time scale).
    """
    status = None if response is None else response.status
    delivery = exchange.delivery
    target = exchange.endpoint.target
    expect = injected.expectation(delivery.label, target.auth.type) if delivery.label else None
    if expect is not None:  # sent broken on purpose: judged by what a consumer must do
        verdict = injected.judge(expect, status, kind, delivery.retry_counts)
    else:
        verdict = policy.judge(target.retry, target.is_success, status, kind, delivery.retry_counts)
    number = delivery.attempts + 1
    attempt = attempt_row(exchange, response, error, verdict.status, number)
    due = now + (verdict.delay or 0) * scale
    last_error = error or (None if verdict.status == DELIVERED else verdict.reason)
    update = Update(
        delivery.id, verdict.status, number, verdict.retry_counts, due, status, last_error
    )
    return attempt, update


def interim(
    exchange: Exchange, response: Response | None, error: str
) -> tuple[Attempt, Update | None]:
    """The row of a request that is sent again at once, within the same try: a Digest challenge
    answered, or a kept-alive connection found closed before any byte of the answer. It is a
    request the consumer may have seen, so it is logged and numbered like any other; a GET's row
    (number 0) moves no delivery."""
    delivery = exchange.delivery
    if exchange.kind != DELIVERY:
        return attempt_row(exchange, response, error, RESENT, 0), None
    delivery.attempts += 1
    status = None if response is None else response.status
    attempt = attempt_row(exchange, response, error, RESENT, delivery.attempts)
    update = Update(
        delivery.id, PENDING, delivery.attempts, dict(delivery.retry_counts), delivery.due_at,
        status, error,
    )  # fmt: skip
    return attempt, update


def settled(delivery: Delivery, status: str, response: Response | None, reason: str) -> Update:
    """A delivery made final without an attempt of its own (its target refused verification)."""
    code = None if response is None else response.status
    return Update(
        delivery.id, status, delivery.attempts, delivery.retry_counts, delivery.due_at, code, reason
    )


class Ledger:
    """Attempts and updates waiting for the outbox, written in batched transactions, and the live
    counters they move."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.progress = Progress()
        self._results: list[tuple[Attempt | None, Update | None]] = []
        self._last_flush = time.monotonic()

    def record(self, attempt: Attempt | None, update: Update | None, *, retry: bool = True) -> None:
        """Queue a row and an update; ``retry`` False: a pending update that is no retry."""
        self._results.append((attempt, update))
        progress = self.progress
        if attempt is not None:
            progress.attempts += 1
        if update is None:
            return
        if update.status == PENDING:
            progress.retries += retry
        else:
            progress.statuses[update.status] += 1

    def flush_due(self) -> bool:
        return (
            len(self._results) >= FLUSH_SIZE or time.monotonic() - self._last_flush >= FLUSH_EVERY
        )

    def flush(self) -> None:
        if self._results:
            batch, self._results = self._results, []
            self.outbox.record(batch)
        self._last_flush = time.monotonic()
