"""The two roles of a load run's processes: a sender's share of the plan, and the master's watch.

Imported only inside Locust's process (it uses gevent, which Locust has patched in by then).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import gevent
from gevent.event import Event
from gevent.lock import Semaphore

from emulator.core import catalogue
from emulator.core.errors import UsageError
from emulator.delivery.endpoint import Endpoint, Verifications
from emulator.loadgen.share import Request, fingerprint, requests
from emulator.loadgen.source import PlanSource, load_plan

log = logging.getLogger("coupon-emulator")
SHARES = "coupon_shares"  # on the master's parsed options, which Locust sends with every spawn
# Worker to master: ready to send (or cannot), share sent; master to workers: every plan agrees, send.
READY, DONE, GO = "coupon_ready", "coupon_done", "coupon_go"
STATS_WAIT = 15.0  # seconds the master waits for the workers' last statistics before it quits


@dataclass(frozen=True)
class Options:
    """What decides the plan; every process of a run must agree on it (the master checks)."""

    scenario: str
    seed: int | None
    settings: str | None
    targets: tuple[str, ...]

    @classmethod
    def of(cls, parsed: Any) -> Options | None:
        scenario = getattr(parsed, "scenario", None)
        if not scenario:
            return None
        targets = tuple(getattr(parsed, "target", None) or ())
        return cls(scenario, parsed.seed, parsed.settings, targets)

    def load(self, share: tuple[int, int] | None = None) -> PlanSource:
        return load_plan(self.scenario, self.seed, self.settings, self.targets, share)


class Sender:
    """A sending process's share of the plan, planned request by request as its users take them.

    The share is never held whole: ``take`` plans the next request when a user asks for it, so the
    first request leaves as soon as it is planned and memory stays flat whatever the plan's size.
    ``configure`` gets the plan's targets before any user starts (the user class's host and
    timeouts come from them).
    """

    def __init__(
        self,
        environment: Any,
        own: Options | None,
        worker: bool,
        configure: Callable[[list[Any]], None],
    ) -> None:
        self.environment = environment
        self.own = own
        self.worker = worker
        self.configure = configure
        self.requests = 0  # request events this process reported to Locust
        self.planning = Semaphore()  # one user at a time advances the plan
        self._reset()

    def _reset(self) -> None:
        self.stream: Iterator[Request] | None = None
        self.first: Request | None = None  # planned before the master is told this one is ready
        self.index = 0
        self.error: str | None = None
        self.go = Event()  # set when users may send (or must give up)
        self.exhausted = False  # the share is completely planned (or planning failed)
        self.in_flight = self.taken = self.taken_events = 0
        self.sent = self.failed = self.events = 0
        self.finished = self.reported = False
        self.targets: Mapping[str, Any] = {}
        self.endpoints: dict[str, Endpoint] = {}
        self.verifications = Verifications()  # once per process and target
        self.verified: dict[str, Event] = {}  # set when that target's verification GET is judged

    def count_request(self, **_: Any) -> None:
        self.requests += 1

    def start(self) -> None:
        self._reset()
        self.requests = 0
        runner = self.environment.runner
        index, count = 0, 1
        if self.worker:
            shares = getattr(self.environment.parsed_options, SHARES, None) or {}
            if runner.client_id not in shares:
                log.error(
                    "this worker joined after the test started: it has no share and sends nothing"
                )
                self.go.set()
                return
            index, count = shares[runner.client_id], len(shares)
        self.index = index
        options = self.own or Options.of(self.environment.parsed_options)
        try:
            if options is None:
                raise UsageError("no plan: pass --scenario FILE to the master or to this worker")
            source = options.load((index, count))
        except UsageError as exc:
            self._refuse(index, str(exc))
            return
        self.targets = source.settings.vendors
        self.configure(list(self.targets.values()))
        gevent.spawn(self._prepare, source, index, count)

    def _prepare(self, source: PlanSource, index: int, count: int) -> None:
        # Only the share's first request is planned before the master hears from this process
        # (a plan that fails at once fails before anything is sent). In a native thread, so this
        # process keeps answering the master (heartbeats) however busy the machine is.
        stream = requests(source)
        try:
            first = gevent.get_hub().threadpool.apply(next, (stream, None))
        except UsageError as exc:
            self._refuse(index, str(exc))
            return
        except Exception as exc:  # a bug: say so, and let the users and the master stop
            log.exception("planning failed")
            self._refuse(index, f"planning failed: {exc!r}")
            return
        self.stream, self.first = stream, first
        self.exhausted = first is None
        plan_print = fingerprint(source)
        log.info(
            "plan %r, seed %d, fingerprint %s: share %d of %d, planned as it is sent",
            source.name, source.seed, plan_print, index, count,
        )  # fmt: skip
        if self.worker:
            self.environment.runner.send_message(
                READY, {"index": index, "fingerprint": plan_print, "name": source.name}
            )
        else:
            self._begin()

    def on_go(self, environment: Any, msg: Any) -> None:
        self._begin()

    def _begin(self) -> None:
        self.go.set()
        self.check_finished()  # an empty share is sent at once

    def _refuse(self, index: int, message: str) -> None:
        log.error("%s", message)
        self.error = message
        self.go.set()
        if self.worker:
            self.environment.runner.send_message(READY, {"index": index, "error": message})
        else:
            self.environment.process_exit_code = 2
            gevent.spawn(_end, self.environment)

    def take(self) -> Request | None:
        """The share's next request, planned now; None when the share is all taken."""
        with self.planning:
            if self.exhausted or self.stream is None:
                return None
            item, self.first = self.first, None
            if item is None:
                item = self._next(self.stream)
            if item is None:
                self.exhausted = True
                return None
            self.taken += 1
            self.taken_events += item.events
            return item

    def _next(self, stream: Iterator[Request]) -> Request | None:
        try:
            return next(stream, None)
        except UsageError as exc:
            message = str(exc)
        except Exception as exc:  # a bug: say so, and let the users and the master stop
            log.exception("planning failed")
            message = f"planning failed: {exc!r}"
        log.error("%s", message)
        self.error = message
        if not self.worker:
            self.environment.process_exit_code = 2
        return None

    def record(self, item: Request, ok: bool) -> None:
        self.sent += 1
        self.events += item.events
        self.failed += not ok

    def check_finished(self) -> None:
        if self.finished or self.stream is None or not self.exhausted or self.in_flight:
            return
        self.finished = True
        if self.worker:
            self.environment.runner.send_message(
                DONE,
                {"index": self.index, "sent": self.sent, "events": self.events,
                 "failed": self.failed, "stats_requests": self.requests,
                 "requests": self.taken, "planned": self.taken_events, "error": self.error},
            )  # fmt: skip
        else:
            gevent.spawn(_end, self.environment)

    def endpoint(self, vendor: str) -> Endpoint:
        """One per vendor and process, shared by its users: a Digest challenge is learnt once."""
        endpoint = self.endpoints.get(vendor)
        if endpoint is None:
            endpoint = self.endpoints[vendor] = Endpoint(
                self.targets[vendor], catalogue.vendor(vendor).profile
            )
        return endpoint

    def stopped(self) -> None:
        if self.worker or self.reported:
            return
        self.reported = True  # Locust may stop twice (a quit while users still spawn)
        if self.stream is None:
            if not self.error:
                log.error("the test stopped before the plan was prepared: nothing was sent")
            self.environment.process_exit_code = 2 if self.error else 1
            return
        complete = self.exhausted and not self.error and self.sent == self.taken
        if complete:
            log.info(
                "sent %d of %d requests (%d of %d events), %d failed",
                self.sent, self.taken, self.events, self.taken_events, self.failed,
            )  # fmt: skip
            return
        log.info(
            "sent %d requests (%d events) before the test stopped, %d failed",
            self.sent, self.events, self.failed,
        )  # fmt: skip
        if not self.error:
            log.error("the plan was not completely sent (--run-time reached?)")
            self.environment.process_exit_code = 1


class Coordinator:
    """The master's side: numbers the workers' shares, checks they plan alike, ends the run.

    Workers agree on the plan when their fingerprints (``share.fingerprint``: what decides the
    plan) are equal; each then plans only its own share, so nobody knows the plan's size before
    every share is sent: the totals are the sums of the shares'.
    """

    def __init__(self, environment: Any) -> None:
        self.environment = environment
        self.assigned: dict[str, int] = {}
        self.ready: dict[int, dict[str, Any]] = {}
        self.done: dict[int, dict[str, Any]] = {}
        self.ending = self.reported = False

    def start(self) -> None:
        runner = self.environment.runner
        clients = runner.clients.ready + runner.clients.spawning + runner.clients.running
        clients.sort(key=lambda client: runner.get_worker_index(client.id))
        self.assigned = {client.id: i for i, client in enumerate(clients)}
        self.ready, self.done, self.ending, self.reported = {}, {}, False, False
        setattr(self.environment.parsed_options, SHARES, self.assigned)
        users = runner.target_user_count or 0
        if users < len(clients):
            self._abort(
                f"{users} users for {len(clients)} workers: a worker without a user would leave "
                f"its share of the plan unsent; use --users {len(clients)} or more"
            )

    def on_ready(self, environment: Any, msg: Any) -> None:
        data = msg.data
        self.ready[data["index"]] = data
        if data.get("error"):
            self._abort(f"worker {data['index']}: {data['error']}")
            return
        if len(self.ready) < len(self.assigned):
            return
        prints = {i: d.get("fingerprint") for i, d in sorted(self.ready.items())}
        if len(set(prints.values())) > 1:
            listed = ", ".join(f"worker {i} {p}" for i, p in prints.items())
            self._abort(
                f"the workers planned different plans ({listed}); start every worker with the "
                "same SCENARIO file, --seed, --config and --target as the master"
            )
            return
        self.environment.runner.send_message(GO)
        first = self.ready[0]
        log.info(
            "%d workers agree on plan %r (fingerprint %s); each plans its share as it sends it",
            len(self.ready), first["name"], first["fingerprint"],
        )  # fmt: skip

    def on_done(self, environment: Any, msg: Any) -> None:
        data = msg.data
        self.done[data["index"]] = data
        if data.get("error"):
            log.error("worker %d stopped planning: %s", data["index"], data["error"])
            self.environment.process_exit_code = 2
        if len(self.done) == len(self.assigned) and not self.ending:
            self.ending = True
            gevent.spawn(self._end)

    def _end(self) -> None:
        # The workers' last statistics come with their next report; wait for them, then stop.
        expected = sum(d["stats_requests"] for d in self.done.values())
        stats = self.environment.runner.stats
        deadline = time.monotonic() + STATS_WAIT
        while stats.total.num_requests < expected and time.monotonic() < deadline:
            gevent.sleep(0.1)
        _end(self.environment)

    def _abort(self, message: str) -> None:
        log.error("%s", message)
        self.environment.process_exit_code = 2
        if not self.ending:
            self.ending = True
            gevent.spawn(_end, self.environment)

    def stopped(self) -> None:
        if not self.assigned or self.reported:
            return
        self.reported = True  # Locust may stop twice (a quit while users still spawn)
        whole = len(self.done) == len(self.assigned)
        requests = sum(d["requests"] for d in self.done.values()) if whole else "?"
        planned = sum(d["planned"] for d in self.done.values()) if whole else "?"
        sent = sum(d["sent"] for d in self.done.values())
        events = sum(d["events"] for d in self.done.values())
        failed = sum(d["failed"] for d in self.done.values())
        for index, d in sorted(self.done.items()):
            log.info(
                "worker %d sent %d requests (%d events), %d failed",
                index, d["sent"], d["events"], d["failed"],
            )  # fmt: skip
        log.info(
            "%d of %d workers finished their share; sent %d of %s requests "
            "(%d of %s events), %d failed",
            len(self.done), len(self.assigned), sent, requests, events, planned, failed,
        )  # fmt: skip
        if len(self.done) < len(self.assigned) and self.environment.process_exit_code is None:
            log.error("the plan was not completely sent (--run-time reached?)")
            self.environment.process_exit_code = 1


def _end(environment: Any) -> None:
    """Headless: quit, writing the statistics; with the web UI: stop, so they stay on screen."""
    _let_stopped_users_leave(environment.runner)
    options = environment.parsed_options
    if options is not None and options.headless:
        environment.runner.quit()
    else:
        environment.runner.stop()


def _let_stopped_users_leave(runner: Any, turns: int = 1000) -> None:
    """Wait until the users that stopped themselves (``StopUser``, their share sent) have left the
    runner's group: a finished greenlet leaves it only on a later turn of the hub, and stopping the
    runner before that finds it there, dead and without its user, which Locust logs as an
    ``ERROR ... user that didn't have proper args`` for each."""
    group = getattr(runner, "user_greenlets", None)
    for _ in range(turns):  # a few turns at most; bounded so an odd greenlet cannot hang the end
        if group is None or not any(g.dead for g in group):
            return
        gevent.sleep(0)
