"""Load shedding at the front door: API requests are refused at once while too many wait.

A request that waits in the HTTP server's queue waits for every one before it; with a hundred
clients, /healthz would wait seconds. While more than ``limit`` requests are queued, API requests
get 503 with Retry-After at the cost of a few microseconds each, so the queue drains and /healthz,
/readyz, the sink and the vendor resources keep answering promptly.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from emulator.web.problems import MEDIA_TYPE, TYPE_PREFIX, TYPES

log = logging.getLogger("emulator.web")

SHED_PREFIX = "/api/"
RETRY_AFTER = "1"
LOG_EVERY = 30.0  # seconds between log lines about shedding


def shed(app: Any, depth: Callable[[], int], limit: int) -> Callable[..., Iterable[bytes]]:
    """``app`` behind a check of ``depth()`` (requests waiting for a thread) against ``limit``."""
    state = {"shedding": False, "logged": 0.0, "changes": 0}

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(SHED_PREFIX):
            # Hysteresis: shed above the limit, serve again below half of it, so it seldom flaps.
            waiting = depth()
            over = waiting > limit if not state["shedding"] else waiting > limit // 2
            if over != state["shedding"]:
                state["shedding"] = over
                state["changes"] += 1
                now = time.monotonic()
                if over and now - state["logged"] >= LOG_EVERY:  # one line, not one per flap
                    state["logged"] = now
                    log.warning(
                        "more than %d requests waiting: API requests get 503 with Retry-After "
                        "until fewer (%d changes so far)", limit, state["changes"],
                    )  # fmt: skip
            if over:
                body = json.dumps({
                    "type": TYPE_PREFIX + "busy",
                    "title": TYPES["busy"],
                    "status": 503,
                    "detail": f"more than {limit} requests are waiting; try again in "
                    f"{RETRY_AFTER} s",
                    "instance": path,
                }).encode()  # fmt: skip
                start_response(
                    "503 Service Unavailable",
                    [("Content-Type", MEDIA_TYPE), ("Content-Length", str(len(body))),
                     ("Retry-After", RETRY_AFTER)],
                )  # fmt: skip
                return [body]
        return app(environ, start_response)

    return wrapped
