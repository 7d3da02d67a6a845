"""Serve a consumer core with header names exactly as they arrive (WSGI servers rewrite them).

Some consumers look headers up by their exact name; only a server that keeps the names as sent
lets a test see such a consumer fail. Routes as the reference consumer's: ``/hooks/<vendor>``,
``/hooks/probe/applied`` and ``/hooks/probe/coupon``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from contracts.consumer import Answer, Consumer


@contextmanager
def serve_raw(core: Consumer) -> Iterator[str]:
    """Serve ``core`` on loopback until the block ends; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # no line per request
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/hooks/probe/applied":
                answer = core.probe_applied(query.get("vendor"), query.get("key"))
            elif parts.path == "/hooks/probe/coupon":
                answer = core.probe_coupon(query.get("vendor"), query.get("id"))
            elif parts.path.startswith("/hooks/"):
                url = f"http://{self.headers.get('Host', '127.0.0.1')}{self.path}"
                headers = dict(self.headers.items())  # the names as they arrived
                vendor = parts.path.removeprefix("/hooks/")
                answer = core.handle(vendor, self.command, url, headers, body)
            else:
                answer = Answer(404, {"error": "not found"})
            data = answer.body()
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if answer.payload is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
