"""The ``coupon-emulator`` command line: parse arguments, run a command, map errors to exit codes.

Exit codes: 0 success; 1 the work ran and found failures; 2 bad input (a flag, a name, a file), with
one clear paragraph on standard error and never a traceback; 3 ``resume`` left a run alone because
a live process is delivering it; 130 and 143 ``run``/``resume``/``send`` stopped by SIGINT (Ctrl-C)
or SIGTERM, after a summary, with what is unfinished left for ``resume``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from emulator import __version__
from emulator.cli import argtypes, library_commands, payload_options, scenario_commands, serve
from emulator.cli import load_command as loadgen_cli
from emulator.cli import verify as contracts_cli
from emulator.core.errors import UsageError, listed

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3

Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    try:
        # Building the parser imports the catalogue, with any vendors COUPON_EMULATOR_VENDORS names.
        parser = build_parser()
        args = parser.parse_args(argv)
        if not hasattr(args, "command"):
            parser.error("the following arguments are required: COMMAND")
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
    vendors = _vendors()
    parser = argparse.ArgumentParser(
        prog="coupon-emulator",
        description=(
            f"Emulate the coupon webhooks of {listed(v.title for v in vendors)}: "
            "list their event types, build spec-compliant bodies, and deliver them."
        ),
        epilog="Run 'coupon-emulator COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    # Not required here: argparse would report a missing COMMAND before an unknown option
    # (``--bogus``); main() asks for the command once the arguments are known.
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    events = sub.add_parser(
        "events",
        help="list every vendor's event types",
        description="List the catalogue: every event type of every vendor, with its JSON Schema.",
        epilog="Example: coupon-emulator events --vendor punchh --json",
    )
    events.add_argument(
        "--vendor", metavar="V", help=f"only this vendor ({', '.join(v.slug for v in vendors)})"
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
    sample.add_argument("vendor", metavar="V", help=_slug_help())
    sample.add_argument(
        "event", metavar="EVENT", help="event type, as listed by 'coupon-emulator events'"
    )
    sample.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    sample.add_argument(
        "--at",
        type=argtypes.instant,
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
    payload_options.add_arguments(sample)
    sample.set_defaults(command=cmd_sample)
    _delivery_parsers(sub)
    contracts_cli.register(sub)  # verify
    serve.register(sub)
    loadgen_cli.register(sub)  # load
    scenario_commands.register(sub)  # validate, plan
    library_commands.register(sub)  # scenarios, init, export
    return parser


def _delivery_parsers(sub: argparse._SubParsersAction) -> None:
    def common(p: argparse.ArgumentParser, *, targets: bool) -> None:
        if targets:
            p.add_argument(
                "--target",
                action="append",
                default=[],
                metavar="V=URL",
                help="deliver vendor V's events to URL (repeatable; overrides the settings' target)",
            )
        p.add_argument("--config", metavar="F", help="delivery settings file (YAML; see README)")
        p.add_argument(
            "--time-scale",
            type=argtypes.positive,
            metavar="X",
            help="multiply every vendor delay and retry interval by X (e.g. 0.001 in CI)",
        )
        p.add_argument(
            "--db",
            default="coupon-emulator.db",
            metavar="PATH",
            help="the SQLite outbox (default %(default)s)",
        )
        p.add_argument(
            "--report", metavar="FILE", help="write every delivery and its attempts as JSON"
        )
        p.add_argument(
            "--html",
            metavar="FILE",
            help="write one self-contained HTML page: counts, requests over time by vendor and "
            "outcome, latency histogram, attempts per delivery",
        )
        p.add_argument(
            "--workers",
            type=argtypes.count,
            default=8,
            metavar="N",
            help="requests in flight at once (default 8)",
        )
        p.add_argument(
            "-q", "--quiet", action="store_true", help="no progress line; summary on stderr"
        )

    send = sub.add_parser(
        "send",
        help="deliver one event, with the vendor's auth and retries",
        description=(
            "Build one event and deliver it to URL exactly as the vendor would: body, auth, "
            "retries. Exit 0 when delivered, 1 when the consumer refused it."
        ),
        epilog=(
            "Example: coupon-emulator send punchh coupon-redemption "
            "--target http://127.0.0.1:9000/hooks/punchh --config settings.yaml"
        ),
    )
    send.add_argument("vendor", metavar="V", help=_slug_help())
    send.add_argument(
        "event", metavar="EVENT", help="event type, as listed by 'coupon-emulator events'"
    )
    send.add_argument("--target", required=True, metavar="URL", help="the consumer's URL")
    send.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")
    send.add_argument(
        "--at", type=argtypes.instant, metavar="TIME", help="the event's time (default now)"
    )
    common(send, targets=False)
    payload_options.add_arguments(send)
    send.set_defaults(command=_lazy("cmd_send"), workers=1)

    run = sub.add_parser(
        "run",
        help="deliver a scenario (or a plain event list)",
        description=(
            "Plan FILE (a scenario with flows:, or a plain event list with events:) and deliver "
            "every event to its vendor's target, storing each in the outbox first. Exit 0 when all "
            "were delivered, 1 when any failed or exhausted its retries, 2 on bad input, 130/143 "
            "when stopped by SIGINT/SIGTERM (then 'resume' finishes the run)."
        ),
        epilog=(
            "Examples: coupon-emulator run scenarios/quickstart.yaml --sink; "
            "coupon-emulator run scenarios/punchh.yaml --target punchh=http://127.0.0.1:9000/hooks"
        ),
    )
    run.add_argument("file", metavar="FILE", help="a scenario or an event list (see README)")
    run.add_argument(
        "--seed", type=int, metavar="N", help="random seed (default: the file's, else 0)"
    )
    run.add_argument(
        "--sink",
        action="store_true",
        help="also serve the built-in sink from this process, and deliver there every vendor "
        "the file gives no target (it sets SINK_URL, which the shipped scenarios aim at)",
    )
    common(run, targets=True)
    run.set_defaults(command=_lazy("cmd_run"))

    resume = sub.add_parser(
        "resume",
        help="finish what a killed run left pending",
        description=(
            "Deliver the pending deliveries of every unfinished run in the outbox, with the same "
            "bodies and dedupe keys, and the part of its plan a kill left unstored (planned again "
            "from what the run recorded). Settings are read back from the run (${VAR}s "
            "re-expanded). At another --time-scale, what still waits (events not yet due, "
            "retries scheduled, the unstored part of the plan) is re-timed to it. A run that a "
            "live process is delivering is skipped, with a message; exit 3 then."
        ),
        epilog="Example: coupon-emulator resume --db coupon-emulator.db",
    )
    resume.add_argument("--run", type=int, metavar="ID", help="only this run")
    common(resume, targets=True)
    resume.set_defaults(command=_lazy("cmd_resume"))


def _vendors() -> list[Any]:
    """The catalogue's vendors, which the help lists (the catalogue is imported on first parse)."""
    from emulator.core import catalogue

    return list(catalogue.VENDORS.values())


def _slug_help() -> str:
    return f"vendor slug: {listed((v.slug for v in _vendors()), 'or')}"


def _lazy(name: str) -> Command:
    def command(args: argparse.Namespace) -> int:
        from emulator.cli import delivery_commands as commands

        return getattr(commands, name)(args)

    return command


def cmd_events(args: argparse.Namespace) -> int:
    from emulator.core import catalogue

    types = catalogue.event_types(args.vendor)
    from emulator.readers import schemas

    rows = [
        {
            "vendor": et.vendor,
            "name": et.name,
            "summary": et.summary,
            "schema": f"emulator/vendors/{et.vendor}/schemas/{et.schema_file}",
            "schema_file": str(schemas.file_of(et.schema_path)),
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
        # An inferred type's summary may already say so; the note is said once.
        said = "inferred" in r["summary"]
        note = "  (inferred: not documented by the vendor)" if r["inferred"] and not said else ""
        print(f"{r['vendor']:<8} {r['name']:<{width}}  {r['summary']}{note}")
    print(
        f"\n{len(rows)} event types. Schemas: each vendor package's schemas/ folder; 'events --json' names each file."
    )
    return EXIT_OK


def cmd_sample(args: argparse.Namespace) -> int:
    from emulator.core import catalogue
    from emulator.core.vendor import encode

    options = {}
    if args.at is not None:
        options["now"] = args.at
    if args.links_base is not None:
        options["links_base"] = args.links_base
    body = catalogue.sample(args.vendor, args.event, seed=args.seed, **options)
    body = payload_options.apply(args.vendor, args.event, body, args.overrides, "printed")
    if args.json:
        sys.stdout.buffer.write(encode(body) + b"\n")
    else:
        print(json.dumps(body, indent=2, ensure_ascii=False))
    sys.stdout.flush()
    return EXIT_OK
