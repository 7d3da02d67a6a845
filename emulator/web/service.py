"""The long-lived delivery service: one outbox, each run or resend driven in a thread of its own.

Runs go through the one run driver (``emulator.delivery.runner``), as ``run`` does: the run is
created and its file checked in the request, then planning, storing and delivery stream in the
job's thread with back-pressure, so the API answers at once whatever the plan's size; the run
records what re-derives its plan, so ``resume`` finishes it even if the service is killed while
planning. A triggered event or a resend is stored before the answer. Each job gets its own
driver, since a dispatcher serves one set of settings. The service owns (leases) each run it
works on, so ``resume`` leaves those alone and the API tells a live run from a dead one. On
``stop`` every driver stops; what is unfinished stays for ``resume``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from emulator.core.errors import EmulatorError
from emulator.core.policy import FINAL
from emulator.delivery.dispatcher import DEFAULT_WORKERS
from emulator.delivery.lease import Leases, RunOwned
from emulator.delivery.outbox import Outbox
from emulator.delivery.records import Delivery
from emulator.delivery.runner import Driver, PlanIdentity, settle
from emulator.readers import config
from emulator.readers.loader import Plan
from emulator.web.plans import Defaults, Prepared
from emulator.web.queries import Queries

log = logging.getLogger("emulator.web")


class Conflict(Exception):
    """The delivery or run is not in a state that allows the request (e.g. still pending)."""


class Stopping(Exception):
    """The service is shutting down and accepts no new work."""


@dataclass(eq=False)
class _Job:
    run_id: int
    driver: Driver
    work: Callable[[], object]
    deliveries: list[Delivery] = field(default_factory=list)  # resent ones: busy until final
    thread: threading.Thread | None = None
    errors: list[BaseException] = field(default_factory=list)


class DeliveryService:
    """Starts runs and resends in the background over one outbox; thread-safe."""

    def __init__(
        self,
        outbox: Outbox,
        queries: Queries,
        defaults: Defaults,
        *,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self.outbox = outbox
        self.queries = queries
        self.defaults = defaults
        self.workers = workers
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._jobs: set[_Job] = set()
        self._busy_runs: Counter[int] = Counter()
        self._busy_deliveries: set[int] = set()
        self._stopping = False
        self.leases = Leases(outbox)

    @property
    def stopping(self) -> bool:
        return self._stopping

    def active(self) -> int:
        """How many runs a dispatcher of this service is working on now."""
        with self._lock:
            return len(self._busy_runs)

    def running(self, run_id: int) -> bool:
        """Whether a dispatcher of this service is working on the run now."""
        with self._lock:
            return self._busy_runs[run_id] > 0

    # Work

    def start_run(self, plan: Plan) -> int:
        """Create the run and return its id; planning, storing and delivery go on in its thread."""
        self._refuse_if_stopping()
        start = plan.start.timestamp() if plan.start is not None else time.time()
        identity = PlanIdentity(plan.source, plan.text, plan.seed, start)
        run_id = self.leases.create_run(
            plan.name, plan.settings_raw, plan.source, identity.as_json()
        )
        driver = self._driver(run_id, plan.settings)
        self._launch(_Job(run_id, driver, lambda: driver.plan(plan.events, start=start)))
        return run_id

    def start(self, prepared: Prepared) -> tuple[int, list[int]]:
        """Store a prepared run (one triggered event) and deliver it; (run id, delivery ids)."""
        self._refuse_if_stopping()
        run_id = self.leases.create_run(prepared.name, prepared.raw, prepared.source)
        stored = self.outbox.enqueue(run_id, list(prepared.deliveries))
        self.outbox.finish_plan(run_id, len(stored))
        driver = self._driver(run_id, prepared.settings)
        self._launch(_Job(run_id, driver, lambda: driver.deliver([stored])))
        return run_id, [d.id for d in stored]

    def resend(self, run_id: int, delivery_ids: Sequence[int]) -> list[int]:
        """Send final deliveries of one run again: same body, same dedupe keys, fresh retries.

        Raises Conflict for a delivery still pending or being resent; nothing is changed then.
        """
        self._refuse_if_stopping()
        stored = self.outbox.run(run_id)
        settings = self._settings(stored["settings"], stored["source"])
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
            self.leases.claim(run_id)
        except RunOwned as exc:
            with self._lock:
                self._busy_deliveries.difference_update(delivery_ids)
            raise Conflict(str(exc)) from None
        now = time.time()
        deliveries = [self.outbox.reset_for_resend(i, now) for i in delivery_ids]
        driver = self._driver(run_id, settings)
        self._launch(_Job(run_id, driver, lambda: driver.deliver([deliveries]), deliveries))
        return list(delivery_ids)

    def _settings(self, raw: dict, source: str | None) -> config.Settings:
        # ${VAR}s are expanded again now: secrets were never stored, only their names.
        return config.parse(raw, source=source or "run settings", env=self.defaults.env)

    def _driver(self, run_id: int, settings: config.Settings) -> Driver:
        return Driver(self.outbox, run_id, settings, workers=self.workers)

    def _launch(self, job: _Job) -> None:
        with self._lock:
            self._jobs.add(job)
            self._busy_runs[job.run_id] += 1
        job.thread = threading.Thread(target=self._work, args=(job,), name=f"run-{job.run_id}")
        job.thread.start()

    def _work(self, job: _Job) -> None:
        try:
            if not self._stopping:
                job.work()
        except EmulatorError as exc:  # found while planning (a builder): the message says it all
            job.errors.append(exc)
            self.errors.append(exc)
            log.error("run %s stopped: %s", job.run_id, exc)
        except BaseException as exc:  # kept and logged: a failure in a thread must not vanish
            job.errors.append(exc)
            self.errors.append(exc)
            log.exception("run %s: the run driver failed", job.run_id)
        finally:
            with self._lock:
                # The run counts as running until its final state is written, never "in between".
                last = self._busy_runs[job.run_id] == 1
            if last:
                self._settle_state(job.run_id)
            self._release(job.run_id)
            with self._lock:
                self._busy_runs[job.run_id] -= 1
                if self._busy_runs[job.run_id] <= 0:
                    del self._busy_runs[job.run_id]
                self._busy_deliveries.difference_update(d.id for d in job.deliveries)
                self._jobs.discard(job)

    def _release(self, run_id: int) -> None:
        try:
            self.leases.release(run_id)
        except Exception as exc:  # the outbox closed under a stopping service
            log.warning("run %s: lease not released: %s", run_id, exc)

    def _settle_state(self, run_id: int) -> None:
        try:
            settle(self.outbox, run_id)
        except Exception as exc:  # the outbox closed under a stopping service
            log.warning("run %s: state not recorded: %s", run_id, exc)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop every dispatcher; unfinished deliveries stay pending in the outbox for resume."""
        with self._lock:
            self._stopping = True
            jobs = list(self._jobs)
        for job in jobs:
            job.driver.stop()
        deadline = time.monotonic() + timeout
        for job in jobs:
            if job.thread is not None:
                job.thread.join(max(deadline - time.monotonic(), 0.0))
        self.leases.close()

    def _refuse_if_stopping(self) -> None:
        if self._stopping:
            raise Stopping("the service is shutting down; it accepts no new runs or resends")
