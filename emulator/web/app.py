"""The service's Flask app factory: control API, dashboard, built-in sink and vendor resources."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator import __version__

if TYPE_CHECKING:  # Flask is imported when an app is made: the CLI starts without it
    from flask import Flask

DEFAULT_DB = "coupon-emulator.db"
DEFAULT_PORT = 8025
TOKEN_VAR = "COUPON_EMULATOR_API_TOKEN"
MAX_REQUEST_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class ServiceConfig:
    """Everything ``serve`` is told; ``env`` (default ``os.environ``) expands ``${VAR}``s."""

    db: str = DEFAULT_DB
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    api_token: str | None = None
    settings: str | None = None  # a delivery settings file: the default targets and auth
    time_scale: float | None = None
    links_base: str | None = None
    scenarios: str | None = None  # a folder of scenarios; None: the shipped library
    workers: int = 8
    env: Mapping[str, str] | None = None
    # Where the dispatcher reaches the built-in sink: a listener with threads of its own, so
    # deliveries to the sink never queue behind API requests (default: the service's own URL).
    sink_base: str | None = None
    # Environment variables ``${VAR}`` may name in YAML and targets posted to the API.
    allow_env: tuple[str, ...] = ()
    capacity: int = 10_000  # unfinished deliveries held before new work is refused (429)
    max_events: int = 1_000_000  # events one API run may plan

    @property
    def base_url(self) -> str:
        """Where this process reaches itself: loopback when bound to every address."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        if host in ("::", "[::]"):
            host = "::1"
        if ":" in host:
            host = f"[{host.strip('[]')}]"
        return f"http://{host}:{self.port}"


def create_app(config: ServiceConfig) -> Flask:
    """A new app with its own outbox, dispatchers and sink; ``shutdown(app)`` releases them."""
    from flask import Flask

    from emulator.core.errors import UsageError
    from emulator.delivery.outbox import Outbox
    from emulator.readers import library
    from emulator.web import access, api, dashboard, openapi, params, problems, resources, sink
    from emulator.web.plans import Defaults
    from emulator.web.queries import Queries
    from emulator.web.service import DeliveryService
    from emulator.web.state import KEY, State

    if config.scenarios is not None and not Path(config.scenarios).is_dir():
        raise UsageError(
            f"--scenarios {config.scenarios}: no such folder; give a folder of scenario files, "
            "or leave it out for the shipped library (coupon-emulator scenarios lists it)"
        )
    env = dict(os.environ if config.env is None else config.env)
    # Scenarios aim at ${SINK_URL}: here that is this service's own sink, whatever its port.
    env.setdefault("SINK_URL", config.base_url.rstrip("/") + "/sink")
    base = _base_settings(config, env)
    outbox = Outbox(config.db)
    queries = Queries(config.db)
    defaults = Defaults(
        base=base,
        env=env,
        links_base=config.links_base or config.base_url,
        sink=sink.entries(config.base_url),
        scenarios=Path(config.scenarios) if config.scenarios else library.scenarios_folder(),
        config_source=config.settings,
        allow_env=("SINK_URL", *config.allow_env),
        max_events=config.max_events,
    )
    # Runs keep aiming at the public sink URL; the dispatcher takes the sink's own listener.
    route = None
    if config.sink_base:
        route = (config.base_url.rstrip("/") + "/sink/", config.sink_base.rstrip("/") + "/sink/")
    service = DeliveryService(
        outbox,
        queries,
        defaults,
        workers=config.workers,
        capacity=config.capacity,
        sink_route=route,
    )
    token = config.api_token or None

    app = Flask("emulator", static_folder=None, template_folder="web/templates")
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.json.sort_keys = False  # keys in the order the API builds them
    state = State(outbox, queries, service, token, config.base_url)
    app.extensions[KEY] = state
    problems.register(app)
    access.install(app, token)
    params.install(app, lambda: openapi.query_parameters(openapi.document(secured=False)))
    app.register_blueprint(api.blueprint())
    app.register_blueprint(dashboard.blueprint())
    app.register_blueprint(resources.blueprint())
    state.sink = sink.mount(app, config.base_url, env)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app


def shutdown(app: Flask, timeout: float = 30.0) -> None:
    """Stop the app's dispatchers (unfinished deliveries stay pending) and close its database."""
    from emulator.web.state import KEY

    app.extensions[KEY].close(timeout)


def _base_settings(config: ServiceConfig, env: Mapping[str, str]) -> dict[str, Any]:
    """The --config file as written (secrets stay ``${VAR}``), checked now so errors come early."""
    from emulator.readers import config as settings
    from emulator.readers import loader

    raw: dict[str, Any] = {}
    if config.settings:
        raw = loader.settings_file(config.settings, env=env)[1]
    if config.time_scale is not None:
        raw["time_scale"] = config.time_scale
    if config.links_base:
        settings.parse({"links_base": config.links_base}, source="--links-base", env=env)
    return raw
