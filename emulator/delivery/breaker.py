"""A target's circuit breaker as the vendor documents it (``CircuitBreaker`` in its profile):
closed, then suspended after too many failures in a row and pinged on the vendor's schedule, then
reactivated by a ping answered 200 or deactivated after the last one. Times come in as arguments."""

from __future__ import annotations

from typing import Any

from emulator.core.vendor import CircuitBreaker

CLOSED, SUSPENDED, DEACTIVATED = "closed", "suspended", "deactivated"


class Breaker:
    """One target's breaker; delays are the vendor's seconds times ``scale`` (the time scale)."""

    def __init__(self, policy: CircuitBreaker, scale: float) -> None:
        self.policy = policy
        self.scale = scale
        self.state = CLOSED
        self.failures = 0  # in a row
        self.pings = 0  # sent since the suspension
        self.next_ping: float | None = None  # clock time, while suspended
        self.pinging = False
        self.subject: Any = None  # the delivery whose failure tripped it (its pings' log row)

    def record(self, ok: bool, now: float, subject: Any = None) -> bool:
        """Count one request's outcome; True when this failure suspends the webhook."""
        if self.state != CLOSED:
            return False
        if ok:
            self.failures = 0
            return False
        self.failures += 1
        if self.failures <= self.policy.failures:
            return False
        self.state, self.subject, self.pings = SUSPENDED, subject, 0
        self.next_ping = now + self.policy.pings[0] * self.scale if self.policy.pings else now
        if not self.policy.pings:
            self.state = DEACTIVATED
        return True

    def ping_due(self, now: float) -> bool:
        return (
            self.state == SUSPENDED
            and not self.pinging
            and self.next_ping is not None
            and self.next_ping <= now
        )

    def pinged(self, ok: bool, now: float) -> str:
        """The answer to a ping: the new state."""
        self.pinging = False
        self.pings += 1
        if ok:
            self.state, self.failures, self.next_ping = CLOSED, 0, None
        elif self.pings >= len(self.policy.pings):
            self.state, self.next_ping = DEACTIVATED, None
        else:
            self.next_ping = now + self.policy.pings[self.pings] * self.scale
        return self.state

    def describe(self) -> str:
        total = len(self.policy.pings)
        if self.state == SUSPENDED:
            return (
                f"suspended after more than {self.policy.failures} failures in a row; "
                f"{self.pings} of {total} pings sent"
            )
        if self.state == DEACTIVATED:
            return (
                f"deactivated: suspended after more than {self.policy.failures} failures in a row, "
                f"and none of its {total} pings answered 200"
            )
        return "reactivated: a ping answered 200" if self.pings else "closed"
