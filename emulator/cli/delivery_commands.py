"""The delivery commands: ``send`` one event, ``run`` a scenario or an event list, ``resume``.

SIGINT and SIGTERM stop them cleanly: the summary is printed, what is unfinished stays for
``resume``, and the exit code is 128 + the signal (130, 143). ``resume`` leaves alone a run that a
live process owns, says so, and exits 3.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from emulator.cli import files, payload_options
from emulator.cli.progress import Display, delivery_step
from emulator.core import catalogue
from emulator.core import overrides as payload_overrides
from emulator.core.errors import UsageError
from emulator.core.plan import builder_extras, simple_plan
from emulator.delivery.dispatcher import Progress
from emulator.delivery.lease import RunOwned
from emulator.delivery.outbox import Outbox
from emulator.delivery.runner import PlanIdentity, RunResult, Stopper, resume_run, run_plan
from emulator.delivery.schema import NotAnOutbox, check_file
from emulator.readers import loader
from emulator.readers.progress import Planning, Step

DEFAULT_DB = "coupon-emulator.db"
EXIT_BUSY = 3  # resume skipped a run that a live process owns


# Output


class Shown:
    """What a delivery command shows while it works: planning (``run``) and delivery, drawn by the
    one progress display (``emulator.cli.progress``); called by the run driver's ticker."""

    def __init__(
        self, quiet: bool, planning: Planning | None = None, *, last_line: bool = True
    ) -> None:
        self.display = Display(quiet=quiet, last_line=last_line)
        self.planning = planning
        self.progress: Progress | None = None

    def steps(self, *, finished: bool = False) -> list[Step]:
        steps = [] if self.planning is None else [self.planning.step()]
        if self.progress is not None:
            known = self.planning is None or self.planning.finished
            done = finished and self.progress.done == self.progress.submitted
            steps.append(delivery_step(self.progress, total_known=known, finished=done))
        return steps

    def __call__(self, progress: Progress) -> None:
        self.progress = progress
        if self.planning is not None:  # planned and stored (by this process or a planning child)
            self.planning.planned = progress.planned
            self.planning.finished = progress.plan_complete
        self.display.update(self.steps())

    def end(self) -> None:
        self.display.close(self.steps(finished=True))

    def __enter__(self) -> Shown:
        return self

    def __exit__(self, *exc: object) -> None:
        self.display.close()  # stopped by an error: the bar gives the terminal back


def summarise(outbox: Outbox, result: RunResult, elapsed: float, db: str, stream: TextIO) -> None:
    c = result.counts
    tally = outbox.tally(result.run_id)
    stored = tally["deliveries"]
    # The rate is this process's: what it brought to a final state over its own time (a resume
    # finishes only part of a run, in a time of its own).
    rate = result.progress.done / elapsed if elapsed > 0 else 0.0
    print(
        f"run {result.run_id}: {stored} deliveries ({tally['events']} events) in {elapsed:.2f}s, "
        f"{rate:,.0f} deliveries/s, {result.progress.attempts} requests",
        file=stream,
    )
    print(
        f"  delivered {c['delivered']}, failed {c['failed']}, exhausted {c['exhausted']}, "
        f"pending {c['pending']}",
        file=stream,
    )
    for r in tally["worst"]:
        print(
            f"  {r['status']}: #{r['id']} {r['vendor']} {r['event_type']}: {r['last_error']}",
            file=stream,
        )
    if tally["bad"] > len(tally["worst"]):
        more = tally["bad"] - len(tally["worst"])
        print(f"  ... and {more} more (--report FILE lists every attempt)", file=stream)
    if not result.plan_complete:
        print(
            f"  plan: only the first {stored} deliveries are stored; resume plans the rest",
            file=stream,
        )
    if c["pending"] or not result.plan_complete:
        print(f"  unfinished: coupon-emulator resume --db {db}", file=stream)


def write_report(outbox: Outbox, result: RunResult, elapsed: float, path: str) -> None:
    report = {
        "run": result.run_id,
        "db": outbox.path,
        "elapsed_s": round(elapsed, 3),
        "counts": dict(result.counts),
        "plan_complete": result.plan_complete,
        "ok": result.ok,
        "deliveries": outbox.deliveries(result.run_id),
    }
    files.write(path, json.dumps(report, indent=1) + "\n", "--report")


def write_html(outbox: Outbox, result: RunResult, elapsed: float, path: str) -> None:
    """The run as one self-contained HTML page (``emulator.reports.run_page``)."""
    from emulator.reports import run_page

    stored = outbox.run(result.run_id)
    run = {
        "id": result.run_id, "name": stored["name"], "counts": dict(result.counts),
        "db": outbox.path, "elapsed_s": round(elapsed, 3),
    }  # fmt: skip
    page = run_page.document(run, outbox.deliveries(result.run_id))
    files.write(path, page, "--html")


def check_reports(args: Any) -> None:
    """Refuse ``--report`` and ``--html`` paths that cannot be written, before anything is sent."""
    files.check_writable(args.report, "--report")
    files.check_writable(getattr(args, "html", None), "--html")


def _finish(
    outbox: Outbox,
    result: RunResult,
    started: float,
    args: Any,
    line: Shown,
    stopper: Stopper | None = None,
) -> int:
    line.end()
    elapsed = time.perf_counter() - started
    stream = sys.stderr if args.quiet else sys.stdout
    summarise(outbox, result, elapsed, args.db, stream)
    if args.report:
        write_report(outbox, result, elapsed, args.report)
    if getattr(args, "html", None):
        write_html(outbox, result, elapsed, args.html)
    if stopper is not None and stopper.signal is not None:
        name = signal.Signals(stopper.signal).name
        print(f"  stopped by {name}: what is unfinished stays for resume", file=stream)
        return 128 + stopper.signal
    return 0 if result.ok else 1


@contextlib.contextmanager
def stopped_by_signals() -> Iterator[Stopper]:
    """SIGINT and SIGTERM stop the run cleanly; a second one stops at once (KeyboardInterrupt)."""
    stopper = Stopper()
    if threading.current_thread() is not threading.main_thread():
        yield stopper  # signals reach only the main thread (a test calling main() in a thread)
        return

    def handle(signum: int, frame: Any) -> None:
        if stopper.signal is not None:
            raise KeyboardInterrupt
        stopper.request(signum)

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stopper
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _open(db: str) -> Outbox:
    try:
        return Outbox(db)
    except Exception as exc:  # sqlite3 errors: a directory, no permission, not a database
        raise UsageError(f"cannot open the outbox database {db!r}: {exc}") from None


@contextlib.contextmanager
def built_in_sink() -> Iterator[str]:
    """The service's built-in sink, served from this process on a free loopback port.

    Yields its base URL (``.../sink``; each vendor at ``/<vendor>``) and sets ``SINK_URL`` to it,
    so scenarios aimed at ``${SINK_URL}`` reach it. It checks each vendor's auth as the service's
    sink does (``emulator.web.sink``), with ``COUPON_EMULATOR_SINK_SECRET`` (default quickstart).
    """
    from flask import Flask

    from contracts.serving import serve_wsgi
    from emulator.web import sink

    app = Flask("coupon-emulator-sink")
    # The consumer checks each request against the URL it arrives at; the base here only names
    # the targets in the sink's own settings.
    sink.mount(app, "http://127.0.0.1", os.environ)
    previous = os.environ.get("SINK_URL")
    with serve_wsgi(app) as base:
        os.environ["SINK_URL"] = base + sink.PREFIX
        try:
            yield os.environ["SINK_URL"]
        finally:
            if previous is None:
                os.environ.pop("SINK_URL", None)
            else:
                os.environ["SINK_URL"] = previous


# Commands


def cmd_send(args: Any) -> int:
    catalogue.event_type(args.vendor, args.event)
    layers = loader.layers(args.config, [args.target], args.time_scale, vendor=args.vendor)
    settings, raw = loader.settings({}, [args.vendor], layers, None)
    check_reports(args)
    start = args.at or datetime.now(UTC)
    [event] = simple_plan(
        [(args.vendor, args.event, 1, 0.0)],
        args.seed,
        start,
        settings.links_base,
        builder_extras(settings),
    )
    if args.overrides:
        body = payload_options.apply(args.vendor, args.event, event.body, args.overrides, "sent")
        event = dataclasses.replace(event, body=body, label=payload_overrides.LABEL)
    planned = [event]
    # One event: its attempts are printed below; on a pipe, a line only if it takes long.
    with (
        Shown(args.quiet, last_line=False) as line,
        _open(args.db) as outbox,
        stopped_by_signals() as stopper,
    ):
        started = time.perf_counter()
        result = run_plan(
            outbox,
            settings,
            raw,
            planned,
            name=f"send {args.vendor} {args.event}",
            on_progress=line,
            stopper=stopper,
        )
        line.end()
        elapsed = time.perf_counter() - started
        [delivery] = outbox.deliveries(result.run_id)
        describe(delivery, sys.stderr if args.quiet else sys.stdout)
        if args.report:
            write_report(outbox, result, elapsed, args.report)
        if getattr(args, "html", None):
            write_html(outbox, result, elapsed, args.html)
        if stopper.signal is not None:
            return 128 + stopper.signal
        return 0 if result.ok else 1


def describe(delivery: Mapping[str, Any], stream: TextIO) -> None:
    """One delivery, attempt by attempt: what ``send`` shows."""
    keys = ", ".join(delivery["dedupe_keys"])
    print(f"{delivery['vendor']} {delivery['event_type']} (dedupe key {keys})", file=stream)
    for a in delivery["attempts"]:
        got = f"answered {a['status']}" if a["status"] is not None else a["error"]
        number = "verification" if a["number"] == 0 else f"attempt {a['number']}"
        print(
            f"  {number}: {a['method']} {a['url']} {got} in {a['duration_ms']:.1f} ms", file=stream
        )
    outcome = delivery["status"]
    reason = (
        f": {delivery['last_error']}" if delivery["last_error"] and outcome != "delivered" else ""
    )
    print(f"  {outcome}{reason}", file=stream)


def cmd_run(args: Any) -> int:
    if not args.sink:
        return _run(args, None)
    from emulator.readers import sink_settings

    with built_in_sink() as url:
        print(f"built-in sink listening at {url}/<vendor>", flush=True)
        return _run(args, sink_settings.entries(url.removesuffix(sink_settings.PREFIX)))


def _run(args: Any, sink: Mapping[str, Mapping[str, Any]] | None) -> int:
    check_reports(args)
    layers = loader.layers(args.config, args.target, args.time_scale, sink=sink)
    # One instant dates the events and schedules them, so the run can record it and be re-planned.
    now = time.time()
    plan = loader.plan(args.file, layers, seed=args.seed, start=datetime.fromtimestamp(now, UTC))
    identity = PlanIdentity(plan.source, plan.text, plan.seed, now)
    planning = Planning(plan.expected, not plan.exact)
    with (
        Shown(args.quiet, planning) as line,
        _open(args.db) as outbox,
        stopped_by_signals() as stopper,
    ):
        started = time.perf_counter()
        result = run_plan(
            outbox, plan.settings, plan.settings_raw, plan.events, name=plan.name,
            source=args.file, identity=identity, workers=args.workers, on_progress=line,
            stopper=stopper, parts=plan.parts, spread=plan.spread,
        )  # fmt: skip
        return _finish(outbox, result, started, args, line, stopper)


def cmd_resume(args: Any) -> int:
    if not Path(args.db).exists():
        raise UsageError(f"no outbox database at {args.db!r}; pass the --db of the run to resume")
    try:
        check_file(args.db, new=False)  # resume never makes an outbox of what is not one
    except NotAnOutbox as exc:
        raise UsageError(f"--db {args.db}: {exc}; pass the --db of the run to resume") from None
    check_reports(args)
    with _open(args.db) as outbox, stopped_by_signals() as stopper:
        runs = [args.run] if args.run is not None else outbox.unfinished_runs()
        if not runs:
            print(f"nothing to resume: every delivery in {args.db} is final")
            return 0
        status = 0
        for run_id in runs:
            if stopper.signal is not None:
                break
            try:
                stored = outbox.run(run_id)
            except LookupError as exc:
                raise UsageError(str(exc)) from None
            layers = loader.layers(args.config, args.target, args.time_scale)
            settings, _ = loader.settings(stored["settings"], (), layers, stored["source"])
            started = time.perf_counter()
            with Shown(args.quiet) as line:
                try:
                    result = resume_run(
                        outbox, run_id, settings, workers=args.workers, on_progress=line,
                        stopper=stopper,
                    )  # fmt: skip
                except RunOwned as exc:
                    print(f"coupon-emulator: skipped: {exc}", file=sys.stderr)
                    status = max(status, EXIT_BUSY)
                    continue
                status = max(status, _finish(outbox, result, started, args, line, stopper))
        return status
