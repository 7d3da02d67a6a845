"""Send one request exactly as the emulator would, and describe the exchange for failure messages.

Headers come from the delivery ``Endpoint`` (content type, user agent, static headers, auth signed
over the exact bytes, the Digest challenge answered once by its ``AuthExchange``, the verification
GET judged by ``verification_verdict``), bytes go through ``HttpTransport``: the dispatcher's and
the Locust user's implementation, with a blocking transport.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from emulator.core import auth as authn
from emulator.core import catalogue
from emulator.delivery.endpoint import VERIFY_METHOD, Endpoint, verification_verdict
from emulator.delivery.transport import HttpTransport, Request, TransportError
from emulator.readers.config import Target

EXCERPT = 600  # characters of a body shown in a failure message


@dataclass(frozen=True)
class Exchange:
    """One request and what came back (``status`` None: no answer, ``error`` says why)."""

    method: str
    url: str
    headers: Mapping[str, str]  # secrets redacted
    body: bytes
    status: int | None
    response_headers: Mapping[str, str]
    response_body: bytes
    elapsed: float
    error: str | None = None  # no answer: why; with an answer: what kept it from counting
    # The headers as sent, secrets included: for a replay, never for a message.
    raw_headers: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def sent(self) -> str:
        head = ", ".join(f"{k}: {v}" for k, v in self.headers.items())
        text = f"{self.method} {self.url} ({len(self.body)} bytes; {head})"
        return text + (f"\n            {excerpt(self.body)}" if self.body else "")

    def got(self) -> str:
        if self.status is None:
            return f"no answer after {self.elapsed:.2f}s: {self.error}"
        text = f"{self.status} after {self.elapsed:.3f}s"
        text += f"  {excerpt(self.response_body)}" if self.response_body else ""
        return text + (f" ({self.error})" if self.error else "")


def _renamed(headers: dict[str, str], rename: Callable[[str], str] | None) -> dict[str, str]:
    return headers if rename is None else {rename(k): v for k, v in headers.items()}


def excerpt(data: bytes, limit: int = EXCERPT) -> str:
    text = data.decode("utf-8", "replace")
    return (
        text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more characters)"
    )


class Sender:
    """Sends to one vendor's consumer URL with the target's auth; one per thread (not shared).

    Like the dispatcher, one ``Endpoint`` serves the target's own auth: a Digest challenge is
    learnt once, and later requests answer it with a rising nonce count.
    """

    def __init__(self, target: Target, transport: HttpTransport | None = None) -> None:
        self.target = target
        self.profile = catalogue.vendor(target.vendor).profile
        self.transport = transport or HttpTransport()
        self.endpoint = Endpoint(target, self.profile)

    def send(
        self,
        body: bytes,
        *,
        method: str | None = None,
        auth: authn.Authenticator | None = None,
        timeout: float | None = None,
        url: str | None = None,
        header_names: Callable[[str], str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Exchange:
        """One delivery of ``body``; ``auth`` replaces the target's (a missing or a wrong one).

        ``url`` sends to another URL (signed for it), ``header_names`` rewrites every header
        name (their casing), ``headers`` sends exactly these headers, signed or not (a replay).
        A Digest challenge the emulator cannot answer is the consumer's answer, with the reason.
        """
        target = self.target if url is None else replace(self.target, url=url)
        endpoint = self.endpoint
        if auth is not None or url is not None:  # a one-off endpoint: its challenge is not ours
            endpoint = Endpoint(replace(target, auth=auth or target.auth), self.profile)
        request = endpoint.exchange(method or target.method, body)
        started = time.perf_counter()
        sent = dict(headers) if headers is not None else _renamed(request.headers(), header_names)
        error = None
        try:
            response = self._request(request.method, target.url, sent, body, timeout)
            if headers is None and request.challenged(response):  # Digest: answer it once
                try:
                    sent = _renamed(request.headers(), header_names)
                except authn.DigestError as exc:
                    error = f"its Digest challenge cannot be answered: {exc}"
                    if endpoint is self.endpoint:  # forget the challenge: the next send asks anew
                        self.endpoint = Endpoint(self.target, self.profile)
                else:
                    response = self._request(request.method, target.url, sent, body, timeout)
        except TransportError as exc:
            return Exchange(
                request.method, target.url, endpoint.redacted(sent), body, None, {}, b"",
                time.perf_counter() - started, str(exc), sent,
            )  # fmt: skip
        return Exchange(
            request.method, target.url, endpoint.redacted(sent), body, response.status,
            response.headers, response.body, time.perf_counter() - started, error, sent,
        )  # fmt: skip

    def verify(self) -> tuple[Exchange, bool, str]:
        """The verification GET, judged as the dispatcher judges it: (exchange, passed, reason)."""
        ex = self.send(b"", method=VERIFY_METHOD)
        passed, reason = verification_verdict(self.target, ex.status, ex.error)
        return ex, passed, reason

    def _request(
        self, method: str, url: str, headers: dict[str, str], body: bytes, timeout: float | None
    ) -> Any:
        request = Request(method, url, headers, body, timeout or self.target.timeout)
        return self.transport.send(request)

    def close(self) -> None:
        self.transport.close()
