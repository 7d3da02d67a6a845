"""``coupon-emulator verify``: run the contract cases against consumers and print the matrix.

Exit codes: 0 every case passed (skips allowed, and shown); 1 the consumer failed a case; 2 bad
input; 3 only harness errors: cases the harness could not run (each shown with its cause), none
failed by the consumer.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from contracts.defaults import DEFAULT_FUZZ, DEFAULT_SETTLE
from emulator.cli import argtypes, files

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_HARNESS = 0, 1, 2, 3


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``verify`` command to the ``coupon-emulator`` parser."""
    verify = sub.add_parser(
        "verify",
        help="prove that a consumer handles every event type and edge case",
        description=(
            "Send every contract case to the consumer of each vendor exactly as the vendor would "
            "(bodies, auth, methods) and check its answers and, with --probe, its state. Prints a "
            "matrix of case by vendor. Exit codes: 0 all passed (skips allowed), 1 the consumer "
            "failed a case, 2 bad input, 3 only harness errors (cases that could not run)."
        ),
        epilog=(
            "Example: coupon-emulator verify --consumer http://127.0.0.1:9000/hooks "
            "--config settings.yaml --probe http://127.0.0.1:9000/hooks/probe --junit verify.xml"
        ),
    )
    verify.add_argument(
        "--consumer",
        action="append",
        default=[],
        metavar="[V=]URL",
        help=(
            "vendor V's webhook URL (repeatable); a bare URL is a base serving every vendor at "
            "URL/<vendor>. Default: the targets of --config"
        ),
    )
    verify.add_argument(
        "--config",
        metavar="F",
        help="delivery settings: the auth, headers, timeout per vendor (read as run reads them; "
        "with --consumer, a vendor's entry needs no target)",
    )
    verify.add_argument(
        "--probe",
        metavar="URL",
        help="the consumer's probe base URL (GET URL/applied, URL/coupon); without it, cases "
        "that need state are skipped",
    )
    verify.add_argument(
        "--vendor", action="append", default=[], metavar="V", help="only this vendor (repeatable)"
    )
    verify.add_argument(
        "--case",
        action="append",
        default=[],
        metavar="NAME",
        help="only this case: a name (accepts) or one event type's id (accepts[CouponIssued])",
    )
    verify.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    verify.add_argument("--json", metavar="FILE", help="write a JSON report")
    verify.add_argument(
        "--ctrf", metavar="FILE", help="write a CTRF JSON report (Common Test Report Format)"
    )
    verify.add_argument(
        "--html",
        metavar="FILE",
        help="write one self-contained HTML page: the matrix, and each failure with its request, "
        "answer and Reproduce line",
    )
    verify.add_argument(
        "--db",
        metavar="PATH",
        help="also store the results in this outbox database; 'serve --db PATH' shows the "
        "latest on its contract page (/contract)",
    )
    verify.add_argument(
        "--seed", type=int, metavar="N", help="seed of every body sent (default: a new one per run)"
    )
    verify.add_argument(
        "--settle",
        type=argtypes.seconds,
        default=DEFAULT_SETTLE,
        metavar="S",
        help="seconds the probe may take to show an acknowledged event (default %(default)s)",
    )
    verify.add_argument(
        "--fuzz",
        type=argtypes.count,
        default=DEFAULT_FUZZ,
        metavar="N",
        help="schema-generated bodies per vendor for fuzz-no-5xx (default %(default)s)",
    )
    verify.add_argument(
        "--workers",
        type=argtypes.count,
        default=8,
        metavar="N",
        help="cases run at once (default 8)",
    )
    verify.add_argument(
        "-q", "--quiet", action="store_true", help="no progress on standard error, errors only"
    )
    verify.set_defaults(command=cmd_verify)


class CaseProgress:
    """Cases finished so far, shown on standard error as they end (``emulator.cli.progress``)."""

    def __init__(self, total: int, quiet: bool) -> None:
        from emulator.cli.progress import Display

        self.total = total
        self.display = Display(quiet=quiet)
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def tell(self, result: Any) -> None:
        with self._lock:
            self.counts[result.status] += 1
        self.display.update([self.step()])

    def step(self) -> Any:
        from emulator.readers.progress import Step

        with self._lock:
            done = sum(self.counts.values())
            notes = tuple(f"{n} {status}" for status, n in sorted(self.counts.items()))
        return Step("verified", done, self.total, "cases", finished=done == self.total, notes=notes)

    def __enter__(self) -> CaseProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.display.close([self.step()])


def consumers_from_flags(flags: list[str], settings: Any) -> dict[str, str]:
    """``{vendor: URL}`` from ``--consumer`` flags, else from the settings' targets (``settings``
    None: the flags alone)."""
    from emulator.core import catalogue
    from emulator.core.errors import UsageError
    from emulator.readers.yamlread import url_problem

    found: dict[str, str] = {}
    base = None
    for flag in flags:
        name, sep, url = flag.partition("=")
        if sep and not name.startswith(("http:", "https:")):
            catalogue.vendor(name)  # an unknown vendor lists the valid ones
            found[name] = url
        elif url_problem(flag):
            raise UsageError(f"--consumer URL: {url_problem(flag)}")
        elif base is not None:
            raise UsageError(
                f"--consumer {flag!r}: only one bare URL (a base for every vendor) may be given; "
                f"name the vendor for the others, e.g. --consumer {next(iter(catalogue.VENDORS))}={flag}"
            )
        else:
            base = flag
    if base is not None:
        for slug in catalogue.VENDORS:
            found.setdefault(slug, f"{base.rstrip('/')}/{slug}")
    for slug, url in found.items():
        if url_problem(url):
            raise UsageError(f"--consumer {slug}=URL: target URL for {slug}: {url_problem(url)}")
    if not flags and settings is not None:
        found = {slug: target.url for slug, target in settings.vendors.items()}
    if not found:
        raise UsageError(
            "no consumer to verify: pass --consumer URL (a base serving URL/<vendor>), "
            "--consumer V=URL per vendor, or --config with vendors.V.target"
        )
    return {slug: found[slug] for slug in catalogue.VENDORS if slug in found}


def cmd_verify(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from contracts import cases, ctrf, report, runner
    from contracts.harness import settings_of
    from contracts.probe import as_probe
    from emulator.core import catalogue
    from emulator.core.errors import UsageError
    from emulator.readers import config
    from emulator.reports import verify_page

    urls = consumers_from_flags(args.consumer, None) if args.consumer else None
    settings = settings_of(args.config, urls) if args.config else config.Settings()
    consumers = urls if urls is not None else consumers_from_flags([], settings)
    for slug in args.vendor:
        catalogue.vendor(slug)
        if slug not in consumers:
            raise UsageError(
                f"--vendor {slug}: no consumer URL for {slug}; pass --consumer {slug}=URL or a "
                f"bare base URL (given: {', '.join(consumers)})"
            )
    vendors = [slug for slug in consumers if not args.vendor or slug in args.vendor]
    targets = {slug: replace(settings.target(slug, consumers[slug])) for slug in vendors}
    if args.probe is not None:
        parts = urlsplit(args.probe)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(
                f"--probe {args.probe!r}: expected an http:// URL, the base of the consumer's "
                f"probe routes, e.g. http://127.0.0.1:9000/hooks/probe"
            )
    for path, flag in ((args.junit, "--junit"), (args.json, "--json"), (args.ctrf, "--ctrf"),
                       (args.html, "--html")):  # fmt: skip
        files.check_writable(path, flag)  # before a case runs, not after all of them
    selected = cases.select(cases.build(vendors), args.case)
    seed = args.seed if args.seed is not None else secrets.randbelow(10**6)
    extra: list[str] = []
    if args.settle != DEFAULT_SETTLE:
        extra += ["--settle", f"{args.settle:g}"]
    if args.fuzz != DEFAULT_FUZZ:
        extra += ["--fuzz", str(args.fuzz)]

    def reproduce(case: cases.Case) -> str:
        return runner.verify_command(
            case, consumers[case.vendor], seed, config=args.config, probe=args.probe, extra=extra
        )

    options = runner.Options(seed, args.settle, args.fuzz, args.workers)
    print(
        f"verify: {len(selected)} cases for {', '.join(vendors)}; seed {seed}; "
        f"probe {args.probe or 'none (cases that need state are skipped)'}",
        flush=True,
    )
    started, wall = time.perf_counter(), time.time()
    with CaseProgress(len(selected), args.quiet) as shown:
        results = runner.run_cases(
            selected, targets, as_probe(args.probe), options, reproduce, shown.tell
        )
    elapsed = time.perf_counter() - started
    sys.stdout.write(report.text(results, vendors, elapsed))
    meta = {
        "tool": "coupon-emulator verify",
        "seed": seed,
        "consumers": {slug: consumers[slug] for slug in vendors},
        "probe": args.probe,
    }
    _write(args.junit, report.junit(results, vendors, elapsed), "--junit")
    as_json = report.json_report(results, meta, elapsed)
    if args.json:
        _write(args.json, (json.dumps(as_json, indent=2) + "\n").encode(), "--json")
    if args.ctrf:
        start_ms = round(wall * 1000)
        document = ctrf.ctrf(results, meta, start_ms, start_ms + round(elapsed * 1000))
        _write(args.ctrf, (json.dumps(document, indent=2) + "\n").encode(), "--ctrf")
    if args.html:
        _write(args.html, verify_page.document(as_json, cases.names()).encode(), "--html")
    if args.db:
        _store(args.db, as_json)
    if any(r.status == runner.FAILED for r in results):
        return EXIT_FAILED
    return EXIT_HARNESS if any(r.status == runner.ERROR for r in results) else EXIT_PASSED


def _write(path: str | None, data: bytes, flag: str) -> None:
    if path is not None:
        files.write(path, data, flag)


def _store(db: str, as_json: dict[str, Any]) -> None:
    """Keep the results in the outbox database for the service's contract page."""
    import sqlite3

    from contracts import store
    from emulator.core.errors import UsageError

    try:
        store.save(db, as_json)
    except (sqlite3.Error, OSError) as exc:
        raise UsageError(f"--db {db}: cannot store the results there: {exc}") from None
