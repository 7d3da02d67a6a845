"""The probe: how cases see a consumer's state (DESIGN.md, "Probe protocol").

    GET {probe}/applied?vendor=V&key=K  -> 200 {"count": n}
    GET {probe}/coupon?vendor=V&id=ID   -> 200 {"status": S, "revision": R}, or 404 if unknown

``HttpProbe`` asks a probe base URL; a Python consumer can instead pass any object with the two
methods ``applied(vendor, key)`` and ``coupon(vendor, id)`` (``contracts.consumer.MemoryStore`` is
one), or one callable ``probe(question, vendor, value)`` answering both (question ``"applied"`` or
``"coupon"``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlencode

from contracts.failures import ProbeFailure
from emulator.delivery.transport import HttpTransport, Request, TransportError

TIMEOUT = 5.0
POLL_EVERY = 0.01


class Probe(Protocol):
    def applied(self, vendor: str, key: str) -> int:
        """Times the event with dedupe key ``key`` was applied (0 if never)."""
        ...

    def coupon(self, vendor: str, coupon_id: str) -> Any:
        """``{"status": S, "revision": R}`` (or an object with those attributes) of the event
        held as current; None if unknown."""
        ...


class HttpProbe:
    """The probe protocol over HTTP; safe to share between threads (one connection per thread)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._local = threading.local()

    def applied(self, vendor: str, key: str) -> int:
        status, answer, url = self._get("applied", {"vendor": vendor, "key": key})
        count = answer.get("count") if isinstance(answer, dict) else None
        if status != 200 or isinstance(count, bool) or not isinstance(count, int):
            raise _protocol_error(url, status, answer, '200 {"count": n}')
        return count

    def coupon(self, vendor: str, coupon_id: str) -> Mapping[str, Any] | None:
        status, answer, url = self._get("coupon", {"vendor": vendor, "id": coupon_id})
        if status == 404:
            return None
        if status != 200 or not isinstance(answer, dict) or "status" not in answer:
            raise _protocol_error(url, status, answer, '200 {"status": S, "revision": R} or 404')
        return answer

    def _get(self, question: str, params: dict[str, str]) -> tuple[int, Any, str]:
        url = f"{self.base_url}/{question}?{urlencode(params)}"
        transport = getattr(self._local, "transport", None)
        if transport is None:
            transport = self._local.transport = HttpTransport()
        try:
            response = transport.send(
                Request("GET", url, {"Accept": "application/json"}, b"", TIMEOUT)
            )
        except TransportError as exc:
            raise ProbeFailure(
                "the probe did not answer",
                f"  asked:    GET {url}\n  got:      {exc}\n"
                f"  expected: an answer per the probe protocol (DESIGN.md); is --probe right?",
            ) from exc
        try:
            answer = json.loads(response.body) if response.body else None
        except ValueError:
            answer = response.body.decode("utf-8", "replace")[:200]
        return response.status, answer, url


class CallableProbe:
    """A probe from one callable ``fn(question, vendor, value)``."""

    def __init__(self, fn: Callable[[str, str, str], Any]) -> None:
        self.fn = fn

    def applied(self, vendor: str, key: str) -> int:
        return int(self.fn("applied", vendor, key))

    def coupon(self, vendor: str, coupon_id: str) -> Mapping[str, Any] | None:
        return self.fn("coupon", vendor, coupon_id)


def as_probe(value: Any) -> Probe | None:
    """A Probe from a base URL, a probe object, a callable, or None (no probe)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return HttpProbe(value)
    if hasattr(value, "applied") and hasattr(value, "coupon"):
        return value
    if callable(value):
        return CallableProbe(value)
    raise TypeError(
        f"a probe is a URL, an object with applied() and coupon(), or a callable; "
        f"got {type(value).__name__}"
    )


def poll(ask: Callable[[], Any], ready: Callable[[Any], bool], settle: float) -> Any:
    """Ask until ``ready`` (or ``settle`` seconds passed) and return the last answer.

    Consumers that apply events after answering get ``settle`` seconds to show them.
    """
    deadline = time.monotonic() + settle
    while True:
        answer = ask()
        if ready(answer) or time.monotonic() >= deadline:
            return answer
        time.sleep(POLL_EVERY)


def _protocol_error(url: str, status: int, answer: Any, expected: str) -> ProbeFailure:
    return ProbeFailure(
        "the probe answered outside the probe protocol",
        f"  asked:    GET {url}\n  got:      {status} {json.dumps(answer)[:300]}\n"
        f"  expected: {expected}",
    )
