"""What one app instance holds, kept in ``app.extensions`` (no module-level state anywhere)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from emulator.delivery.outbox import Outbox
from emulator.web.queries import Queries
from emulator.web.service import DeliveryService

KEY = "coupon_emulator"


@dataclass
class State:
    outbox: Outbox
    queries: Queries
    service: DeliveryService
    token: str | None
    base_url: str
    sink: Any = None  # the mounted consumer core (its store answers the probe)
    cache: dict[str, Any] = field(default_factory=dict)

    def live(self, item: dict[str, Any]) -> dict[str, Any]:
        """A run with its true state: the queries read it from the run's lease (running while a
        live process owns it, whichever process); ours count as running until settled."""
        if self.service.running(item["id"]):
            item["state"] = "running"
        reason = self.service.failures.get(item["id"])
        if reason is not None and item["state"] == "failed":
            item["error"] = reason
        return item

    def close(self, timeout: float = 30.0) -> None:
        """Stop the dispatchers (pending stays in the outbox), then close the database."""
        self.service.stop(timeout)
        self.queries.close()
        self.outbox.close()


def current() -> State:
    return current_app.extensions[KEY]
