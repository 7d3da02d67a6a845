"""The scenario commands: ``validate`` scenario and settings files, ``plan`` a scenario."""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, BinaryIO

from emulator.core.errors import ConfigError, UsageError

if TYPE_CHECKING:  # the command line imports this module; the heavy ones load on use
    from emulator.core.plan import PlannedEvent

RAW_BODY_SHOWN = 65536  # plan lines show a raw body up to this size; bigger ones by size only
_LINES_PER_WRITE = 1000
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@contextlib.contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """Planning makes no reference cycles, and the cyclic collector would rescan every coupon
    alive in the plan again and again: a third of the time. Reference counting frees the rest."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def line(event: PlannedEvent) -> str:
    """One plan line: vendor, event type, coupon key, due time, label, body (JSON)."""
    out: dict[str, Any] = {
        "vendor": event.vendor,
        "event_type": event.event_type,
        "coupon_key": event.coupon_key,
        "due": round(event.due, 3),
        "label": event.label,
        "body": event.body,
    }
    if event.auth is not None:
        out["auth"] = event.auth
    if event.raw_body is not None:
        out["raw_body_size"] = len(event.raw_body)
        if len(event.raw_body) <= RAW_BODY_SHOWN:
            out["raw_body"] = event.raw_body.decode("utf-8", errors="replace")
    return _dumps(out)


def write_lines(events: Iterable[PlannedEvent], out: BinaryIO) -> int:
    """Write ``events`` as JSON lines; the number written."""
    return write(map(line, events), out)


def write(texts: Iterable[str], out: BinaryIO, written: Callable[[int], None] | None = None) -> int:
    """Write ``texts`` one per line, in chunks; the number written. ``written`` is told the count
    so far after each chunk (progress)."""
    count = 0
    chunk: list[str] = []
    for text in texts:
        chunk.append(text)
        if len(chunk) >= _LINES_PER_WRITE:
            out.write(("\n".join(chunk) + "\n").encode())
            count += len(chunk)
            chunk = []
            if written is not None:
                written(count)
    if chunk:
        out.write(("\n".join(chunk) + "\n").encode())
        count += len(chunk)
    out.flush()
    return count


def jobs_for(scenario: Any, asked: int | None) -> int:
    """``--jobs``, or one process per CPU for a scenario big enough to gain from it."""
    from emulator.readers import planning

    if asked is not None:
        return asked
    if scenario.expected_events() < planning.PARALLEL_FROM:
        return 1
    return os.cpu_count() or 1


# Commands


def cmd_validate(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        try:
            summary = _validate(path)
        except UsageError as exc:
            failed += 1
            print(f"coupon-emulator: error: {exc}", file=sys.stderr)
        else:
            print(f"ok: {path}: {summary}")
    if failed:
        print(f"{failed} of {len(args.files)} files have errors", file=sys.stderr)
    return 2 if failed else 0


def _validate(path: str) -> str:
    from emulator.readers import loader

    document = loader.read(path)
    if document.kind == "scenario":
        loaded = loader.parse_scenario(document, os.environ)
        s = loaded.scenario
        expected, exact = loader.expected_events(s)
        count = f"{expected:,} events" if exact else f"about {expected:,} events"
        vendors = ", ".join(loaded.vendors)
        flows = f"{len(s.flows)} flow{'s' * (len(s.flows) != 1)}"
        coupons = sum(flow.coupons for flow in s.flows)
        return f"scenario {s.name!r}: {flows} ({vendors}), {coupons:,} coupons, {count}"
    if document.kind == "events":
        events = loader.parse(document).events
        assert events is not None
        return f"event list: {events.total:,} events"
    if document.node is None:
        raise ConfigError(
            "the file is empty; expected a scenario or delivery settings", source=path
        )
    from emulator.readers import config

    settings = config.parse(document.node, source=path)
    return f"settings: {len(settings.vendors)} vendor{'s' * (len(settings.vendors) != 1)}"


def cmd_plan(args: argparse.Namespace) -> int:
    from emulator.cli.progress import TERMINAL, Display
    from emulator.core.plan import builder_extras
    from emulator.readers import loader, planning
    from emulator.readers.progress import Planning

    loaded = loader.load_scenario(args.scenario)
    settings = loaded.settings
    generator = planning.lines(
        loaded.scenario,
        line,
        seed=args.seed,
        start=args.start,
        links_base=args.links_base or settings.links_base,
        extras=builder_extras(settings),
        jobs=jobs_for(loaded.scenario, args.jobs),
    )
    texts = generator if args.limit is None else itertools.islice(generator, args.limit)
    expected, exact = loader.expected_events(loaded.scenario)
    if args.limit is not None and args.limit < expected:
        expected, exact = args.limit, True
    tally = Planning(expected, not exact)
    display = Display(quiet=args.quiet)
    if display.mode == TERMINAL and _isatty(sys.stdout):
        display = Display(quiet=True)  # the lines themselves scroll by: a bar would garble them

    def written(count: int) -> None:
        tally.planned = count
        display.update([tally.step()])

    with no_cyclic_gc():
        try:
            tally.planned = write(texts, sys.stdout.buffer, written)
            tally.finished = True
        finally:
            generator.close()  # stops any workers at once: done, --limit, or the reader left
            display.close([tally.step()])
    return 0


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``validate`` and ``plan`` to the command line."""
    from emulator.cli.argtypes import count, instant

    validate = sub.add_parser(
        "validate",
        help="check scenario and settings files",
        description=(
            "Check each FILE: a scenario (it has 'flows:'), a plain event list ('events:') or "
            "delivery settings. Every problem names file, line, column and key path. Exit 0 when "
            "all are valid, 2 otherwise."
        ),
        epilog="Example: coupon-emulator validate scenarios/*.yaml",
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help="YAML files to check")
    validate.set_defaults(command=cmd_validate)

    plan = sub.add_parser(
        "plan",
        help="print a scenario's events as JSON lines, sending nothing",
        description=(
            "Plan SCENARIO and print each event as one JSON line: vendor, event_type, coupon_key, "
            "due (seconds after the start), label (injected edge cases) and body. Nothing is "
            "sent. The same seed always prints the same bytes."
        ),
        epilog="Example: coupon-emulator plan scenarios/quickstart.yaml --seed 7 --limit 20",
    )
    plan.add_argument("scenario", metavar="SCENARIO", help="a scenario file (see README)")
    plan.add_argument("--seed", type=int, metavar="N", help="random seed (default: the file's)")
    plan.add_argument("--limit", type=count, metavar="N", help="stop after N events")
    plan.add_argument(
        "--start",
        type=instant,
        metavar="TIME",
        help="the scenario's start, ISO 8601 with a zone (default: its start:, else 2026-01-15T09:30:00Z)",
    )
    plan.add_argument(
        "--links-base", metavar="URL", help="base URL of payload links (default: the file's)"
    )
    plan.add_argument(
        "--jobs",
        type=count,
        metavar="N",
        help="plan flows in N processes (default: one per CPU from 20,000 events); "
        "the output is the same bytes for any N",
    )
    plan.add_argument(
        "-q", "--quiet", action="store_true", help="no progress on standard error, errors only"
    )
    plan.set_defaults(command=cmd_plan)
