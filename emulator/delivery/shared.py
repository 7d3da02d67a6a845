"""One dispatcher for many runs (the service): bounded sockets and threads whatever the traffic.

Each run gets a ``Channel`` with the surface the run driver uses (``start``, ``submit``, ``join``,
``stop``, ``progress``), so runs of the service go through the one run driver. A run is done when
its submissions are closed and each of its deliveries is final and written; ``on_done`` hears of it
on a thread of its own, never on the dispatcher's. If the dispatcher's loop fails, every open run
hears of it (``on_failed``, with the reason) and a fresh dispatcher takes new work.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulator.delivery.dispatcher import DEFAULT_WORKERS, Dispatcher, Progress
from emulator.delivery.outbox import Outbox
from emulator.delivery.records import Delivery

log = logging.getLogger("emulator.delivery")

DEFAULT_CAPACITY = 10_000  # unfinished deliveries held in memory before new work is refused
WATCH_EVERY = 0.2  # seconds between looks at the dispatcher's health


@dataclass
class _Run:
    progress: Progress = field(default_factory=Progress)
    outstanding: int = 0
    closed: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    dispatcher: Dispatcher | None = None


class SharedDispatcher:
    """A dispatcher shared by every run of a service; thread-safe."""

    def __init__(
        self,
        outbox: Outbox,
        settings: Any,
        *,
        workers: int = DEFAULT_WORKERS,
        capacity: int = DEFAULT_CAPACITY,
        on_done: Callable[[int], None] = lambda run_id: None,
        on_failed: Callable[[int, str], None] = lambda run_id, reason: None,
    ) -> None:
        self.outbox = outbox
        self.settings = settings  # for deliveries of a run never opened (none, in practice)
        self.workers = workers
        self.capacity = capacity
        self.on_done = on_done
        self.on_failed = on_failed
        self._lock = threading.Lock()
        self._runs: dict[int, _Run] = {}
        self._events: queue.Queue[tuple[str, int, str] | None] = queue.Queue()
        self._stopping = threading.Event()
        self._dispatcher = self._fresh()
        self._notifier = threading.Thread(target=self._notify, name="run-states", daemon=True)
        self._notifier.start()
        self._watcher = threading.Thread(target=self._watch, name="dispatcher-watch", daemon=True)
        self._watcher.start()

    # Capacity

    @property
    def outstanding(self) -> int:
        """Deliveries submitted and not yet final, over every run."""
        return self._dispatcher.scheduler.outstanding

    def full(self, adding: int = 1) -> bool:
        """Whether ``adding`` more deliveries would pass the capacity."""
        return self.outstanding + adding > self.capacity

    def open_runs(self) -> list[int]:
        with self._lock:
            return list(self._runs)

    # Runs

    def channel(self, run_id: int, settings: Any) -> Channel:
        """Open run ``run_id`` with its settings; feed it through the channel, then ``join``."""
        with self._lock:
            dispatcher = self._dispatcher
            dispatcher.add_run(run_id, settings)
            run = self._runs.setdefault(run_id, _Run())
            run.closed = False
            run.done.clear()
            run.dispatcher = dispatcher
        return Channel(self, run_id)

    def _submit(self, run_id: int, deliveries: list[Delivery]) -> None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:  # stopped meanwhile: what is stored stays pending for resume
                return
            run.outstanding += len(deliveries)
            run.progress.submitted += len(deliveries)
            dispatcher = run.dispatcher
        assert dispatcher is not None
        dispatcher.submit(deliveries)  # blocks the producer (a planner) while too many are held

    def _close(self, run_id: int) -> None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return
            run.closed = True
            finished = run.outstanding <= 0
        if finished:
            self._finish(run_id)

    def _final(self, delivery: Delivery, status: str) -> None:
        # On the dispatcher's thread, after the delivery's final state is written.
        with self._lock:
            run = self._runs.get(delivery.run_id)
            if run is None:
                return
            run.outstanding -= 1
            run.progress.statuses[status] += 1
            finished = run.closed and run.outstanding <= 0
        if finished:
            self._finish(delivery.run_id)

    def _finish(self, run_id: int) -> None:
        with self._lock:
            run = self._runs.pop(run_id, None)
        if run is None:
            return
        if run.dispatcher is not None:
            run.dispatcher.drop_run(run_id)
        run.done.set()
        self._events.put(("done", run_id, ""))

    # Health

    def _fresh(self) -> Dispatcher:
        return Dispatcher(
            self.outbox,
            self.settings,
            workers=self.workers,
            on_final=self._final,
            max_outstanding=self.capacity * 2,
        ).start()

    def _watch(self) -> None:
        while not self._stopping.wait(WATCH_EVERY):
            dispatcher = self._dispatcher
            if dispatcher.alive():
                continue
            reason = (
                f"the dispatcher stopped: {type(dispatcher.error).__name__}: {dispatcher.error}"
            )
            log.error("%s; its runs are marked failed, new work goes to a fresh dispatcher", reason)
            with self._lock:
                self._dispatcher = self._fresh()
                lost = [i for i, r in self._runs.items() if r.dispatcher is dispatcher]
                for run_id in lost:
                    self._runs.pop(run_id).done.set()
            for run_id in lost:
                self._events.put(("failed", run_id, reason))

    def _notify(self) -> None:
        while True:
            item = self._events.get()
            if item is None:
                return
            kind, run_id, reason = item
            try:
                if kind == "done":
                    self.on_done(run_id)
                else:
                    self.on_failed(run_id, reason)
            except Exception:  # logged: one run's state must not stop the others'
                log.exception("run %s: its state could not be recorded", run_id)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop delivering: what is unfinished stays pending in the outbox for ``resume``."""
        self._stopping.set()
        self._dispatcher.stop()
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.done.set()
        self._events.put(None)
        self._notifier.join(timeout)


class Channel:
    """One run's view of the shared dispatcher, with the surface the run driver uses.

    ``join`` closes the run's submissions and returns at once: the run goes on in the shared
    dispatcher, and its end is told to ``on_done``; ``wait`` blocks until then.
    """

    def __init__(self, shared: SharedDispatcher, run_id: int) -> None:
        self.shared = shared
        self.run_id = run_id
        with shared._lock:
            self._run = shared._runs[run_id]

    @property
    def progress(self) -> Progress:
        return self._run.progress

    def start(self) -> Channel:
        return self

    def submit(self, deliveries: list[Delivery]) -> None:
        if deliveries:
            self.shared._submit(self.run_id, deliveries)

    def join(self) -> Progress:
        self.shared._close(self.run_id)
        return self._run.progress

    def wait(self, timeout: float | None = None) -> bool:
        return self._run.done.wait(timeout)

    def stop(self) -> None:
        """The service stops the whole dispatcher; one run alone is not stopped midway."""
        self.shared._close(self.run_id)
