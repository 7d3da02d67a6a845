"""A worker's share of a plan: the requests at positions ``i`` with ``i % count == index``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from emulator.delivery.runner import envelopes
from emulator.loadgen.source import PlanSource


@dataclass(frozen=True)
class Request:
    """One request of the plan: the vendor's envelope, as wire bytes, and the events it carries."""

    vendor: str
    event_type: str
    body: bytes
    dedupe_keys: tuple[str, ...]
    label: str = ""  # injected edge cases, as the plan names them

    @property
    def name(self) -> str:
        """What Locust's statistics group by: ``"<vendor> <event_type>"``, plus ``[label]``."""
        name = f"{self.vendor} {self.event_type}"
        return f"{name} [{self.label}]" if self.label else name

    @property
    def events(self) -> int:
        return len(self.dedupe_keys)


@dataclass(frozen=True)
class Share:
    """The requests one worker sends, and what it knows of the whole plan.

    ``fingerprint`` covers the whole plan (every body, in order, and where each vendor's requests
    go), so workers that disagree on the plan (another file, seed or target) are told apart.
    """

    index: int
    count: int
    requests: tuple[Request, ...]
    deliveries: int  # requests in the whole plan
    events: int  # events in the whole plan
    fingerprint: str

    @property
    def share_events(self) -> int:
        return sum(r.events for r in self.requests)


def prepare(source: PlanSource, index: int, count: int) -> Share:
    """Plan everything and keep this worker's requests.

    Shares are taken over requests, not events, so fabric's batches are the ones ``run`` sends:
    the same bytes whatever the number of workers. Every worker plans the whole plan (planning is
    sequential in the seed), once, before its users send.
    """
    if not 0 <= index < count:
        raise ValueError(f"share {index} of {count} does not exist; expected 0 <= index < count")
    digest = hashlib.sha256()
    for slug, target in sorted(source.settings.vendors.items()):
        digest.update(f"{slug} {target.method} {target.url} {target.batch_size}\n".encode())
    mine: list[Request] = []
    deliveries = events = 0
    for i, delivery in enumerate(envelopes(source.events, source.settings, 0.0)):
        digest.update(f"{delivery.vendor} {delivery.event_type} {len(delivery.body)}\n".encode())
        digest.update(delivery.body)
        deliveries += 1
        events += len(delivery.dedupe_keys)
        if i % count == index:
            mine.append(
                Request(
                    delivery.vendor, delivery.event_type, delivery.body, delivery.dedupe_keys,
                    delivery.label,
                )
            )  # fmt: skip
    return Share(index, count, tuple(mine), deliveries, events, digest.hexdigest()[:16])
