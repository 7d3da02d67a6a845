"""The Locust user class that sends a coupon-emulator plan: what ``locust -f`` and ``load`` run.

    locust -f emulator/loadgen/locustfile.py --headless --scenario events.yaml --users 20

Every sending process (a worker, or a lone local process, whose share is the whole plan) plans
only its own share of the plan, from its own options (a worker started without ``--scenario`` uses
the master's), request by request as it sends: the plan is split by coupon, each coupon's whole
life in one share (``loader.plan(share=...)``). The master numbers the workers present when the
test starts and sends each its share number with Locust's spawn message. When every share is
sent the run ends by itself; ``--run-time`` is only an upper bound. Requests are never retried: a load run
measures the consumer, so a refused request is a failure in Locust's statistics.
"""

from __future__ import annotations

import csv
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from gevent.event import Event
from locust import FastHttpUser, constant, events, task
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner
from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

from emulator.core.errors import UsageError
from emulator.core.policy import DELIVERED
from emulator.delivery import injected
from emulator.delivery.endpoint import VERIFY_METHOD, AuthExchange, Endpoint
from emulator.delivery.http11 import Response
from emulator.loadgen.roles import DONE, GO, READY, Coordinator, Options, Sender
from emulator.loadgen.share import Request


class VerificationRefused(Exception):
    """The verification GET was not answered 200, so the vendor would send nothing there."""


@events.init_command_line_parser.add_listener
def _arguments(parser: Any) -> None:
    parser.add_argument(
        "--scenario", metavar="FILE", include_in_web_ui=False,
        help="coupon-emulator: the plan to send (an event list, as 'coupon-emulator run' takes)",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=int, metavar="N", include_in_web_ui=False,
        help="coupon-emulator: the plan's seed (default: the file's, else 0)",
    )  # fmt: skip
    parser.add_argument(
        "--settings", metavar="FILE", include_in_web_ui=False,
        help="coupon-emulator: delivery settings merged over the file's ('run --config')",
    )  # fmt: skip
    parser.add_argument(
        "--target", action="append", default=[], metavar="V=URL", include_in_web_ui=False,
        help="coupon-emulator: send vendor V's requests to URL (repeatable)",
    )  # fmt: skip


def _fail(message: str) -> None:
    """Bad input before the test starts: one paragraph and exit 2, as the emulator's CLI does."""
    print(f"coupon-emulator: error: {message}", file=sys.stderr)
    sys.exit(2)


@events.init.add_listener
def _init(environment: Any, runner: Any = None, **_: Any) -> None:
    own = Options.of(environment.parsed_options)
    worker = isinstance(runner, WorkerRunner)
    if own is None and not worker and not isinstance(runner, MasterRunner):
        _fail("--scenario FILE is required: the plan to send (an event list; see README)")
    if own is not None:
        try:
            own.load()  # parses and checks; nothing is planned yet
        except UsageError as exc:
            _fail(str(exc))
    if isinstance(runner, MasterRunner):
        coordinator = environment.coupon_emulator = Coordinator(environment)
        runner.register_message(READY, coordinator.on_ready)
        runner.register_message(DONE, coordinator.on_done)
        return
    sender = environment.coupon_emulator = Sender(environment, own, worker, _configure(environment))
    environment.events.request.add_listener(sender.count_request)
    if worker:
        runner.register_message(GO, sender.on_go)


def _configure(environment: Any):
    def configure(targets: list[Any]) -> None:
        if targets and not environment.host:
            CouponUser.host = "{}://{}".format(*urlsplit(targets[0].url))
        # One timeout for the user class: the longest of the targets' (Locust sets it per client).
        CouponUser.network_timeout = max((t.timeout for t in targets), default=60.0)
        CouponUser.connection_timeout = CouponUser.network_timeout

    return configure


@events.test_start.add_listener
def _test_start(environment: Any, **_: Any) -> None:
    environment.coupon_emulator.start()


@events.test_stop.add_listener
def _test_stop(environment: Any, **_: Any) -> None:
    environment.coupon_emulator.stopped()


@events.quitting.add_listener
def _final_csv(environment: Any, **_: Any) -> None:
    # Locust rewrites its CSV statistics every second, not at exit: a run shorter than that, or
    # its last second, would be missing. Write the final figures once more.
    prefix = getattr(environment.parsed_options, "csv_prefix", None)
    if not prefix or isinstance(environment.runner, WorkerRunner):
        return
    stats = StatsCSV(environment, PERCENTILES_TO_REPORT)
    for suffix, write in (
        ("_stats.csv", stats.requests_csv),
        ("_failures.csv", stats.failures_csv),
    ):
        with open(prefix + suffix, "w", newline="", encoding="utf-8") as fh:
            write(csv.writer(fh))


class CouponUser(FastHttpUser):
    """Sends its process's share of the plan, one request at a time, with no retries.

    Each request is named ``"<vendor> <event_type>"`` in Locust's statistics, and judged by the
    vendor's rule of success (Punchh: only 200 and 202).
    """

    wait_time = constant(0)
    host = "http://127.0.0.1"  # the plan's first target at test start; requests use absolute URLs

    @task
    def deliver(self) -> None:
        sender: Sender = self.environment.coupon_emulator
        sender.go.wait()
        item = sender.take()
        if item is None:
            sender.check_finished()
            raise StopUser()
        sender.in_flight += 1
        try:
            sender.record(item, self._deliver(sender, item))
        finally:
            sender.in_flight -= 1
            sender.check_finished()

    def _deliver(self, sender: Sender, item: Request) -> bool:
        endpoint = sender.endpoint(item.vendor)
        target = endpoint.target
        if target.verification_get:
            refused = self._verify(sender, endpoint, item.vendor)
            if refused is not None:
                self.environment.events.request.fire(
                    request_type=target.method, name=item.name, response_time=0,
                    response_length=0, exception=VerificationRefused(refused), context={},
                    response=None, url=target.url, start_time=time.time(),
                )  # fmt: skip
                return False
        auth = endpoint.exchange(target.method, item.body, injected.auth_mode(item.label))
        expect = injected.expectation(item.label, target.auth.type)

        def judge(response: Any) -> bool:
            status = response.status_code or 0
            if expect is not None:
                # Broken on purpose (the plan's label): a correct consumer refuses it with a 4xx.
                verdict = injected.judge(expect, status or None, None, {})
                if verdict.status == DELIVERED:
                    response.success()
                    return True
                response.failure(f"{item.label}: {verdict.reason}")
                return False
            if status and target.is_success(status):
                response.success()
                return True
            response.failure(_refusal(target, response))
            return False

        return self._exchange(auth, item.vendor, item.name, judge)

    def _exchange(
        self, auth: AuthExchange, vendor: str, name: str, judge: Callable[[Any], bool]
    ) -> bool:
        """One request, its Digest challenge answered once (``AuthExchange``), then judged."""
        url = auth.endpoint.target.url
        while True:
            with self.client.request(
                auth.method, url, name=name, data=auth.body or None, headers=auth.headers(),
                catch_response=True, allow_redirects=False,
            ) as response:  # fmt: skip
                # geventhttpclient's headers are a dict of lowercased name -> (name, value): items()
                headers = dict(response.headers.items()) if response.headers else {}
                challenge = Response(response.status_code or 0, headers, b"")
                if not auth.challenged(challenge):
                    return judge(response)
                # Answering a Digest challenge is authentication, not a retry: the 401 is counted
                # on its own row, and the answer under the request's name.
                response.request_meta["name"] = f"{vendor} digest challenge"
                response.success()

    def _verify(self, sender: Sender, endpoint: Endpoint, vendor: str) -> str | None:
        """The verification GET before the first POST, once per process and target (the one
        ``Verifications`` of the dispatcher); None when it passed."""
        target = endpoint.target
        verifications = sender.verifications
        if verifications.needed(target):
            done = sender.verified[target.url] = Event()
            try:

                def judge(response: Any) -> bool:
                    status = response.status_code or None
                    error = None if status else str(response.error)
                    passed, reason = verifications.judge(target, status, error)
                    if passed:
                        response.success()
                    else:
                        response.failure(reason)
                    return passed

                auth = endpoint.exchange(VERIFY_METHOD, b"")
                self._exchange(auth, vendor, f"{vendor} verification", judge)
            finally:
                if verifications.outcome(target) is None:
                    verifications.judge(target, None, "the verification GET was interrupted")
                done.set()
        sender.verified[target.url].wait()
        passed, reason = verifications.outcome(target) or (False, "no verification GET")
        return None if passed else reason


def _refusal(target: Any, response: Any) -> str:
    status = response.status_code or 0
    if not status:
        return f"got no answer: {response.error}"
    rule = (
        f"only {', '.join(map(str, target.success))} count" if target.success else "only 2xx count"
    )
    return f"answered {status} ({target.vendor}: {rule} as success)"
