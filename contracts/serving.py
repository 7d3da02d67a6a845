"""Serve a WSGI app (a consumer under test) on loopback in a thread, for tests and the plugin."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def serve_wsgi(app: Any, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` with werkzeug's threaded server until the block ends; yields its base URL.

    An error that stops the server thread is re-raised when the block ends, so it cannot vanish.
    """
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server(host, port, app, threaded=True)
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            server.serve_forever(poll_interval=0.05)
        except BaseException as exc:  # re-raised in the caller's thread below
            errors.append(exc)

    thread = threading.Thread(target=serve, name=f"wsgi:{server.server_port}", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    if errors:
        raise RuntimeError(f"the server on port {server.server_port} stopped") from errors[0]
