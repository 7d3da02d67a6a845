"""A run from start to end: planned events -> envelopes -> outbox -> dispatcher; and ``resume``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from emulator.core import catalogue
from emulator.core.errors import UsageError
from emulator.core.plan import PlannedEvent
from emulator.core.vendor import encode
from emulator.delivery.dispatcher import DEFAULT_WORKERS, Dispatcher, Progress
from emulator.delivery.outbox import NewDelivery, Outbox

ENQUEUE_CHUNK = 500


@dataclass(frozen=True)
class RunResult:
    run_id: int
    progress: Progress
    counts: Mapping[str, int]

    @property
    def ok(self) -> bool:
        return (
            self.counts["failed"] == 0
            and self.counts["exhausted"] == 0
            and self.counts["pending"] == 0
        )


def envelopes(
    planned: Iterable[PlannedEvent], settings: Any, start: float
) -> Iterator[NewDelivery]:
    """Request bodies in plan order; fabric packs up to ``batch_size`` events of one type together.

    A batch leaves when full, when the plan moves on past ``batch_size`` events of other types, or
    at the end, and is due when its last event is.
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
            continue
        key = (event.vendor, event.event_type)
        buffer = buffers.setdefault(key, [])
        buffer.append(event)
        if len(buffer) >= size:
            yield _delivery(buffers.pop(key), start, scale)
    for events in buffers.values():
        if events:
            yield _delivery(events, start, scale)


def _delivery(events: list[PlannedEvent], start: float, scale: float) -> NewDelivery:
    first = events[0]
    vendor = catalogue.vendor(first.vendor)
    body = vendor.batch([e.body for e in events]) if len(events) > 1 else events[0].body
    label = ",".join(sorted({e.label for e in events if e.label}))
    if first.auth is not None and f"{first.auth}_auth" not in label.split(","):
        label = ",".join(filter(None, (label, f"{first.auth}_auth")))  # the dispatcher reads it
    return NewDelivery(
        vendor=first.vendor,
        event_type=first.event_type,
        coupon_key=first.coupon_key,
        dedupe_keys=tuple(vendor.dedupe_keys(body)),
        body=encode(body) if first.raw_body is None else first.raw_body,
        due_at=start + max(e.due for e in events) * scale,
        label=label,
    )


def run_plan(
    outbox: Outbox,
    settings: Any,
    raw_settings: Mapping[str, Any],
    planned: Iterable[PlannedEvent],
    *,
    name: str = "run",
    source: str | None = None,
    workers: int = DEFAULT_WORKERS,
    on_progress: Callable[[Progress], None] | None = None,
) -> RunResult:
    """Store and deliver every planned event; return when each delivery is final."""
    run_id = outbox.create_run(name, raw_settings, source)
    dispatcher = Dispatcher(outbox, settings, workers=workers).start()
    return _drive(
        outbox, run_id, dispatcher, _enqueued(outbox, run_id, settings, planned), on_progress
    )


def resume_run(
    outbox: Outbox,
    run_id: int,
    settings: Any,
    *,
    workers: int = DEFAULT_WORKERS,
    on_progress: Callable[[Progress], None] | None = None,
) -> RunResult:
    """Deliver what a run left pending (a killed process), with the same bodies and keys."""
    dispatcher = Dispatcher(outbox, settings, workers=workers).start()
    return _drive(outbox, run_id, dispatcher, _chunks(outbox.pending(run_id)), on_progress)


def _enqueued(outbox: Outbox, run_id: int, settings: Any, planned: Iterable[PlannedEvent]):
    for chunk in _chunks(envelopes(planned, settings, time.time())):
        yield outbox.enqueue(run_id, chunk)


def _chunks(items: Iterable[Any]):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= ENQUEUE_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _drive(outbox, run_id, dispatcher, batches, on_progress) -> RunResult:
    stop_ticker = threading.Event()
    ticker = None
    if on_progress is not None:
        ticker = threading.Thread(
            target=_tick, args=(dispatcher.progress, on_progress, stop_ticker), daemon=True
        )
        ticker.start()
    try:
        for batch in batches:
            dispatcher.submit(batch)
        progress = dispatcher.join()
    except BaseException:
        dispatcher.stop()
        raise
    finally:
        stop_ticker.set()
        if ticker is not None:
            ticker.join()
    counts = outbox.counts(run_id)
    outbox.set_run_state(run_id, "done" if counts["pending"] == 0 else "interrupted")
    return RunResult(run_id, progress, counts)


def _tick(progress: Progress, callback: Callable[[Progress], None], stop: threading.Event) -> None:
    while not stop.wait(0.5):
        callback(progress)
    callback(progress)
