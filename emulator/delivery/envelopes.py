"""A plan as the outbox stores it: request bodies in plan order (batches packed), in
chunks of one transaction each, and the running digest that lets ``resume`` check a stored prefix
(``emulator.delivery.runner``). The same code runs in this process or in a planning child
(``emulator.delivery.feed``), so both store the same bytes."""

from __future__ import annotations

import functools
import hashlib
import inspect
from collections.abc import Iterable, Iterator
from typing import Any

from emulator.core import catalogue, overrides
from emulator.core.errors import UsageError
from emulator.core.plan import PlannedEvent
from emulator.core.vendor import encode
from emulator.delivery.records import NewDelivery

ENQUEUE_CHUNK = 500  # deliveries per outbox transaction, at most
CHUNK_BYTES = 1 << 20  # or about this many bytes of bodies


def envelopes(
    planned: Iterable[PlannedEvent], settings: Any, start: float
) -> Iterator[NewDelivery]:
    """Request bodies in plan order; fabric packs up to ``batch_size`` events of one type together.

    A batch leaves when full, when the plan moves on past ``batch_size`` events of other types, at
    the end of a block of an event list (``PlannedEvent.block_end``), or at the end, and is due
    when its last event is.
    """
    scale = float(settings.time_scale)
    buffers: dict[tuple[str, str], list[PlannedEvent]] = {}
    for event in planned:
        target = settings.vendors.get(event.vendor)
        if target is None:
            raise UsageError(
                f"the plan has {event.vendor} events but the settings give no {event.vendor} target; "
                f"add vendors.{event.vendor}.target, or pass --target {event.vendor}=URL"
            )
        size = max(int(getattr(target, "batch_size", 1) or 1), 1)
        if size == 1 or event.raw_body is not None or event.auth is not None:
            yield _delivery([event], start, scale)
        else:
            key = (event.vendor, event.event_type)
            buffer = buffers.setdefault(key, [])
            buffer.append(event)
            if len(buffer) >= size:
                yield _delivery(buffers.pop(key), start, scale)
        if event.block_end:
            yield from _flushed(buffers, start, scale)
    yield from _flushed(buffers, start, scale)


def _flushed(
    buffers: dict[tuple[str, str], list[PlannedEvent]], start: float, scale: float
) -> Iterator[NewDelivery]:
    """The batches still filling, oldest first; ``buffers`` left empty."""
    for events in buffers.values():
        if events:
            yield _delivery(events, start, scale)
    buffers.clear()


@functools.cache
def _owns(slug: str) -> bool:
    """Whether the vendor's ``batch`` takes ``owned`` (one written before it was added may not)."""
    return "owned" in inspect.signature(catalogue.vendor(slug).batch).parameters


def _delivery(events: list[PlannedEvent], start: float, scale: float) -> NewDelivery:
    first = events[0]
    vendor = catalogue.vendor(first.vendor)
    body = first.body
    if len(events) > 1:
        bodies = [e.body for e in events]
        # The planned bodies go nowhere else: the batch may hold them rather than copies.
        body = vendor.batch(bodies, owned=True) if _owns(first.vendor) else vendor.batch(bodies)
    label = ",".join(sorted({e.label for e in events if e.label}))
    if first.auth is not None and f"{first.auth}_auth" not in label.split(","):
        label = ",".join(filter(None, (label, f"{first.auth}_auth")))  # the dispatcher reads it
    # A body changed by overrides may lack what its keys are made of: sent keyless, as asked.
    overridden = overrides.LABEL in label.split(",")
    keys = overrides.dedupe_keys(vendor, body) if overridden else tuple(vendor.dedupe_keys(body))
    return NewDelivery(
        vendor=first.vendor,
        event_type=first.event_type,
        coupon_key=first.coupon_key,
        dedupe_keys=keys,
        body=encode(body) if first.raw_body is None else first.raw_body,
        due_at=start + max(e.due for e in events) * scale,
        label=label,
        events=len(events),
    )


def fold(digest: Any, d: NewDelivery) -> None:
    """Add one delivery, every byte that defines it, to a plan's running digest."""
    head = "\x1f".join(
        (d.vendor, d.event_type, d.coupon_key, "\x1e".join(d.dedupe_keys), repr(d.due_at), d.label)
    ).encode()
    digest.update(len(head).to_bytes(8, "big") + head + len(d.body).to_bytes(8, "big"))
    digest.update(d.body)


def digested(
    chunks: Iterable[list[NewDelivery]], digest: Any = None
) -> Iterator[tuple[list[NewDelivery], str]]:
    """Each chunk with the plan's running digest (``fold``) up to its end."""
    digest = hashlib.sha256() if digest is None else digest
    for chunk in chunks:
        for d in chunk:
            fold(digest, d)
        yield chunk, digest.hexdigest()


def chunks(items: Iterable[Any]) -> Iterator[list[Any]]:
    """Deliveries in transactions of ``ENQUEUE_CHUNK``, or fewer when their bodies reach
    ``CHUNK_BYTES``: a chunk of batches of 100 would otherwise hold 50,000 events, planned before
    the first of them could be sent."""
    chunk: list[Any] = []
    size = 0
    for item in items:
        chunk.append(item)
        size += len(item.body)
        if len(chunk) >= ENQUEUE_CHUNK or size >= CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk
