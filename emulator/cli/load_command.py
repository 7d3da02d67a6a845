"""The ``load`` command: check the plan here, then run Locust on it in a process of its own."""

from __future__ import annotations

import argparse
import importlib.util
import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

from emulator.core.errors import UsageError

LOCUSTFILE = Path(__file__).parent.parent / "loadgen" / "locustfile.py"
DEFAULT_MASTER_PORT = 5557  # Locust's own default
DEFAULT_USERS = 10
# What only the process that starts the test (a lone run, or the master) takes.
_STARTER_FLAGS = ("users", "spawn_rate", "run_time", "csv", "html", "web_ui")
_TIMESPAN = re.compile(r"^(?:\d+|(?=\d)(?:\d+h)?(?:\d+m)?(?:\d+s)?)$")
_INSTALL = "install the extra: pip install 'coupon-emulator[load]'"


def register(sub: argparse._SubParsersAction) -> None:
    from emulator.cli.argtypes import count, positive, remote_port

    load = sub.add_parser(
        "load",
        help="send a plan from a Locust cluster (needs coupon-emulator[load])",
        description=(
            "Send the requests of SCENARIO with Locust, alone or as a master and workers on other "
            "machines: the same bodies, envelopes and auth as 'run', each worker sending its own "
            "share of the plan. No retries: a refused request is a failure in Locust's "
            "statistics, which group requests by '<vendor> <event type>'. The run ends when the "
            "plan is sent. Exit 0 when every request succeeded, 1 when any failed or the plan "
            "was not completely sent, 2 on bad input."
        ),
        epilog=(
            "Examples: coupon-emulator load events.yaml --users 20 --csv stats/run; "
            "coupon-emulator load events.yaml --master --expect-workers 2 --users 40; "
            "coupon-emulator load events.yaml --worker --master-host 10.0.0.5. "
            "Anything else Locust offers goes in --locust='...'."
        ),
    )
    load.add_argument(
        "scenario", metavar="SCENARIO", help="the plan: an event list, as 'run' takes"
    )
    load.add_argument(
        "--seed", type=int, metavar="N", help="random seed (default: the file's, else 0)"
    )
    load.add_argument("--config", metavar="F", help="delivery settings file (YAML; see README)")
    load.add_argument(
        "--target", action="append", default=[], metavar="V=URL",
        help="send vendor V's requests to URL (repeatable; overrides the settings' target)",
    )  # fmt: skip
    load.add_argument(
        "--users", type=count, metavar="N",
        help=f"users over the whole cluster, each with one request in flight (default {DEFAULT_USERS})",
    )  # fmt: skip
    load.add_argument(
        "--spawn-rate", type=positive, metavar="R",
        help="users started per second (default: all of them in the first second)",
    )  # fmt: skip
    load.add_argument(
        "--run-time", type=_timespan, metavar="T",
        help="stop after T at the latest, e.g. 90s, 10m, 1h30m (default: when the plan is sent)",
    )  # fmt: skip
    load.add_argument(
        "--csv", metavar="PREFIX",
        help="Locust's CSV statistics: PREFIX_stats.csv, PREFIX_failures.csv, PREFIX_stats_history.csv",
    )  # fmt: skip
    load.add_argument("--html", metavar="FILE", help="Locust's HTML report")
    load.add_argument(
        "--web-ui", action="store_true",
        help="serve Locust's web UI (port 8089) instead of running headless; the test starts at once",
    )  # fmt: skip
    role = load.add_mutually_exclusive_group()
    role.add_argument(
        "--master", action="store_true", help="coordinate workers; send nothing from here"
    )
    role.add_argument(
        "--worker", action="store_true", help="send a share of the plan for the master at --master-host"
    )  # fmt: skip
    load.add_argument(
        "--expect-workers", type=count, metavar="N",
        help="with --master: start once N workers are connected (default 1)",
    )  # fmt: skip
    load.add_argument(
        "--master-host", metavar="H", help="with --worker: the master's address (default 127.0.0.1)"
    )
    load.add_argument(
        "--master-port", type=remote_port, metavar="P",
        help=f"the port the master listens on and workers connect to (default {DEFAULT_MASTER_PORT})",
    )  # fmt: skip
    load.add_argument(
        "-q", "--quiet", action="store_true",
        help="no progress: no Locust statistics every few seconds, "
        "only its summary at the end and errors",
    )  # fmt: skip
    load.add_argument(
        "--locust", action="append", default=[], metavar="ARGS",
        help="more arguments for Locust, after '=': --locust='--processes 4 --loglevel WARNING'",
    )  # fmt: skip
    load.set_defaults(command=cmd_load)


def _timespan(text: str) -> str:
    if not _TIMESPAN.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a duration; expected seconds or e.g. 90s, 10m, 1h30m"
        )
    return text


def locust_command(args: argparse.Namespace) -> list[str]:
    """The Locust command line that runs ``args``: the plan's options, then Locust's own."""
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--scenario", args.scenario]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    if args.config:
        command += ["--settings", args.config]
    for flag in args.target:
        command += ["--target", flag]
    if args.worker:
        command += ["--worker", "--master-host", args.master_host or "127.0.0.1"]
        if args.master_port:
            command += ["--master-port", str(args.master_port)]
        return command + _extra(args)
    users = args.users or DEFAULT_USERS
    command += ["--users", str(users), "--spawn-rate", str(args.spawn_rate or users)]
    command += ["--autostart"] if args.web_ui else ["--headless"]
    if args.quiet:
        command += ["--only-summary"]
    if args.run_time:
        command += ["--run-time", args.run_time]
    if args.csv:
        command += ["--csv", args.csv]
    if args.html:
        command += ["--html", args.html]
    if args.master:
        command += ["--master", "--expect-workers", str(args.expect_workers or 1)]
        if args.master_port:
            command += ["--master-bind-port", str(args.master_port)]
    return command + _extra(args)


def _extra(args: argparse.Namespace) -> list[str]:
    return [word for text in args.locust for word in shlex.split(text)]


def _check(args: argparse.Namespace) -> None:
    try:
        missing = importlib.util.find_spec("locust") is None
    except (ImportError, ValueError):
        missing = True
    if missing:
        raise UsageError(f"the load command needs Locust, which is not installed; {_INSTALL}")
    if args.master_host and not args.worker:
        raise UsageError("--master-host is for workers: add --worker, or drop --master-host")
    if args.expect_workers and not args.master:
        raise UsageError("--expect-workers is for the master: add --master, or drop it")
    if args.master_port and not (args.master or args.worker):
        raise UsageError("--master-port is for a master or a worker: add --master or --worker")
    given = [f"--{f.replace('_', '-')}" for f in _STARTER_FLAGS if getattr(args, f)]
    if args.worker and given:
        raise UsageError(
            f"{', '.join(given)}: a worker takes these from its master; give them to the master "
            "(coupon-emulator load SCENARIO --master ...)"
        )
    users = args.users or DEFAULT_USERS
    if args.master and users < (args.expect_workers or 1):
        raise UsageError(
            f"--users {users} is fewer than --expect-workers {args.expect_workers}: every "
            "worker needs at least one user to send its share of the plan"
        )
    for text in args.locust:
        try:
            shlex.split(text)
        except ValueError as exc:
            raise UsageError(f"--locust={text!r}: {exc}; quote it as one argument") from None
    from emulator.loadgen.source import load_plan

    load_plan(args.scenario, args.seed, args.config, args.target)  # exit 2 here, not in Locust


def cmd_load(args: argparse.Namespace) -> int:
    _check(args)
    process = subprocess.Popen(locust_command(args))
    # A SIGTERM for us (a CI job cancelled) is one for Locust, which then writes its statistics.
    previous = signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    try:
        return process.wait()
    except KeyboardInterrupt:
        # Locust got the same Ctrl+C and writes its statistics before it exits; wait for that.
        process.wait()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
