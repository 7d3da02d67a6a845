"""The one run driver: planned events -> envelopes -> outbox -> dispatcher, streamed with
back-pressure; used by ``run``, ``send``, ``resume`` and the service alike."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from emulator.core import catalogue
from emulator.core.errors import UsageError
from emulator.core.plan import PlannedEvent
from emulator.core.vendor import encode
from emulator.delivery.clock import SYSTEM, Clock
from emulator.delivery.dispatcher import DEFAULT_WORKERS, Dispatcher, Progress
from emulator.delivery.outbox import Outbox
from emulator.delivery.records import Delivery, NewDelivery

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


class Driver:
    """One run's delivery: a dispatcher fed from a stream of stored deliveries.

    ``plan`` envelopes, stores and submits planned events as they come; the dispatcher holds only
    so many unfinished ones, so planning runs no further ahead than delivery (back-pressure) and
    memory stays flat whatever the plan's size. ``stop`` (from any thread) ends it early: what is
    stored and unfinished stays pending in the outbox for ``resume``.
    """

    def __init__(
        self,
        outbox: Outbox,
        run_id: int,
        settings: Any,
        *,
        workers: int = DEFAULT_WORKERS,
        clock: Clock = SYSTEM,
        dispatcher: Any = None,
    ) -> None:
        self.outbox = outbox
        self.run_id = run_id
        self.settings = settings
        self.clock = clock
        # A dispatcher of its own, or the run's channel into the service's shared one.
        self.dispatcher = dispatcher or Dispatcher(outbox, settings, workers=workers, clock=clock)
        self._stop = threading.Event()

    @property
    def progress(self) -> Progress:
        return self.dispatcher.progress

    def plan(
        self,
        planned: Iterable[PlannedEvent],
        on_progress: Callable[[Progress], None] | None = None,
    ) -> Progress:
        """Store and deliver every planned event; return when each delivery is final."""
        stored = (
            self.outbox.enqueue(self.run_id, chunk)
            for chunk in _chunks(envelopes(planned, self.settings, self.clock.now()))
        )
        return self.deliver(stored, on_progress)

    def deliver(
        self,
        batches: Iterable[list[Delivery]],
        on_progress: Callable[[Progress], None] | None = None,
    ) -> Progress:
        """Deliver stored deliveries, batch by batch as they come; return when all are final."""
        dispatcher = self.dispatcher.start()
        stop_ticker = threading.Event()
        ticker = None
        if on_progress is not None:
            ticker = threading.Thread(
                target=_tick, args=(dispatcher.progress, on_progress, stop_ticker), daemon=True
            )
            ticker.start()
        try:
            for batch in batches:
                if self._stop.is_set():
                    break
                dispatcher.submit(batch)  # blocks while too many are unfinished
            return dispatcher.join()
        except BaseException:
            dispatcher.stop()
            raise
        finally:
            stop_ticker.set()
            if ticker is not None:
                ticker.join()

    def stop(self) -> None:
        self._stop.set()
        self.dispatcher.stop()


def settle(outbox: Outbox, run_id: int) -> dict[str, int]:
    """Record whether the run is done or left work pending; its counts."""
    counts = outbox.counts(run_id)
    outbox.set_run_state(run_id, "done" if counts["pending"] == 0 else "interrupted")
    return counts


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
    clock: Clock = SYSTEM,
) -> RunResult:
    """Store and deliver every planned event; return when each delivery is final.

    ``clock`` times due dates, retries and deadlines; tests pass a ``VirtualClock``."""
    run_id = outbox.create_run(name, raw_settings, source)
    driver = Driver(outbox, run_id, settings, workers=workers, clock=clock)
    progress = driver.plan(planned, on_progress)
    return RunResult(run_id, progress, settle(outbox, run_id))


def resume_run(
    outbox: Outbox,
    run_id: int,
    settings: Any,
    *,
    workers: int = DEFAULT_WORKERS,
    on_progress: Callable[[Progress], None] | None = None,
    clock: Clock = SYSTEM,
) -> RunResult:
    """Deliver what a run left pending (a killed process), with the same bodies and keys."""
    driver = Driver(outbox, run_id, settings, workers=workers, clock=clock)
    progress = driver.deliver(_chunks(outbox.pending(run_id)), on_progress)
    return RunResult(run_id, progress, settle(outbox, run_id))


def _chunks(items: Iterable[Any]) -> Iterator[list[Any]]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= ENQUEUE_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _tick(progress: Progress, callback: Callable[[Progress], None], stop: threading.Event) -> None:
    while not stop.wait(0.5):
        callback(progress)
    callback(progress)
