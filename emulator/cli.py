"""The ``coupon-emulator`` command line: parse arguments, run a command, map errors to exit codes.

Exit codes: 0 success; 1 the work ran and found failures; 2 bad input (a flag, a name, a file), with
one clear paragraph on standard error and never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from importlib import resources

from emulator import __version__
from emulator.errors import UsageError

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2

Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.command(args)
    except UsageError as exc:
        print(f"coupon-emulator: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`| head`): not an error of ours.
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        print("coupon-emulator: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coupon-emulator",
        description=(
            "Emulate the coupon webhooks of Komo, fabric Offers, Rebilly and PAR Punchh: "
            "list their event types, build spec-compliant bodies, and deliver them."
        ),
        epilog="Run 'coupon-emulator COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    events = sub.add_parser(
        "events",
        help="list every vendor's event types",
        description="List the catalogue: every event type of every vendor, with its JSON Schema.",
        epilog="Example: coupon-emulator events --vendor punchh --json",
    )
    events.add_argument(
        "--vendor", metavar="V", help="only this vendor (komo, fabric, rebilly, punchh)"
    )
    events.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    events.set_defaults(command=cmd_events)

    sample = sub.add_parser(
        "sample",
        help="print one event body (pure, deterministic)",
        description=(
            "Build one body of a vendor's event type, exactly as the vendor would send it, and "
            "print it. Nothing is sent. The same seed always gives the same bytes."
        ),
        epilog="Example: coupon-emulator sample rebilly coupon-redeemed --seed 7 --json",
    )
    sample.add_argument("vendor", metavar="V", help="vendor slug: komo, fabric, rebilly or punchh")
    sample.add_argument(
        "event", metavar="EVENT", help="event type, as listed by 'coupon-emulator events'"
    )
    sample.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    sample.add_argument(
        "--at",
        type=_instant,
        metavar="TIME",
        help="the event's time, ISO 8601 with a zone (default a fixed instant, 2026-01-15T09:30:00Z)",
    )
    sample.add_argument(
        "--links-base",
        metavar="URL",
        help="base URL of the resources that payload links point at (default http://127.0.0.1:8025)",
    )
    sample.add_argument(
        "--json",
        action="store_true",
        help="print the exact wire bytes (compact JSON) instead of indented JSON",
    )
    sample.set_defaults(command=cmd_sample)
    return parser


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time; expected e.g. 2026-01-15T09:30:00Z"
        ) from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone; add Z or +00:00")
    return value


def cmd_events(args: argparse.Namespace) -> int:
    from emulator import catalogue

    types = catalogue.event_types(args.vendor)
    root = resources.files("emulator")
    rows = [
        {
            "vendor": et.vendor,
            "name": et.name,
            "summary": et.summary,
            "schema": f"emulator/{et.schema_path}",
            "schema_file": str(root / et.schema_path),
            "inferred": et.inferred,
        }
        for et in types
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    width = max(len(r["name"]) for r in rows)
    print(f"{'VENDOR':<8} {'EVENT TYPE':<{width}}  SUMMARY")
    for r in rows:
        note = "  (inferred: not documented by the vendor)" if r["inferred"] else ""
        print(f"{r['vendor']:<8} {r['name']:<{width}}  {r['summary']}{note}")
    print(
        f"\n{len(rows)} event types. Schemas: emulator/schemas/<vendor>/; 'events --json' names each file."
    )
    return EXIT_OK


def cmd_sample(args: argparse.Namespace) -> int:
    from emulator import catalogue
    from emulator.vendors import encode

    options = {}
    if args.at is not None:
        options["now"] = args.at
    if args.links_base is not None:
        options["links_base"] = args.links_base
    body = catalogue.sample(args.vendor, args.event, seed=args.seed, **options)
    if args.json:
        sys.stdout.buffer.write(encode(body) + b"\n")
    else:
        print(json.dumps(body, indent=2, ensure_ascii=False))
    sys.stdout.flush()
    return EXIT_OK
