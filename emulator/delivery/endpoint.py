"""One target as every sender talks to it: headers, signing at send time, the Digest exchange.

The dispatcher, the Locust user and the contract suite's sender all build requests here, so a
request's headers, its Digest answer (challenge -> answer, the nonce count) and the verification GET
some vendors send before their first delivery (``Verifications``) are one implementation whatever
moves the bytes.
"""

from __future__ import annotations

import secrets
from typing import Any

from emulator import __version__
from emulator.core import catalogue
from emulator.core.auth import Redactor, header
from emulator.delivery import injected
from emulator.delivery.http11 import Response

DEFAULT_USER_AGENT = f"coupon-emulator/{__version__}"


class Endpoint:
    """Builds each request's headers for one vendor's target; caches a Digest challenge."""

    def __init__(self, target: Any, profile: Any) -> None:
        self.target = target
        self.base_headers = {
            "Content-Type": profile.content_type,
            "User-Agent": profile.user_agent or DEFAULT_USER_AGENT,
            **dict(target.headers),
        }
        self.secrets = tuple(target.secrets)  # auth secrets and secret custom header values
        self.secret_names = tuple(getattr(target, "redact_headers", ()))
        self.redacted = Redactor(self.secrets, self.secret_names)  # headers -> as logged
        self.digest = target.auth.type == "digest"
        self._challenge: str | None = None
        self._nc = 0
        self._wrong: Any = None

    def exchange(self, method: str, body: bytes, auth_mode: str | None = None) -> AuthExchange:
        """The auth of one request to this target, from its first send to its answered challenge."""
        return AuthExchange(self, method, body, auth_mode)

    def headers(self, method: str, body: bytes, auth_mode: str | None = None) -> dict[str, str]:
        """Static headers, then auth computed over these exact bytes (a signature is made now).

        ``auth_mode`` ``"wrong"`` signs with wrong secrets, ``"missing"`` leaves auth out (edge
        cases a scenario injects, see ``emulator.delivery.injected``).
        """
        url = self.target.url
        auth = self.target.auth
        if auth_mode == "wrong":
            auth = self._wrong = self._wrong or injected.wrong(auth)
        elif auth_mode == "missing":
            auth = None
        headers = {**self.base_headers, **(auth.headers(method, url, body) if auth else {})}
        if method == "GET":
            headers.pop("Content-Type", None)
        if self._challenge is not None and auth is not None:
            headers.update(self._digest(method, auth))
        return headers

    def learn_challenge(self, response: Response) -> bool:
        """A 401 Digest challenge to answer (True), remembered for the requests that follow."""
        if not self.digest or response.status != 401:
            return False
        value = header(response.headers, "WWW-Authenticate") or ""
        if not value.lower().startswith("digest"):
            return False
        self._challenge = value
        self._nc = 0
        return True

    def _digest(self, method: str, auth: Any) -> dict[str, str]:
        # Reuse the server's nonce with a rising nonce count, as common clients do; a stale or
        # refused nonce brings a fresh 401 challenge, answered once more.
        self._nc += 1
        return auth.respond(
            self._challenge, method, self.target.url, cnonce=secrets.token_hex(8), nc=self._nc
        )


class AuthExchange:
    """One request's authentication: its headers, and whether an answer is a Digest challenge to
    send it again for. A challenge is answered once per request, and never for a request sent
    without auth on purpose (``auth_mode="missing"``): its 401 is the answer wanted."""

    def __init__(
        self, endpoint: Endpoint, method: str, body: bytes, auth_mode: str | None = None
    ) -> None:
        self.endpoint = endpoint
        self.method = method
        self.body = body
        self.auth_mode = auth_mode
        self.answered = auth_mode == "missing"

    def headers(self) -> dict[str, str]:
        """The headers of the next send: signed now, with the Digest answer once challenged."""
        return self.endpoint.headers(self.method, self.body, self.auth_mode)

    def challenged(self, response: Response) -> bool:
        """True when ``response`` is a Digest challenge to answer: send again with ``headers()``."""
        if self.answered or not self.endpoint.learn_challenge(response):
            return False
        self.answered = True
        return True


# --- the verification GET (the profile flag ``verification_get``) -----------------------------

VERIFY_METHOD = "GET"


class Verifications:
    """Which targets' verification GET passed: asked once per target URL, before the first
    delivery there (once per run for the dispatcher, per process for the Locust user)."""

    def __init__(self) -> None:
        self._state: dict[str, tuple[bool, str] | None] = {}  # url -> None while in flight

    def needed(self, target: Any) -> bool:
        """True the first time a target that wants it is seen: the caller sends the GET now."""
        if not target.verification_get or target.url in self._state:
            return False
        self._state[target.url] = None
        return True

    def outcome(self, target: Any) -> tuple[bool, str] | None:
        """``(passed, reason)``; None while the GET is in flight. Targets without the flag pass."""
        if not target.verification_get:
            return True, "no verification GET for this target"
        return self._state.get(target.url)

    def judge(self, target: Any, status: int | None, error: str | None = None) -> tuple[bool, str]:
        """Record and return the verdict on the verification GET's answer (``status`` None: none)."""
        self._state[target.url] = verdict = verification_verdict(target, status, error)
        return verdict


def verification_verdict(
    target: Any, status: int | None, error: str | None = None
) -> tuple[bool, str]:
    """``(passed, reason)`` for the answer to a target's verification GET: only a 200 passes."""
    if status == 200:
        return True, "verification GET answered 200"
    got = f"answered {status}" if status is not None else f"got no answer ({error})"
    title = catalogue.vendor(target.vendor).title
    return False, (
        f"verification GET to {target.url} {got}; {title} activates a webhook only when this GET "
        "(same Authorization header) answers 200. Set verification_get: false to skip it."
    )
