"""The one run driver: planned events -> envelopes -> outbox -> dispatcher, streamed with
back-pressure; used by ``run``, ``send``, ``resume`` and the service alike.

Nothing accepted is lost, even when the process is killed while the plan is still being stored.
A run read from a document records, before anything is stored or sent, what re-derives its plan
(``PlanIdentity``: the document's text as read, its settings as written, the seed and the start
instant; planning is deterministic in these). Its deliveries are then stored in chunks, each
numbered on from the run's ``planned`` count and committed together with that count and a
digest of every delivery stored so far; when the plan is exhausted its total is recorded. So at
any kill the stored deliveries are exactly the first ``planned`` ones of the plan. ``resume``
plans again from the identity, checks that the first ``planned`` deliveries hash to the stored
digest (else it refuses: the plan no longer re-derives), then delivers what was left pending and
stores and delivers the rest, in order; a run is "done" only when its plan total is recorded and
nothing is pending. A run with no identity (``send``, the service's single events) is stored
whole before its first request. A process owns each run it delivers (``emulator.delivery.lease``).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from emulator.core.errors import UsageError
from emulator.core.plan import Parts, PlannedEvent
from emulator.delivery import feed, planners
from emulator.delivery.clock import SYSTEM, Clock
from emulator.delivery.dispatcher import DEFAULT_WORKERS, Dispatcher, Progress
from emulator.delivery.envelopes import ENQUEUE_CHUNK, chunks, digested, envelopes, fold
from emulator.delivery.feed import Feed
from emulator.delivery.lease import Leases
from emulator.delivery.outbox import Outbox
from emulator.delivery.records import Delivery, NewDelivery
from emulator.readers import forked

# Where they always were, for their callers (the load generator, tests).
__all__ = ["ENQUEUE_CHUNK", "Driver", "PlanIdentity", "RunResult", "digested", "envelopes",
           "fold", "resume_run", "run_plan"]  # fmt: skip


@dataclass(frozen=True)
class PlanIdentity:
    """What re-derives a run's plan through the one loader (``loader.replan``)."""

    source: str  # the document's name (a path, or the service's inline name)
    text: str  # the document as read
    seed: int
    start: float  # epoch seconds: events are dated from it and due from it

    @property
    def instant(self) -> datetime:
        return datetime.fromtimestamp(self.start, UTC)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunResult:
    run_id: int
    progress: Progress
    counts: Mapping[str, int]
    plan_complete: bool = True  # False: stopped before its whole plan was stored

    @property
    def ok(self) -> bool:
        return (
            self.counts["failed"] == 0
            and self.counts["exhausted"] == 0
            and self.counts["pending"] == 0
            and self.plan_complete
        )


class PlanDrift(UsageError):
    """A run's plan, planned again, does not match what the run stored."""


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
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def progress(self) -> Progress:
        return self.dispatcher.progress

    def plan(
        self,
        planned: Iterable[PlannedEvent],
        on_progress: Callable[[Progress], None] | None = None,
        *,
        start: float | None = None,
        planner: Feed | None = None,
    ) -> Progress:
        """Store and deliver every planned event; return when each delivery is final.

        The run must have a plan identity (``start`` is its start), so that what is stored
        while delivery already runs can be continued by ``resume``; without one, the whole
        plan is stored before the first request. ``planner``: the same plan's deliveries made
        by a child process (``emulator.delivery.feed``), taken instead of planning here.
        """
        if planner is not None:
            return self.deliver(self.store_chunks(planner), on_progress)
        start = self.clock.now() if start is None else start
        deliveries = envelopes(planned, self.settings, start)
        if self.outbox.run(self.run_id)["plan"] is None:
            # Nothing could re-derive a part left unstored: store it all, whatever a stop says.
            stored = [self.outbox.enqueue(self.run_id, c) for c in chunks(deliveries)]
            self.outbox.finish_plan(self.run_id, sum(map(len, stored)))
            return self.deliver(stored, on_progress)
        return self.deliver(self.store(deliveries), on_progress)

    def store(
        self,
        deliveries: Iterable[NewDelivery],
        after: int = 0,
        digest: Any = None,
        due: Callable[[float], float] | None = None,
    ) -> Iterator[list[Delivery]]:
        """Store ``deliveries`` (the plan from its ``after``-th on) chunk by chunk, each with the
        plan's running ``digest``; record the plan's total once it is exhausted. ``due`` re-times
        what is stored (the digest stays the plan's own: it is what ``resume`` re-derives)."""
        return self.store_chunks(digested(chunks(deliveries), digest), after, due)

    def store_chunks(
        self,
        parts: Iterable[tuple[list[NewDelivery], str]],
        after: int = 0,
        due: Callable[[float], float] | None = None,
    ) -> Iterator[list[Delivery]]:
        """Store the plan's chunks (from its ``after``-th delivery on), each given with the plan's
        digest up to its end; record the plan's total once they are exhausted."""
        stored = after
        for chunk, digest in parts:
            if self._stop.is_set():
                return
            if due is not None:
                chunk = [replace(d, due_at=due(d.due_at)) for d in chunk]
            stored_chunk = self.outbox.enqueue(self.run_id, chunk, after=stored, digest=digest)
            self.progress.planned += sum(d.events for d in chunk)
            yield stored_chunk
            stored += len(chunk)
        if not self._stop.is_set():
            self.outbox.finish_plan(self.run_id, stored)
            self.progress.plan_complete = True

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


def settle(outbox: Outbox, run_id: int) -> tuple[dict[str, int], bool]:
    """Record whether the run is done (its whole plan stored, nothing pending) or not; its counts
    and whether its whole plan is stored."""
    counts = outbox.counts(run_id)
    complete = outbox.run(run_id)["plan_complete"]
    done = complete and counts["pending"] == 0
    outbox.set_run_state(run_id, "done" if done else "interrupted")
    return counts, complete


class Stopper:
    """Stops the driver of a run from a signal handler: the stop runs in a thread of its own,
    since the handler may interrupt the main thread while it holds the scheduler's lock."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._driver: Driver | None = None

    def attach(self, driver: Driver | None) -> None:
        self._driver = driver
        if driver is not None and self.signal is not None:
            driver.stop()

    def request(self, signum: int) -> None:
        self.signal = signum
        driver = self._driver
        if driver is not None:
            threading.Thread(target=driver.stop, name="stop", daemon=True).start()


def run_plan(
    outbox: Outbox,
    settings: Any,
    raw_settings: Mapping[str, Any],
    planned: Iterable[PlannedEvent],
    *,
    name: str = "run",
    source: str | None = None,
    identity: PlanIdentity | None = None,
    workers: int = DEFAULT_WORKERS,
    on_progress: Callable[[Progress], None] | None = None,
    stopper: Stopper | None = None,
    clock: Clock = SYSTEM,
    parts: Parts | None = None,
    spread: Callable[[int], Iterator[PlannedEvent]] | None = None,
) -> RunResult:
    """Store and deliver every planned event; return when each delivery is final (or stopped).

    With ``identity`` the plan is stored as delivery goes on (and ``resume`` can re-derive what
    a kill left unstored); without, it is stored whole first. ``clock`` times due dates, retries
    and deadlines; tests pass a ``VirtualClock``. ``parts`` or ``spread``: the same plan in a form
    that the planning child spreads over the cores it may use (``planners.planned``).
    """
    planner = None
    if identity is not None and forked.usable():
        # Forked first, while no thread of ours runs yet (the leases' heartbeat is one).
        deliveries = planners.planned(planned, settings, identity.start, parts=parts, spread=spread)
        planner = feed.Feed(deliveries)
    try:
        leases = Leases(outbox)
        run_id = leases.create_run(name, raw_settings, source, identity and identity.as_json())
        try:
            driver = Driver(outbox, run_id, settings, workers=workers, clock=clock)
            stopper = stopper or Stopper()
            stopper.attach(driver)
            start = identity.start if identity is not None else None
            progress = driver.plan(planned, on_progress, start=start, planner=planner)
            stopper.attach(None)
            return RunResult(run_id, progress, *settle(outbox, run_id))
        finally:
            leases.release(run_id)
            leases.close()
    finally:
        if planner is not None:
            planner.close()


def resume_run(
    outbox: Outbox,
    run_id: int,
    settings: Any,
    *,
    workers: int = DEFAULT_WORKERS,
    on_progress: Callable[[Progress], None] | None = None,
    stopper: Stopper | None = None,
    clock: Clock = SYSTEM,
) -> RunResult:
    """Finish a run that was killed or stopped: deliver what it left pending, with the same bodies
    and keys, and store and deliver what its plan holds beyond what was stored.

    ``settings`` are where to deliver now, and at which time scale: what still waits is
    re-timed to it (``retime``); the plan is re-derived with the run's own. Raises
    ``RunOwned`` while another live process owns the run (nothing is sent), ``PlanDrift`` when
    the plan no longer re-derives as stored.
    """
    leases = Leases(outbox)
    leases.claim(run_id)
    try:
        retime(outbox, run_id, float(settings.time_scale), clock.now())
        driver = Driver(outbox, run_id, settings, workers=workers, clock=clock)
        # Read before anything more is stored, so what the rest of the plan adds is sent once.
        batches: Iterable[list[Delivery]] = chunks(
            outbox.pending(run_id, through=outbox.last_id(run_id))
        )
        run = outbox.run(run_id)
        if not run["plan_complete"]:
            batches = itertools.chain(batches, rest_of_plan(driver, run))
        stopper = stopper or Stopper()
        stopper.attach(driver)
        progress = driver.deliver(batches, on_progress)
        stopper.attach(None)
        return RunResult(run_id, progress, *settle(outbox, run_id))
    finally:
        leases.release(run_id)
        leases.close()


def rest_of_plan(driver: Driver, run: Mapping[str, Any]) -> Iterator[list[Delivery]]:
    """Plan the run again (checked now, before anything is sent) and store what was never stored."""
    from emulator.readers import loader

    identity = PlanIdentity(**run["plan"])
    plan = loader.replan(identity.source, identity.text, run["settings"], seed=identity.seed,
                         start=identity.instant)  # fmt: skip
    deliveries = planners.planned(
        plan.events, plan.settings, identity.start, parts=plan.parts, spread=plan.spread
    )
    digest = hashlib.sha256()
    stored = run["planned"]
    for d in itertools.islice(deliveries, stored):
        fold(digest, d)
    if digest.hexdigest() != run["plan_digest"]:
        raise PlanDrift(
            f"run {run['id']}: its plan, planned again from {identity.source} as stored with the "
            f"run (seed {identity.seed}), differs from the {stored} deliveries stored; this "
            "version of coupon-emulator plans it differently, or a ${VAR} in its settings "
            "changed. Nothing was sent; resume it with the version and environment it ran with"
        )
    offset, factor = driver.outbox.schedule(run["id"])
    due = None if (offset, factor) == (0.0, 1.0) else (lambda t: offset + factor * t)
    return driver.store(deliveries, after=stored, digest=digest, due=due)


def retime(outbox: Outbox, run_id: int, scale: float, now: float) -> None:
    """Resumed at time scale ``scale``, the run's remaining schedule follows it: every wait still
    ahead of ``now`` (events not yet due, retries scheduled, the part of the plan not yet stored)
    is multiplied by ``scale`` over the scale it was timed at (the run's settings' scale, times
    what earlier resumes changed). Retries scheduled from now on take ``scale`` directly."""
    from emulator.readers import config

    # Only the scale is read back: the rest of the stored settings may name ${VAR}s that this
    # resume replaces (--target), which a full parse would require.
    written = {k: v for k, v in outbox.run(run_id)["settings"].items() if k == "time_scale"}
    planned = config.parse(written, source=f"the settings stored with run {run_id}").time_scale
    current = planned * outbox.schedule(run_id)[1]
    if current > 0 and scale > 0 and not math.isclose(scale, current, rel_tol=1e-9):
        outbox.retime(run_id, now, scale / current)


def _tick(progress: Progress, callback: Callable[[Progress], None], stop: threading.Event) -> None:
    while not stop.wait(0.5):
        callback(progress)
    callback(progress)
