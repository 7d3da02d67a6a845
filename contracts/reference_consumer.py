"""A reference webhook consumer for all four vendors: a small Flask app that passes every contract case.

Read it as documentation of what a correct consumer does; the rules themselves live in
``contracts.consumer`` (authenticate first, 400 for what is not JSON, acknowledge unknown types,
dedupe, let no older event win, answer 200), and each vendor's reading of a body in its own
module's ``observe``.

API::

    create_blueprint(settings=None, store=None, *, probe=True, name="coupon_consumer", core=None)
        -> Blueprint; ``core``: a ready Consumer (then settings and store are its own)
        routes  GET|POST|PUT|PATCH /<vendor>   the webhook endpoint of each vendor
                GET /probe/applied?vendor=V&key=K   GET /probe/coupon?vendor=V&id=ID   (probe=True)
        the blueprint's ``consumer`` attribute is the Consumer core (its ``store`` holds the state)
    create_app(settings=None, store=None, *, prefix="/hooks", core=None) -> Flask
        the blueprint under ``prefix`` (probe at ``{prefix}/probe``), and ``GET /healthz``
    python -m contracts.reference_consumer [--host H] [--port N] [--config F] [--prefix P]

The probe routes expose state read-only, for tests: leave ``probe=False`` in production.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask, Response, request

from contracts.consumer import Answer, Consumer, Store

DEFAULT_PREFIX = "/hooks"


def create_blueprint(
    settings: Any = None,
    store: Store | None = None,
    *,
    probe: bool = True,
    name: str = "coupon_consumer",
    core: Consumer | None = None,
) -> Blueprint:
    """The webhook and probe routes of one consumer core, ready to mount under any prefix."""
    core = core if core is not None else Consumer(settings, store)
    blueprint = Blueprint(name, __name__)
    blueprint.consumer = core  # type: ignore[attr-defined]

    @blueprint.route("/<vendor>", methods=["GET", "POST", "PUT", "PATCH"])
    def webhook(vendor: str) -> Response:
        # The raw body and the raw request target: signatures cover the exact bytes sent.
        url = request.host_url.rstrip("/") + raw_target(request.environ)
        body = request.get_data(cache=False)
        return _response(core.handle(vendor, request.method, url, request.headers, body))

    if probe:

        @blueprint.get("/probe/applied")
        def probe_applied() -> Response:
            return _response(
                core.probe_applied(request.args.get("vendor"), request.args.get("key"))
            )

        @blueprint.get("/probe/coupon")
        def probe_coupon() -> Response:
            return _response(core.probe_coupon(request.args.get("vendor"), request.args.get("id")))

    return blueprint


def create_app(
    settings: Any = None,
    store: Store | None = None,
    *,
    prefix: str = DEFAULT_PREFIX,
    core: Consumer | None = None,
) -> Flask:
    """A Flask app serving the reference consumer (or the given core) under ``prefix``."""
    app = Flask(__name__)
    blueprint = create_blueprint(settings, store, core=core)
    app.register_blueprint(blueprint, url_prefix=prefix.rstrip("/") or None)
    app.extensions["coupon_consumer"] = blueprint.consumer  # type: ignore[attr-defined]

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def raw_target(environ: dict[str, Any]) -> str:
    """Path and query as the client sent them (servers differ in which key keeps them raw)."""
    for key in ("RAW_URI", "REQUEST_URI"):
        if environ.get(key):
            return environ[key]
    path = quote(
        environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/:@!$&'()*+,;=~-._"
    )
    query = environ.get("QUERY_STRING", "")
    return path + (f"?{query}" if query else "")


def _response(answer: Answer) -> Response:
    mimetype = None if answer.payload is None else "application/json"
    return Response(
        answer.body(), status=answer.status, headers=dict(answer.headers), mimetype=mimetype
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m contracts.reference_consumer",
        description="Serve the reference consumer: every vendor at {prefix}/<vendor>, the probe at {prefix}/probe.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument(
        "--port", type=int, default=9000, help="port (default %(default)s; 0 picks one)"
    )
    parser.add_argument(
        "--config", metavar="F", help="delivery settings: the auth each vendor signs with"
    )
    parser.add_argument("--prefix", default=DEFAULT_PREFIX, help="URL prefix (default %(default)s)")
    parser.add_argument("--log-requests", action="store_true", help="log every request on stderr")
    args = parser.parse_args(argv)
    import logging

    from werkzeug.serving import make_server

    if not args.log_requests:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from emulator.core.errors import UsageError
    from emulator.readers import config

    try:
        settings = config.load(args.config) if args.config else None
    except UsageError as exc:
        print(f"reference consumer: error: {exc}", file=sys.stderr)
        return 2
    server = make_server(
        args.host, args.port, create_app(settings, prefix=args.prefix), threaded=True
    )
    base = f"http://{args.host}:{server.server_port}{args.prefix.rstrip('/')}"
    print(f"reference consumer: {base}/<vendor>  probe: {base}/probe", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
