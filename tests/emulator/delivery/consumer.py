"""A counting webhook consumer on loopback for the durability tests: it dedupes on each vendor's
own dedupe keys, counts every request, and can hold requests or fail first attempts."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from emulator.core import catalogue


class Consumer:
    """What arrived: ``accepted`` counts each dedupe key answered 200, ``seen`` every POST."""

    def __init__(self, vendor: str, fail_first: bool = False) -> None:
        self.vendor = catalogue.vendor(vendor)
        self.fail_first = fail_first
        self.lock = threading.Lock()
        self.seen: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()
        self.gate = threading.Event()  # cleared: requests wait (the run stays busy)
        self.gate.set()
        self.url = ""

    @property
    def keys(self) -> set[str]:
        with self.lock:
            return set(self.accepted)

    def requests(self) -> int:
        with self.lock:
            return sum(self.seen.values())

    def answer(self, body: bytes) -> int:
        keys = self.vendor.dedupe_keys(json.loads(body))
        with self.lock:
            first = not any(self.seen[k] for k in keys)
            for k in keys:
                self.seen[k] += 1
            if self.fail_first and first:
                return 503
        self.gate.wait(60)
        with self.lock:
            for k in keys:
                self.accepted[k] += 1
        return 200


@contextmanager
def serving(consumer: Consumer) -> Iterator[Consumer]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # a vendor's verification request
            self._reply(200)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self._reply(consumer.answer(body))

        def _reply(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # a killed sender resets its connections
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    consumer.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    try:
        yield consumer
    finally:
        consumer.gate.set()
        server.shutdown()
        server.server_close()


def poll(condition: Callable[[], object], deadline: float, what: str) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)
