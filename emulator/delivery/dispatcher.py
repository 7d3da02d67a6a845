"""The dispatcher: one event loop that keeps several requests in flight over keep-alive sockets.

A single thread sends due deliveries and moves every exchange on as its socket is ready: connect,
TLS handshake, upload and answer never wait on a peer (``emulator.delivery.wire``), and each request
has a deadline that covers all of it, so a consumer that never accepts or never answers holds only
its own requests (the socket steps: ``emulator.delivery.sockets``). Answers are judged by
``emulator.delivery.judging`` (verdicts, attempt rows, batched outbox writes); each target's traffic is a ``Lane`` (its fair share of the workers, its
verification GET, its circuit breaker). Time is read from a ``Clock``, so tests run the vendors'
schedules in virtual time. One thread, not a pool: Python threads share one interpreter lock, and
a worker back from ``recv`` would queue behind the others for it, so answers would wait.
"""

from __future__ import annotations

import selectors
import ssl
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from emulator.core import catalogue
from emulator.delivery import injected
from emulator.delivery.clock import SYSTEM, Clock
from emulator.delivery.endpoint import VERIFY_METHOD, Endpoint
from emulator.delivery.judging import (
    DELIVERY,
    PING,
    VERIFY,
    Exchange,
    Ledger,
    Progress,
)
from emulator.delivery.lanes import Lane
from emulator.delivery.outbox import Outbox
from emulator.delivery.records import Delivery
from emulator.delivery.scheduler import Scheduler
from emulator.delivery.sockets import Sockets
from emulator.delivery.verdicts import Verdicts
from emulator.delivery.wire import Connection
from emulator.readers.config import tls_context

__all__ = ["DEFAULT_WORKERS", "Dispatcher", "Progress"]

# Requests in flight at once, each on its own keep-alive connection: more of them overlap our work
# with the consumer's. A slow consumer on a real network wants more: raise it with --workers.
DEFAULT_WORKERS = 8


class Dispatcher(Sockets, Verdicts):
    """Delivers a run's deliveries to their targets per the settings' profiles and rules.

    Use: ``start()``, ``submit(...)`` from the producing thread as deliveries are stored, then
    ``join()``. Errors in the loop thread are re-raised by ``join()``. At most ``workers`` requests
    are on the wire at any moment, verification GETs and pings included.

    One dispatcher can also serve several runs at once (the service): ``add_run`` gives a run
    settings of its own (targets, time scale, ordering), looked up per delivery by its run id, each
    run's targets in lanes of their own; ``on_final`` hears of each delivery once its final state is
    written. Such a dispatcher is never joined: ``stop()`` ends it.
    """

    def __init__(
        self,
        outbox: Outbox,
        settings: Any,
        *,
        workers: int = DEFAULT_WORKERS,
        clock: Clock = SYSTEM,
        on_final: Callable[[Delivery, str], None] | None = None,
        max_outstanding: int = 20_000,
    ) -> None:
        self.outbox = outbox
        self.settings = settings
        self.workers = max(int(workers), 1)
        self.clock = clock
        self._runs: dict[int, Any] = {}  # run id -> its own settings (a shared dispatcher)
        self.scheduler = Scheduler(
            per_coupon=self._ordered, max_outstanding=max_outstanding, clock=clock.now
        )
        self.ledger = Ledger(outbox)
        self.progress = self.ledger.progress
        self._thread: threading.Thread | None = None
        self._errors: list[BaseException] = []
        self._stop = threading.Event()
        self._lanes: dict[tuple[int | None, str], Lane] = {}  # (run id if its own settings, vendor)
        self._on_final = on_final
        self._finals: list[tuple[Delivery, str]] = []  # told to on_final once written
        self._contexts: dict[Any, ssl.SSLContext] = {}  # one TLS context per distinct setting
        self._unfinished: dict[str, int] = defaultdict(int)  # per vendor, for the fair share
        self._counts = threading.Lock()
        self._share = self.workers
        self._held = 0  # deliveries waiting in lanes
        self._selector = selectors.DefaultSelector()
        self._idle: dict[tuple[str, str, int], list[Connection]] = defaultdict(list)
        self._busy: set[Connection] = set()

    # Life cycle

    def start(self) -> Dispatcher:
        thread = threading.Thread(target=self._main, name="dispatcher", daemon=True)
        thread.start()
        self._thread = thread  # only once started: stop() from another thread may join it
        return self

    def add_run(self, run_id: int, settings: Any) -> None:
        """Deliver run ``run_id``'s deliveries with ``settings`` (instead of the dispatcher's)."""
        self._runs[run_id] = settings

    def drop_run(self, run_id: int) -> None:
        """Forget a run's settings and lanes (its deliveries are all final)."""
        self._runs.pop(run_id, None)
        for key in [k for k in list(self._lanes) if k[0] == run_id]:
            self._lanes.pop(key, None)

    @property
    def error(self) -> BaseException | None:
        """What ended the loop thread, if it failed."""
        return self._errors[0] if self._errors else None

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def submit(self, deliveries: list[Delivery]) -> None:
        with self._counts:
            for d in deliveries:
                self._unfinished[d.vendor] += 1
        for d in deliveries:
            self.progress.submitted += 1
            self.scheduler.submit(d)

    def join(self) -> Progress:
        """Wait until every submitted delivery is final and logged; re-raise a loop error."""
        self.scheduler.close()
        if self._thread is not None:
            self._thread.join()
        if self._errors:
            raise self._errors[0]
        return self.progress

    def stop(self) -> None:
        """Stop early (Ctrl-C): what is unfinished stays pending in the outbox for ``resume``."""
        self._stop.set()
        self.scheduler.stop()
        if self._thread is not None:
            self._thread.join(timeout=30)

    # The loop

    def _main(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # surfaced by join(): a failure in a thread must not vanish
            self._errors.append(exc)
            self.scheduler.stop()
        finally:
            try:
                self._flush()
            finally:
                for conn in [*self._busy, *(c for pool in self._idle.values() for c in pool)]:
                    conn.close()
                self._selector.close()

    def _loop(self) -> None:
        clock, scheduler, select = self.clock, self.scheduler, self._selector.select
        while not self._stop.is_set():
            now = clock.now()
            self._share = self._fair_share()
            self._fill(now)
            if not self._busy and scheduler.drained():
                return
            wait = self._next_timer(now)
            ready = select(clock.select_timeout(wait))
            for key, mask in ready:
                self._ready(key.data, mask)
            if not ready:
                clock.idled(wait)
            self._expire(clock.now())
            if self.ledger.flush_due():
                self._flush()

    def _flush(self) -> None:
        self.ledger.flush()
        if self._finals:
            finals, self._finals = self._finals, []
            if self._on_final is not None:
                for delivery, status in finals:
                    self._on_final(delivery, status)

    def _settings_of(self, delivery: Delivery) -> Any:
        return self._runs.get(delivery.run_id, self.settings)

    def _ordered(self, delivery: Delivery) -> bool:
        return self._settings_of(delivery).ordering == "per-coupon"

    def _fair_share(self) -> int:
        """Requests one target may have on the wire: the workers split between the targets with
        unfinished deliveries, so a target that never answers can hold only its own share."""
        with self._counts:
            active = sum(1 for n in self._unfinished.values() if n > 0)
        return max(self.workers // max(active, 1), 1)

    def _fill(self, now: float) -> None:
        """Start what may start: pings due, held deliveries, then due deliveries in due order."""
        for lane in self._lanes.values():
            if lane.breaker is not None and lane.breaker.ping_due(now) and self._room():
                self._ping(lane, now)
        if self._held:
            for lane in self._lanes.values():
                while lane.held and self._room() and self._release(lane, now):
                    pass
        poll = self.scheduler.poll
        while self._room():
            delivery = poll()
            if delivery is None:
                break
            self._offer(delivery, now)

    def _room(self) -> bool:
        return len(self._busy) < self.workers

    def _lane(self, delivery: Delivery) -> Lane:
        vendor = delivery.vendor
        key = (delivery.run_id if delivery.run_id in self._runs else None, vendor)
        lane = self._lanes.get(key)
        if lane is None:
            settings = self._settings_of(delivery)
            target = settings.vendors[vendor]
            endpoint = Endpoint(target, catalogue.vendor(vendor).profile)
            context = None
            if target.url.startswith("https:"):
                context = self._contexts.get(target.tls)
                if context is None:
                    context = self._contexts[target.tls] = tls_context(target.tls)
            lane = self._lanes[key] = Lane(endpoint, context, float(settings.time_scale))
        return lane

    def _offer(self, delivery: Delivery, now: float) -> None:
        lane = self._lane(delivery)
        if lane.deactivated:
            self._fail(delivery, lane.breaker_reason())
        elif lane.held or lane.blocked or lane.in_flight >= self._share:
            lane.held.append(delivery)
            self._held += 1
        elif not lane.verified:  # the verification GET first; the delivery waits for its verdict
            lane.held.append(delivery)
            self._held += 1
            self._verify(lane, delivery, now)
        else:
            self._send(lane, Exchange(delivery, lane.endpoint, self._auth(delivery, lane),
                                      DELIVERY, lane), now)  # fmt: skip

    def _release(self, lane: Lane, now: float) -> bool:
        """Start the first delivery a lane holds, if it may go now; False when it must wait."""
        if lane.deactivated:
            self._held -= len(lane.held)
            for delivery in lane.held:
                self._fail(delivery, lane.breaker_reason())
            lane.held.clear()
            return False
        if lane.blocked or lane.in_flight >= self._share:
            return False
        if not lane.verified:
            self._verify(lane, lane.held[0], now)
            return False
        delivery = lane.held.popleft()
        self._held -= 1
        self._send(lane, Exchange(delivery, lane.endpoint, self._auth(delivery, lane),
                                  DELIVERY, lane), now)  # fmt: skip
        return True

    @staticmethod
    def _auth(delivery: Delivery, lane: Lane) -> Any:
        mode = injected.auth_mode(delivery.label) if delivery.label else None
        return lane.endpoint.exchange(lane.target.method, delivery.body, mode)

    def _verify(self, lane: Lane, delivery: Delivery, now: float) -> None:
        lane.verifying = True
        auth = lane.endpoint.exchange(VERIFY_METHOD, b"")
        self._send(lane, Exchange(delivery, lane.endpoint, auth, VERIFY, lane), now)

    def _ping(self, lane: Lane, now: float) -> None:
        breaker = lane.breaker
        assert breaker is not None
        breaker.pinging = True
        subject = lane.held[0] if lane.held else breaker.subject
        auth = lane.endpoint.exchange(VERIFY_METHOD, b"")
        self._send(lane, Exchange(subject, lane.endpoint, auth, PING, lane), now)

    def _next_timer(self, now: float) -> float | None:
        """Seconds to the next thing the loop must do without a socket: a due delivery (when a
        worker is free), a deadline, a ping."""
        waits = [c.exchange.deadline - now for c in self._busy]  # type: ignore[union-attr]
        if self._room():
            due = self.scheduler.next_due_in()
            if due is not None:
                waits.append(due)
        for lane in self._lanes.values():
            breaker = lane.breaker
            if breaker is not None and breaker.next_ping is not None and not breaker.pinging:
                waits.append(breaker.next_ping - now)
        return min(waits) if waits else None
