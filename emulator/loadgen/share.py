"""A sending process's share of a plan: its coupons' requests, made as they are sent.

The plan is split by coupon (``loader.plan(share=(index, count))``): each process plans only its
own coupons, as its users ask for requests, so the time to the first request and the memory held
do not grow with the plan. Fabric's batches are made of the share's own events.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

import emulator
from emulator.core.plan import builder_extras
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


def requests(source: PlanSource) -> Iterator[Request]:
    """The requests of ``source``'s events (a share's, when it was loaded as one), in plan order,
    each made when it is asked for."""
    for delivery in envelopes(source.events, source.settings, 0.0):
        yield Request(
            delivery.vendor, delivery.event_type, delivery.body, delivery.dedupe_keys,
            delivery.label,
        )  # fmt: skip


def fingerprint(source: PlanSource) -> str:
    """What decides the whole plan, hashed: the document as read, the seed, the start instant,
    what the bodies take from the settings, where each vendor's requests go, and the version of
    the code that plans. Processes that agree on it plan the same plan, and so disjoint shares of
    it, without any of them planning more than its own share."""
    digest = hashlib.sha256()
    start = source.start.isoformat() if source.start else ""
    head = f"{emulator.__version__}\n{source.seed}\n{start}\n{source.settings.links_base}\n"
    digest.update(head.encode())
    digest.update(repr(sorted(builder_extras(source.settings).items())).encode())
    for slug, target in sorted(source.settings.vendors.items()):
        digest.update(f"{slug} {target.method} {target.url} {target.batch_size}\n".encode())
    digest.update(source.text.encode())
    return digest.hexdigest()[:16]
