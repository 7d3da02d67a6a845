"""One target's traffic inside the dispatcher: its requests in flight, the deliveries it holds back
(over its fair share, before its verification GET, while its breaker is open), and its breaker."""

from __future__ import annotations

import ssl
from collections import deque
from typing import Any

from emulator.delivery.breaker import DEACTIVATED, SUSPENDED, Breaker
from emulator.delivery.endpoint import Endpoint
from emulator.delivery.http11 import address
from emulator.delivery.records import Delivery


class Lane:
    __slots__ = (
        "breaker",
        "context",
        "endpoint",
        "held",
        "in_flight",
        "key",
        "scale",
        "target",
        "verified",
        "verifying",
    )  # fmt: skip

    def __init__(self, endpoint: Endpoint, context: ssl.SSLContext | None, scale: float) -> None:
        self.endpoint = endpoint
        self.scale = scale  # the run's time_scale: vendor seconds -> real seconds
        self.target = target = endpoint.target
        self.key = address(target.url)[0]
        self.context = context  # the dispatcher's TLS context for this target (https only)
        self.in_flight = 0  # requests of this target on the wire
        self.held: deque[Delivery] = deque()  # due, waiting for this lane to open, oldest first
        self.verified = not target.verification_get
        self.verifying = False  # its verification GET is on the wire
        policy = getattr(target, "circuit_breaker", None)
        self.breaker = Breaker(policy, scale) if policy is not None else None

    @property
    def blocked(self) -> bool:
        """Nothing may start: the verification GET is out, or the breaker has the webhook suspended."""
        return self.verifying or (self.breaker is not None and self.breaker.state == SUSPENDED)

    @property
    def deactivated(self) -> bool:
        return self.breaker is not None and self.breaker.state == DEACTIVATED

    def breaker_reason(self) -> str:
        assert self.breaker is not None
        return f"not sent: the {self.target.vendor} webhook was {self.breaker.describe()}"

    def count(self, ok: bool, now: float, delivery: Delivery, progress: Any) -> None:
        """One request's outcome, for the breaker; a trip shows in the progress."""
        breaker = self.breaker
        if breaker is not None and breaker.record(ok, now, delivery):
            progress.breakers[self.target.vendor] = breaker.describe()
