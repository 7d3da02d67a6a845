"""The long-lived delivery service: one outbox, one shared dispatcher, a few planner threads.

Runs go through the one run driver (``emulator.delivery.runner``), as ``run`` does, fed into the
service's one dispatcher (``emulator.delivery.shared``): sockets and threads stay bounded whatever
the traffic. A run is created and its file checked in the request; planning and storing go on in
one of a few planner threads, with back-pressure. A triggered event or a resend is stored and
handed to the dispatcher before the answer, with no thread of its own. When the dispatcher holds
too much, or the planners' queue is full, new work is refused with ``Busy`` (429 or 503 with
Retry-After), never queued without bound. Each run records what re-derives its plan, so
``resume`` finishes it even if the service is killed while planning, and the service owns (leases)
each run it works on, so ``resume`` leaves those alone and the API tells a live run from a dead
one. On ``stop`` the dispatcher stops; what is stored and unfinished stays pending in the outbox
for ``resume``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from types import MappingProxyType

from emulator.core.auth import REDACTED
from emulator.core.errors import EmulatorError
from emulator.core.policy import FINAL
from emulator.delivery.dispatcher import DEFAULT_WORKERS
from emulator.delivery.lease import Leases, RunOwned
from emulator.delivery.outbox import Outbox
from emulator.delivery.runner import Driver, PlanIdentity, settle
from emulator.delivery.shared import DEFAULT_CAPACITY, SharedDispatcher
from emulator.readers import config
from emulator.readers.loader import Plan
from emulator.web.plans import Defaults, Prepared
from emulator.web.queries import Queries

log = logging.getLogger("emulator.web")

PLANNERS = 2  # threads that plan and store API runs; more would only fight over one core
PLAN_QUEUE = 32  # runs waiting for a planner before new ones are refused
RETRY_AFTER = 2  # seconds a refused client is told to wait
SETTINGS_KEPT = 1000  # runs whose parsed settings are kept for resend (literal secrets aside)


class Conflict(Exception):
    """The delivery or run is not in a state that allows the request (e.g. still pending)."""


class Stopping(Exception):
    """The service is shutting down and accepts no new work."""


class Busy(Exception):
    """The service holds as much work as it takes now: ask again in ``retry_after`` seconds."""

    def __init__(self, message: str, status: int = 429, retry_after: int = RETRY_AFTER) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class DeliveryService:
    """Starts runs, events and resends over one outbox and one dispatcher; thread-safe."""

    def __init__(
        self,
        outbox: Outbox,
        queries: Queries,
        defaults: Defaults,
        *,
        workers: int = DEFAULT_WORKERS,
        capacity: int = DEFAULT_CAPACITY,
        planners: int = PLANNERS,
        plan_queue: int = PLAN_QUEUE,
        sink_route: tuple[str, str] | None = None,
    ) -> None:
        self.outbox = outbox
        self.queries = queries
        self.defaults = defaults
        self.workers = workers
        self.sink_route = sink_route  # (public sink URL prefix, the sink's own listener's)
        self.errors: list[BaseException] = []
        self.failures: dict[int, str] = {}  # run id -> why it failed (this process's runs)
        self._lock = threading.Lock()
        self._planning: dict[int, Driver] = {}  # runs a planner has or will have
        self._busy_deliveries: set[int] = set()
        self._settings: OrderedDict[int, config.Settings] = OrderedDict()
        self._stopping = False
        self._full = False  # logged once per change, not per refused request
        self.leases = Leases(outbox)
        self.shared = SharedDispatcher(
            outbox,
            config.Settings(),
            workers=workers,
            capacity=capacity,
            on_done=self._done,
            on_failed=self._failed,
        )
        self._queue: queue.Queue[tuple[int, Callable[[], object]] | None] = queue.Queue(plan_queue)
        self._planners = [
            threading.Thread(target=self._plan_loop, name=f"planner-{i}", daemon=True)
            for i in range(planners)
        ]
        for thread in self._planners:
            thread.start()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def active(self) -> int:
        """How many runs this service is planning or delivering now."""
        with self._lock:
            planning = set(self._planning)
        return len(planning | set(self.shared.open_runs()))

    def running(self, run_id: int) -> bool:
        """Whether this service is planning or delivering the run now."""
        with self._lock:
            if run_id in self._planning:
                return True
        return run_id in self.shared.open_runs()

    # Work

    def start_run(self, plan: Plan) -> int:
        """Create the run and return its id; planning, storing and delivery go on in a planner."""
        self._refuse_if_stopping()
        self._refuse_if_full(1)
        if self._queue.full():
            self._note_full(True)
            raise Busy(
                f"{self._queue.maxsize} runs are already waiting to be planned; try again later",
                status=503,
            )
        start = plan.start.timestamp() if plan.start is not None else time.time()
        identity = PlanIdentity(plan.source, plan.text, plan.seed, start)
        run_id = self.leases.create_run(
            plan.name, plan.settings_raw, plan.source, identity.as_json()
        )
        self._keep(run_id, plan.settings)
        channel = self.shared.channel(run_id, self._routed(plan.settings))
        driver = Driver(self.outbox, run_id, plan.settings, dispatcher=channel)
        with self._lock:
            self._planning[run_id] = driver
        try:
            self._queue.put_nowait((run_id, lambda: driver.plan(plan.events, start=start)))
        except queue.Full:  # another request took the last place meanwhile
            with self._lock:
                self._planning.pop(run_id, None)
            channel.join()
            self._failed(run_id, "refused: too many runs waiting to be planned")
            raise Busy("too many runs are waiting to be planned; try again later", 503) from None
        return run_id

    def start(self, prepared: Prepared) -> tuple[int, list[int]]:
        """Store a prepared run (one triggered event) and deliver it; (run id, delivery ids)."""
        self._refuse_if_stopping()
        self._refuse_if_full(len(prepared.deliveries))
        run_id = self.leases.create_run(prepared.name, prepared.raw, prepared.source)
        self._keep(run_id, prepared.settings)
        stored = self.outbox.enqueue(run_id, list(prepared.deliveries))
        self.outbox.finish_plan(run_id, len(stored))
        channel = self.shared.channel(run_id, self._routed(prepared.settings))
        Driver(self.outbox, run_id, prepared.settings, dispatcher=channel).deliver([stored])
        return run_id, [d.id for d in stored]

    def resend(self, run_id: int, delivery_ids: Sequence[int]) -> list[int]:
        """Send final deliveries of one run again: same body, same dedupe keys, fresh retries.

        Raises Conflict for a delivery still pending or being resent; nothing is changed then.
        """
        self._refuse_if_stopping()
        self._refuse_if_full(len(delivery_ids))
        settings = self._settings_of(run_id)
        statuses = self.queries.statuses(run_id, delivery_ids)
        with self._lock:
            for delivery_id in delivery_ids:
                if delivery_id in self._busy_deliveries or statuses.get(delivery_id) not in FINAL:
                    raise Conflict(
                        f"delivery {delivery_id} is still pending (being delivered or waiting for "
                        "a retry); only a delivered, failed or exhausted delivery can be resent"
                    )
            self._busy_deliveries.update(delivery_ids)
        try:
            try:
                self.leases.claim(run_id)
            except RunOwned as exc:
                raise Conflict(str(exc)) from None
            now = time.time()
            deliveries = [self.outbox.reset_for_resend(i, now) for i in delivery_ids]
            self.outbox.set_run_state(run_id, "running")
            channel = self.shared.channel(run_id, self._routed(settings))
            Driver(self.outbox, run_id, settings, dispatcher=channel).deliver([deliveries])
        finally:
            with self._lock:
                self._busy_deliveries.difference_update(delivery_ids)
        return list(delivery_ids)

    def _settings_of(self, run_id: int) -> config.Settings:
        with self._lock:
            kept = self._settings.get(run_id)
        if kept is not None:
            return kept
        stored = self.outbox.run(run_id)
        # ${VAR}s are expanded again now: secrets were never stored, only their names.
        if REDACTED in str(stored["settings"]):
            raise Conflict(
                f"run {run_id}'s settings held literal secrets, which are never stored; this "
                "service no longer knows them. Write secrets as ${VAR} so runs store only the "
                "name, or start a new run"
            )
        return config.parse(
            stored["settings"], source=stored["source"] or "run settings", env=self.defaults.env
        )

    def _routed(self, settings: config.Settings) -> config.Settings:
        """The settings the dispatcher uses: targets at the public sink go to its own listener."""
        if self.sink_route is None:
            return settings
        public, own = self.sink_route
        vendors = {
            slug: replace(t, url=own + t.url[len(public) :]) if t.url.startswith(public) else t
            for slug, t in settings.vendors.items()
        }
        return replace(settings, vendors=MappingProxyType(vendors))

    def _keep(self, run_id: int, settings: config.Settings) -> None:
        with self._lock:
            self._settings[run_id] = settings
            while len(self._settings) > SETTINGS_KEPT:
                self._settings.popitem(last=False)

    # Planner threads

    def _plan_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            run_id, work = item
            try:
                if not self._stopping:
                    work()
            except (
                EmulatorError
            ) as exc:  # found while planning (a builder): the message says it all
                self.errors.append(exc)
                self._failed(run_id, str(exc))
            except BaseException as exc:  # kept and logged: a failure in a thread must not vanish
                self.errors.append(exc)
                log.exception("run %s: the run driver failed", run_id)
                self._failed(run_id, f"the run driver failed: {type(exc).__name__}: {exc}")
            finally:
                with self._lock:
                    self._planning.pop(run_id, None)

    # Run states

    def _done(self, run_id: int) -> None:
        # Told once the run's submissions are closed (its planning is over) and all are final.
        if run_id in self.failures or self._stopping:
            return
        try:
            settle(self.outbox, run_id)
        except Exception as exc:  # the outbox closed under a stopping service
            log.warning("run %s: state not recorded: %s", run_id, exc)
        self._release(run_id)

    def _release(self, run_id: int) -> None:
        try:
            self.leases.release(run_id)
        except Exception as exc:  # the outbox closed under a stopping service
            log.warning("run %s: lease not released: %s", run_id, exc)

    def _failed(self, run_id: int, reason: str) -> None:
        self.failures[run_id] = reason
        log.error("run %s failed: %s", run_id, reason)
        try:
            self.outbox.set_run_state(run_id, "failed")
        except Exception as exc:
            log.warning("run %s: state not recorded: %s", run_id, exc)
        self._release(run_id)

    # Refusals

    def _refuse_if_full(self, adding: int) -> None:
        if self.shared.full(adding):
            self._note_full(True)
            raise Busy(
                f"the service holds {self.shared.outstanding:,} unfinished deliveries, its limit "
                f"is {self.shared.capacity:,}; try again later"
            )
        self._note_full(False)

    def _note_full(self, full: bool) -> None:
        if full != self._full:
            self._full = full
            if full:
                log.warning("busy: new runs and events are refused (429/503) until work drains")
            else:
                log.warning("accepting new runs and events again")

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the dispatcher; unfinished deliveries stay pending in the outbox for resume."""
        self._stopping = True
        with self._lock:
            planning = list(self._planning.values())
        for driver in planning:  # a planner stops storing at its next batch
            driver.stop()
        self.shared.stop(timeout)
        for _ in self._planners:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                break
        deadline = time.monotonic() + timeout
        for thread in self._planners:
            thread.join(max(deadline - time.monotonic(), 0.0))
        for run_id in self.shared.open_runs():
            self._settle_quietly(run_id)
            self._release(run_id)
        self.leases.close()

    def _settle_quietly(self, run_id: int) -> None:
        try:
            settle(self.outbox, run_id)
        except Exception as exc:
            log.warning("run %s: state not recorded: %s", run_id, exc)

    def _refuse_if_stopping(self) -> None:
        if self._stopping:
            raise Stopping("the service is shutting down; it accepts no new runs or resends")
