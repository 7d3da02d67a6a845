"""One target as the dispatcher talks to it: headers, signing at send time, the Digest exchange."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from emulator import __version__
from emulator.core.auth import header, redact
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
        self.secrets = tuple(target.auth.secrets)
        self.digest = target.auth.type == "digest"
        self._challenge: str | None = None
        self._nc = 0
        self._wrong: Any = None

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

    def redacted(self, headers: Mapping[str, str]) -> dict[str, str]:
        return redact(headers, self.secrets) if self.secrets else dict(headers)
