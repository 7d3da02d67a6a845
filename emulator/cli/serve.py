"""``coupon-emulator serve``: the service on waitress, one process with its dispatchers inside.

SIGTERM and SIGINT stop it cleanly: the dispatchers stop first (what is unfinished stays pending
in the outbox for ``resume``), then the server, then the database is closed.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
from typing import Any

from emulator.cli import argtypes

DEFAULT_HOST = "127.0.0.1"
CONNECTION_LIMIT = 200  # open client connections per listener (waitress's default is 100)
SINK_THREADS = 8  # the built-in sink's own HTTP threads
SHED_FACTOR = 8  # API requests get 503 while more than this many per thread wait
SCENARIOS_VAR = "COUPON_EMULATOR_SCENARIOS"
URL_FILE_VAR = "COUPON_EMULATOR_URL_FILE"


def register(sub: argparse._SubParsersAction) -> None:
    from emulator.web.app import DEFAULT_DB, DEFAULT_PORT, TOKEN_VAR

    p = sub.add_parser(
        "serve",
        help="run the emulator as a service: API, dashboard, built-in sink",
        description=(
            "Serve the control API (/api, documented at /openapi.json), the dashboard (/), the "
            "built-in sink (/sink/<vendor>, every run's default target) and the vendor resources "
            "that payload links point at (/vendors/...). Stop with SIGTERM or Ctrl-C."
        ),
        epilog=(
            "Example: coupon-emulator serve --port 8025 --db emulator.db; then "
            "curl -X POST -H 'Content-Type: application/json' "
            '-d \'{"vendor": "komo", "event_type": "CouponIssued"}\' '
            "http://127.0.0.1:8025/api/events"
        ),
    )
    p.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (default %(default)s; 0.0.0.0: all)"
    )
    p.add_argument(
        "--port",
        type=argtypes.port,
        default=DEFAULT_PORT,
        help="port (default %(default)s; 0 picks one)",
    )
    p.add_argument(
        "--db", default=DEFAULT_DB, metavar="PATH", help="the SQLite outbox (default %(default)s)"
    )
    p.add_argument(
        "--api-token",
        metavar="TOKEN",
        help=f"require 'Authorization: Bearer TOKEN' on /api and the dashboard (default: "
        f"${TOKEN_VAR}, else no token; prefer the variable, a flag shows in ps)",
    )
    p.add_argument(
        "--config",
        metavar="F",
        help="delivery settings: targets and auth for vendors a request does not aim elsewhere",
    )
    p.add_argument(
        "--time-scale",
        type=argtypes.positive,
        metavar="X",
        help="multiply every vendor delay and retry interval by X (default 1)",
    )
    p.add_argument(
        "--links-base",
        metavar="URL",
        help="base URL of the vendor resources in payload links (default this server's own URL)",
    )
    p.add_argument(
        "--scenarios",
        metavar="DIR",
        default=os.environ.get(SCENARIOS_VAR) or None,
        help=f"folder of the scenarios that runs name (default ${SCENARIOS_VAR}, else the "
        "scenarios shipped with coupon-emulator)",
    )
    p.add_argument(
        "--url-file",
        metavar="PATH",
        default=os.environ.get(URL_FILE_VAR) or None,
        help=f"write the URL this process answers on there once it listens, and remove it on "
        f"stop (default ${URL_FILE_VAR}); the Docker image's health check reads it, so it "
        "follows --port",
    )
    p.add_argument(
        "--threads",
        type=argtypes.count,
        default=8,
        metavar="N",
        help="HTTP worker threads (default 8)",
    )
    p.add_argument(
        "--allow-env",
        action="append",
        default=[],
        metavar="NAME",
        help="an environment variable that ${NAME} may name in YAML and targets sent to the API "
        "(repeatable; default none but SINK_URL: the API never reads the service's environment)",
    )
    p.add_argument(
        "--max-events",
        type=argtypes.count,
        default=1_000_000,
        metavar="N",
        help="the most events one API run may plan (default %(default)s)",
    )
    p.add_argument(
        "--capacity",
        type=argtypes.count,
        default=10_000,
        metavar="N",
        help="unfinished deliveries held before new events and runs get 429 (default %(default)s)",
    )
    p.set_defaults(command=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from emulator.core.errors import UsageError
    from emulator.web.app import TOKEN_VAR, ServiceConfig, create_app, shutdown

    logging.basicConfig(level=logging.WARNING, format="coupon-emulator: %(levelname)s: %(message)s")
    quiet_waitress()
    listener = _bind(args.host, args.port)
    port = listener.getsockname()[1]
    # The built-in sink also listens on a loopback port of its own, with its own threads: the
    # dispatcher's deliveries to it never queue behind API requests, nor they behind them.
    sink_listener = _bind("127.0.0.1", 0)
    sink_base = f"http://127.0.0.1:{sink_listener.getsockname()[1]}"
    config = ServiceConfig(
        db=args.db,
        host=args.host,
        port=port,
        api_token=args.api_token or os.environ.get(TOKEN_VAR) or None,
        settings=args.config,
        time_scale=args.time_scale,
        links_base=args.links_base,
        scenarios=args.scenarios,
        sink_base=sink_base,
        allow_env=tuple(args.allow_env),
        max_events=args.max_events,
        capacity=args.capacity,
    )
    try:
        app = create_app(config)
    except UsageError:
        listener.close()
        sink_listener.close()
        raise
    except Exception as exc:  # sqlite: a directory, no permission, not a database
        listener.close()
        sink_listener.close()
        raise UsageError(f"cannot open the outbox database {args.db!r}: {exc}") from None

    if args.url_file:
        try:
            _write_url(args.url_file, config.base_url)
        except UsageError:
            shutdown(app)
            listener.close()
            sink_listener.close()
            raise

    import threading

    import waitress

    # Connections beyond the limit wait in the listen backlog: file descriptors stay bounded.
    from emulator.web.shedding import shed

    servers: list[Any] = []  # the main server, once made: its queue depth sheds API load
    front = shed(app, lambda: len(servers[0].task_dispatcher.queue) if servers else 0,
                 SHED_FACTOR * args.threads)  # fmt: skip
    server = waitress.create_server(
        front,
        sockets=[listener],
        threads=args.threads,
        ident="coupon-emulator",
        connection_limit=CONNECTION_LIMIT,
    )
    servers.append(server)
    sink_server = waitress.create_server(
        app,
        sockets=[sink_listener],
        threads=SINK_THREADS,
        ident="coupon-emulator-sink",
        connection_limit=CONNECTION_LIMIT,
    )
    sink_thread = threading.Thread(target=_serve_quietly, args=(sink_server,), daemon=True)
    sink_thread.start()
    _on_stop_signals()
    display = "[" + args.host + "]" if ":" in args.host else args.host
    token = "on" if config.api_token else "off"
    print(
        f"coupon-emulator: serving on http://{display}:{port} (dashboard /, API /api, "
        f"OpenAPI /openapi.json, sink /sink/<vendor>; token {token}; outbox {args.db})",
        flush=True,
    )
    try:
        server.run()  # returns once a stop signal raised SystemExit inside it
    except SystemExit:
        pass
    finally:
        if args.url_file:
            with contextlib.suppress(OSError):
                os.unlink(args.url_file)
        shutdown(app)
        server.close()
        sink_server.close()
    print("coupon-emulator: stopped; unfinished deliveries stay pending (resume --db)", flush=True)
    return 0


class OncePerMessage(logging.Filter):
    """Lets each warning through once: waitress repeats some under load (the connection limit,
    each time it is reached again), where one line says all a user can act on. Errors always
    pass."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        key = str(record.msg)  # the format, not the figures: "depth is %d" is one message
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


def quiet_waitress() -> None:
    """waitress's logging cut to what a user needs: its start-up lines ("Serving on ...") are
    below the WARNING level shown; each warning once; none per queued task, since the service
    logs its own busy and idle changes (``emulator.web.shedding``)."""
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    logger = logging.getLogger("waitress")
    if not any(isinstance(f, OncePerMessage) for f in logger.filters):
        logger.addFilter(OncePerMessage())


def _serve_quietly(server: Any) -> None:
    import contextlib

    with contextlib.suppress(OSError, ValueError):  # its sockets closed under it at shutdown
        server.run()


def _write_url(path: str, url: str) -> None:
    """``url`` into ``path``, whole or not at all (a reader never sees half a URL)."""
    from emulator.core.errors import UsageError

    partial = f"{path}.{os.getpid()}.tmp"
    try:
        with open(partial, "w", encoding="utf-8") as fh:
            fh.write(url + "\n")
        os.replace(partial, path)
    except OSError as exc:
        raise UsageError(f"--url-file {path}: cannot write it ({exc.strerror or exc})") from None


def _on_stop_signals() -> None:
    def stop(signum: int, frame: Any) -> None:
        # A second signal while stopping takes the default way out.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def _bind(host: str, port: int) -> socket.socket:
    from emulator.core.errors import UsageError

    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; pick another --port "
            "(0 lets the system choose) or --host"
        ) from None
    return sock
