"""A consumer that checks each vendor's auth and records dedupe keys; plan files for load runs."""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from emulator.core import catalogue
from emulator.readers import config, eventlist

# Every vendor, each with its own auth; fabric batches 7 events per envelope, so the last batch of
# an item is short and shares split batches, not events.
AUTH = {
    "komo": {},
    "fabric": {"auth": {"type": "api-key", "value": "f4br1c"}, "batch_size": 7},
    "rebilly": {"auth": {"type": "digest", "username": "hooks", "password": "d1gest"}},
    "punchh": {"auth": {"type": "hmac-sha256", "client": "acme", "secret": "s3cret"}},
}


def write_plan(
    directory: Path, base_url: str, items: list[tuple[str, str, int]], seed: int
) -> Path:
    """An event list sending ``items`` to ``{base_url}/hooks/<vendor>``."""
    vendors = {slug: {"target": f"{base_url}/hooks/{slug}", **spec} for slug, spec in AUTH.items()}
    used = {slug for slug, _, _ in items}
    document = {
        "seed": seed,
        "vendors": {slug: spec for slug, spec in vendors.items() if slug in used},
        "events": [{"vendor": v, "event": e, "count": n} for v, e, n in items],
    }
    path = directory / "plan.yaml"
    path.write_text(json.dumps(document, indent=1))  # JSON is YAML
    return path


class Consumer:
    """Answers every vendor like a correct consumer: checks auth, answers a Digest challenge,
    records the dedupe keys of every accepted body. ``status`` overrides a vendor's answer."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.lock = threading.Lock()
        self.keys: list[str] = []
        self.posts: Counter[str] = Counter()
        self.verifications: Counter[str] = Counter()
        self.refused: list[str] = []
        self.status: dict[str, int] = {}
        self.settings: config.Settings | None = None
        for slug in AUTH:
            server.expect_request(f"/hooks/{slug}").respond_with_handler(self._handle(slug))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def plan(self, directory: Path, items: list[tuple[str, str, int]], seed: int = 5) -> Path:
        path = write_plan(directory, self.url, items, seed)
        self.settings = _settings(path)
        return path

    def _handle(self, slug: str):
        def handle(request: Request) -> Response:
            assert self.settings is not None, "write the plan with consumer.plan() first"
            target = self.settings.vendors[slug]
            body = request.get_data()
            headers = dict(request.headers.items())
            if target.auth.type == "digest" and "Authorization" not in headers:
                return Response("", 401, target.auth.challenge("n0nce", "0paque"))
            ok, reason = target.auth.verify(request.method, target.url, body, headers)
            with self.lock:
                if not ok:
                    self.refused.append(f"{slug} {request.method}: {reason}")
                    return Response(reason, 401)
                if request.method == "GET":
                    self.verifications[slug] += 1
                    return Response("", 200)
                self.posts[slug] += 1
                self.keys.extend(catalogue.vendor(slug).dedupe_keys(json.loads(body)))
            return Response("", self.status.get(slug, 202 if slug == "punchh" else 200))

        return handle


def _settings(path: Path) -> config.Settings:
    return config.parse(dict(eventlist.load(str(path)).settings), source=str(path))


@pytest.fixture
def consumer():
    # Threaded: several Locust processes post at once.
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield Consumer(server)
        server.check_handler_errors()
    finally:
        server.clear()
        server.stop()
