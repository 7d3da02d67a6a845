"""Event generation speed and memory: planning a scenario, beside calling Faker for the same fields.

    python benchmarks/generation.py [--scenario scenarios/load.yaml] [--events N] [--jobs J]
                                    [--baseline-events M]

Ours: ``coupon-emulator plan`` as users run it, the whole scenario (1,000,000 events) or its first
``--events``, streamed as JSON lines to /dev/null, its flows planned by one process per CPU (or
``--jobs``). Baseline, in the same run: for the first
``--baseline-events`` events of the same plan, every field of every body drawn by calling Faker
directly (what a hand-written generator does), then encoded the same way; only that part is timed.
Each side runs in a fresh process, so each peak RSS (``resource.getrusage``) is its own; with
workers, ours is the parent's plus each worker's (a ceiling: forked workers share pages).
Figures vary with the machine; the ratio is what to compare. Targets: 20,000 events/s, 200 MB.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATE, TARGET_RSS_MB = 20_000, 200


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    kb = resource.getrusage(who).ru_maxrss  # kilobytes on Linux, bytes on macOS
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


def ours(scenario: str, events: int | None, jobs: int | None) -> dict[str, Any]:
    from emulator.cli.scenario_commands import jobs_for, line, no_cyclic_gc, write
    from emulator.core.plan import builder_extras
    from emulator.readers import forked, planning
    from emulator.readers.loader import load_scenario as load

    loaded = load(scenario)
    jobs = jobs_for(loaded.scenario, jobs)
    started = time.perf_counter()
    texts = planning.lines(
        loaded.scenario,
        line,
        links_base=loaded.settings.links_base,
        extras=builder_extras(loaded.settings),
        jobs=jobs,
    )
    with open(os.devnull, "wb") as sink, no_cyclic_gc():
        count = write(itertools.islice(texts, events) if events else texts, sink)
        texts.close()  # joins the workers, so their peak RSS is counted
    seconds = time.perf_counter() - started
    workers = len(planning.groups(loaded.scenario, jobs)) if jobs > 1 and forked.available() else 0
    parent, child = peak_rss_mb(), peak_rss_mb(resource.RUSAGE_CHILDREN) if workers else 0.0
    # RSS counts the pages a forked worker shares with its parent in both: the sum is a ceiling.
    return {"events": count, "seconds": seconds, "rss_mb": parent + workers * child,
            "detail": f"{workers} workers of <= {child:.0f} MB + {parent:.0f} MB" if workers else ""}  # fmt: skip


# Which Faker provider a hand-written generator would call for a field, by its name or value.
_BY_NAME = (
    (re.compile(r"email", re.I), "email"),
    (re.compile(r"first_?name", re.I), "first_name"),
    (re.compile(r"last_?name", re.I), "last_name"),
    (re.compile(r"phone", re.I), "phone_number"),
    (re.compile(r"city", re.I), "city"),
    (re.compile(r"post(al)?_?code", re.I), "postcode"),
    (re.compile(r"birth", re.I), "date_of_birth"),
    (re.compile(r"(href|url)", re.I), "url"),
    (re.compile(r"(time|_at|timestamp|date)", re.I), "iso8601"),
    (re.compile(r"(site_name|company|slug|business)", re.I), "company"),
    (re.compile(r"name", re.I), "catch_phrase"),
    (re.compile(r"(^id$|_id$|Id$|uuid)", re.I), "uuid4"),
)


def _faked(fake, key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _faked(fake, k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [_faked(fake, key, v) for v in value]
    if isinstance(value, bool):
        return fake.pybool()
    if isinstance(value, int):
        return fake.random_int(0, 2**31)
    if isinstance(value, float):
        return fake.pyfloat(left_digits=3, right_digits=2, positive=True)
    if value is None:
        return None
    for pattern, provider in _BY_NAME:
        if pattern.search(key):
            made = getattr(fake, provider)()
            return made.isoformat() if hasattr(made, "isoformat") else made
    return fake.word()


def baseline(scenario: str, events: int) -> dict[str, Any]:
    from faker import Faker

    from emulator.core.scenario import plan
    from emulator.readers.loader import load_scenario as load

    fake = Faker("en_US")
    fake.seed_instance(1)
    loaded = load(scenario)
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    spent, count = 0.0, 0
    with open(os.devnull, "w", encoding="utf-8") as sink:
        for event in itertools.islice(plan(loaded.scenario), events):
            started = time.perf_counter()
            body = _faked(fake, "", event.body)
            sink.write(
                encode({"vendor": event.vendor, "event_type": event.event_type, "body": body})
            )
            spent += time.perf_counter() - started
            count += 1
    return {"events": count, "seconds": spent, "rss_mb": peak_rss_mb()}


def child(kind: str, scenario: str, events: int | None, jobs: int | None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", kind, "--scenario", scenario]
    if events is not None:
        command += ["--events", str(events)]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    out = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{out.stderr}")
    return json.loads(out.stdout.splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "load.yaml"))
    parser.add_argument("--events", type=int, help="plan only the first N events (default: all)")
    parser.add_argument("--baseline-events", type=int, default=20_000, metavar="M")
    parser.add_argument("--jobs", type=int, help="planning processes (default: as plan does)")
    parser.add_argument("--child", choices=("ours", "baseline"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "ours":
        print(json.dumps(ours(args.scenario, args.events, args.jobs)))
        return 0
    if args.child == "baseline":
        print(json.dumps(baseline(args.scenario, args.events or args.baseline_events)))
        return 0

    mine = child("ours", args.scenario, args.events, args.jobs)
    base = child("baseline", args.scenario, args.baseline_events, None)
    print(
        f"event generation: {Path(args.scenario).name}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"{'':34} {'events':>10} {'seconds':>9} {'events/s':>10} {'peak RSS':>10}")
    for name, r in (("coupon-emulator plan", mine), ("baseline: Faker for each field", base)):
        rate = r["events"] / r["seconds"] if r["seconds"] else 0.0
        print(
            f"{name:34} {r['events']:>10,} {r['seconds']:>9.2f} {rate:>10,.0f} "
            f"{r['rss_mb']:>7.0f} MB  {r.get('detail', '')}".rstrip()
        )
    rate = mine["events"] / mine["seconds"]
    base_rate = base["events"] / base["seconds"]
    print(f"ours / baseline: {rate / base_rate:.1f}x the events per second")
    ok_rate, ok_rss = rate >= TARGET_RATE, mine["rss_mb"] < TARGET_RSS_MB
    print(
        f"targets: >= {TARGET_RATE:,} events/s {'met' if ok_rate else 'MISSED'}, "
        f"< {TARGET_RSS_MB} MB peak RSS {'met' if ok_rss else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
