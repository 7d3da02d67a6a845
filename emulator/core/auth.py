"""Authenticators: request bytes in, headers out, and the consumer's check of those headers.

Pure: no I/O, no clock, no randomness of its own. A Digest client nonce comes in as an argument.
The emulator signs with ``headers``; the contract suite and the reference consumer check with
``verify``; both use this one implementation.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from emulator.core.digest import (
    DIGEST_ALGORITHMS,
    DigestError,
    digest_authorization,
    make_challenge,
    parse_challenge,
    parse_challenges,
    verify_digest,
)

# Re-exported: callers check and answer Digest through this module, like every other auth type.
__all__ = [
    "DIGEST_ALGORITHMS",
    "DigestError",
    "digest_authorization",
    "make_challenge",
    "parse_challenge",
    "parse_challenges",
    "verify_digest",
]

TYPES = ("none", "api-key", "basic", "bearer", "digest", "hmac-sha1", "hmac-sha256")
SIGN_MODES = ("path", "full-url")
DEFAULT_REALM = "coupon-emulator"
REDACTED = "[redacted]"

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 token: header names, schemes


class Authenticator(Protocol):
    """One way of authenticating a webhook request, seen from both ends."""

    @property
    def type(self) -> str: ...

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a log: pass them to ``redact``."""
        ...

    def headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        """The headers to add to the request (Digest: none until the server's challenge)."""
        ...

    def verify(
        self, method: str, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[bool, str]:
        """The consumer's check of a received request: ``(ok, reason)``."""
        ...


class AuthSpecError(ValueError):
    """An auth spec that cannot be built. ``key`` is the offending field, ``problem`` is
    ``missing``, ``unknown`` (a field that does not exist) or ``invalid`` (a bad value)."""

    def __init__(self, key: str, problem: str, message: str, valid: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.key = key
        self.problem = problem
        self.message = message
        self.valid = tuple(valid)


def request_target(url: str) -> str:
    """What an HTTP/1.1 request line carries: path plus query (``/hooks/punchh?x=1``)."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, looked up case-insensitively; None when absent."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _credentials(headers: Mapping[str, str], scheme: str) -> tuple[str | None, str]:
    """The credentials after ``scheme`` in Authorization, or None and the reason they are not."""
    value = header(headers, "Authorization")
    if value is None:
        return None, "Authorization header is missing"
    given, _, rest = value.strip().partition(" ")
    if given.lower() != scheme.lower():  # schemes are case-insensitive (RFC 9110 §11.1)
        return None, f"Authorization scheme is {given!r}, expected {scheme!r}"
    return rest.strip(), ""


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


@dataclass(frozen=True)
class NoAuth:
    type: str = field(default="none", init=False)
    secrets: tuple[str, ...] = field(default=(), init=False)

    def headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        return {}

    def verify(
        self, method: str, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[bool, str]:
        return True, "no authentication configured"


@dataclass(frozen=True)
class ApiKey:
    """A static key in a header (fabric: ``x-api-key``). No signature: the body is not covered."""

    value: str = field(repr=False)
    header: str = "x-api-key"
    type: str = field(default="api-key", init=False)

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.value,)

    def headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        return {self.header: self.value}

    def verify(
        self, method: str, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[bool, str]:
        given = header(headers, self.header)
        if given is None:
            return False, f"{self.header} header is missing"
        if not _same(given, self.value):
            return False, f"{self.header} header does not match the configured key"
        return True, f"{self.header} matches"


@dataclass(frozen=True)
class Basic:
    """HTTP Basic (RFC 7617), credentials in UTF-8. Punchh writes the scheme word as ``basic``."""

    username: str
    password: str = field(repr=False)
    scheme: str = "Basic"
    type: str = field(default="basic", init=False)

    @property
    def token(self) -> str:
        return base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.password, self.token)

    def headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        return {"Authorization": f"{self.scheme} {self.token}"}

    def verify(
        self, method: str, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[bool, str]:
        given, reason = _credentials(headers, "Basic")
        if given is None:
            return False, reason
        try:
            decoded = base64.b64decode(given, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False, "Basic credentials are not base64 of UTF-8 'username:password'"
        user, colon, password = decoded.partition(":")
        if not colon:
            return False, "Basic credentials have no ':' between username and password"
        if not _same(user, self.username):
            return False, f"Basic username {user!r} does not match"
        if not _same(password, self.password):
            return False, f"Basic password for {user!r} does not match"
        return True, "Basic credentials match"


@dataclass(frozen=True)
class Bearer:
    token: str = field(repr=False)
    scheme: str = "Bearer"
    type: str = field(default="bearer", init=False)

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.token,)

    def headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        return {"Authorization": f"{self.scheme} {self.token}"}

    def verify(
        self, method: str, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[bool, str]:
        given, reason = _credentials(headers, "Bearer")
        if given is None:
            return False, reason
        if not _same(given, self.token):
            return False, "Bearer token does not match"
        return True, "Bearer token matches"


@dataclass(frozen=True)
class Hmac:
    """Punchh: ``Authorization: hmac <hex HMAC(secret, message)>`` plus ``x-pch-key: <client>``.

    The message is the request target (path and query) followed by the raw body, no separator;
    with ``sign="full-url"`` it is the whole URL as configured, followed by the body. No timestamp
    is signed, so there is no replay window to check.
    """

    client: str
    secret: str = field(repr=False)
    type: str = "hmac-sha256"
    sign: str = "path"
    scheme: str = "hmac"

    def __post_init__(self) -> None:
        if self.type not in ("hmac-sha1", "hmac-sha256"):
            raise ValueError(f"Hmac type must be hmac-sha1 or hmac-sha256, not {self.type!r}")
        if self.sign not in SIGN_MODES:
            raise ValueError(f"Hmac sign must be one of {', '.join(SIGN_MODES)}, not {self.sign!r}")

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.secret,)

    def message(self, url: str, body: bytes) -> bytes:
        signed = url if self.sign == "full-url" else request_target(url)
        return signed.encode() + body

    def signature(self, url: str, body: bytes) -> str:
        # hmac.digest is the one-shot C path: several times cheaper than hmac.new() per request.
        digest = "sha1" if self.type == "hmac-sha1" else "sha256"
        return hmac.digest(self.secret.encode(), self.message(url, body), digest).hex()

    def headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        return {
            "Authorization": f"{self.scheme} {self.signature(url, body)}",
            "x-pch-key": self.client,
        }

    def verify(
        self, method: str, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[bool, str]:
        given, reason = _credentials(headers, "hmac")
        if given is None:
            return False, reason
        client = header(headers, "x-pch-key")
        if client is None:
            return False, "x-pch-key header is missing"
        if not _same(client, self.client):
            return False, f"x-pch-key is {client!r}, expected {self.client!r}"
        if not _same(given.lower(), self.signature(url, body)):
            signed = "the full URL" if self.sign == "full-url" else "path + query"
            return (
                False,
                f"{self.type} signature does not match the body (signed: {signed} + raw body)",
            )
        return True, f"{self.type} signature matches"


@dataclass(frozen=True)
class Digest:
    """HTTP Digest (RFC 7616), Rebilly's per-host option.

    The first request goes without Authorization; on a 401 carrying a Digest challenge the sender
    calls ``respond`` and retries. ``realm`` is the consumer side's: the realm it challenges with.
    """

    username: str
    password: str = field(repr=False)
    realm: str = DEFAULT_REALM
    type: str = field(default="digest", init=False)

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.password,)

    def headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        return {}

    def respond(
        self, www_authenticate: str, method: str, url: str, *, cnonce: str, nc: int = 1
    ) -> dict[str, str]:
        """The headers of the retry answering a 401's ``WWW-Authenticate`` value."""
        challenge = parse_challenge(www_authenticate)
        value = digest_authorization(
            challenge, method, request_target(url), self.username, self.password, cnonce, nc
        )
        return {"Authorization": value}

    def challenge(self, nonce: str, opaque: str, algorithm: str = "SHA-256") -> dict[str, str]:
        """The consumer's 401 headers."""
        return {"WWW-Authenticate": make_challenge(self.realm, nonce, opaque, algorithm)}

    def verify(
        self, method: str, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[bool, str]:
        return verify_digest(
            header(headers, "Authorization"),
            method,
            request_target(url),
            self.username,
            self.password,
            realm=self.realm,
        )


# --- redaction and construction ---------------------------------------------------------------


def redact(headers: Mapping[str, str], secrets: Iterable[str]) -> dict[str, str]:
    """The headers with secret material replaced by ``[redacted]``, for attempt logs.

    Authorization values keep their scheme word (``Basic [redacted]``). Any other header whose
    value contains a secret is redacted whole: a short secret over-redacts, which is the safe side.
    """
    secrets = tuple(s for s in secrets if s)
    out: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in ("authorization", "proxy-authorization"):
            scheme, space, _ = value.strip().partition(" ")
            keep = space and _TOKEN.match(scheme) and not any(s in scheme for s in secrets)
            out[name] = f"{scheme} {REDACTED}" if keep else REDACTED
        elif any(s in value for s in secrets):
            out[name] = REDACTED
        else:
            out[name] = value
    return out


_FIELDS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    # type: (required fields, optional fields with defaults)
    "none": ((), {}),
    "api-key": (("value",), {"header": "x-api-key"}),
    "basic": (("username", "password"), {"scheme": "Basic"}),
    "bearer": (("token",), {"scheme": "Bearer"}),
    "digest": (("username", "password"), {"realm": DEFAULT_REALM}),
    "hmac-sha1": (("client", "secret"), {"sign": "path", "scheme": "hmac"}),
    "hmac-sha256": (("client", "secret"), {"sign": "path", "scheme": "hmac"}),
}


def optional_fields(kind: str) -> dict[str, str]:
    """The optional fields of auth type ``kind`` with the emulator's defaults (``api-key``: its
    ``header``); a vendor's ``auth_defaults`` may change them."""
    return dict(_FIELDS[kind][1])


def from_spec(
    spec: Mapping[str, Any],
    *,
    allowed: tuple[str, ...],
    vendor: str,
    defaults: Mapping[str, Mapping[str, str]] | None = None,
) -> Authenticator:
    """Build the authenticator a settings entry describes (``{type: basic, username: ..., ...}``).

    ``allowed`` are the vendor's auth types; ``defaults`` maps a type to vendor defaults for its
    optional fields (Punchh: ``{"basic": {"scheme": "basic"}}``). Raises AuthSpecError.
    """
    if not isinstance(spec, Mapping):
        raise AuthSpecError("", "invalid", f"expected a mapping with a type, got {_kind(spec)}")
    kind = spec.get("type")
    if kind is None:
        valid = ", ".join(allowed)
        raise AuthSpecError("type", "missing", f"auth needs a type; valid: {valid}", allowed)
    if not isinstance(kind, str) or kind not in allowed:
        message = f"unknown auth type {kind!r} for {vendor}; valid: {', '.join(allowed)}"
        raise AuthSpecError("type", "invalid", message + _suggest(kind, allowed), allowed)
    required, optional = _FIELDS[kind]
    known = ("type", *required, *optional)
    for key in spec:
        if key not in known:
            message = f"unknown field {key!r} for auth type {kind}; known: {', '.join(known)}"
            raise AuthSpecError(str(key), "unknown", message + _suggest(key, known), known)
    for key in required:
        if key not in spec:
            message = f"auth type {kind} needs {key!r} (required: {', '.join(required)})"
            raise AuthSpecError(key, "missing", message, required)
    values = {**optional, **(defaults or {}).get(kind, {})}
    for key in (*required, *optional):
        values[key] = _field(key, spec.get(key, values.get(key)))
    if kind == "basic" and ":" in values["username"]:
        raise AuthSpecError("username", "invalid", "a Basic username cannot contain ':' (RFC 7617)")
    if values.get("sign", "path") not in SIGN_MODES:
        message = f"unknown sign mode {values['sign']!r}; valid: {', '.join(SIGN_MODES)}"
        raise AuthSpecError("sign", "invalid", message, SIGN_MODES)
    build: dict[str, Callable[..., Authenticator]] = {
        "none": NoAuth, "api-key": ApiKey, "basic": Basic, "bearer": Bearer, "digest": Digest,
    }  # fmt: skip
    return build[kind](**values) if kind in build else Hmac(type=kind, **values)


def _field(key: str, value: Any) -> str:
    """A spec value that goes into a header: a non-empty string without line breaks."""
    if not isinstance(value, str):
        message = f"expected a string, got {_kind(value)}; quote the value in YAML"
        raise AuthSpecError(key, "invalid", message)
    if not value:
        raise AuthSpecError(key, "invalid", "must not be empty (an unset environment variable?)")
    if "\r" in value or "\n" in value:
        raise AuthSpecError(key, "invalid", "must not contain a line break (it goes in a header)")
    if key in ("header", "scheme") and not _TOKEN.match(value):
        raise AuthSpecError(key, "invalid", f"{value!r} is not a valid HTTP token")
    return value


def _kind(value: Any) -> str:
    """The type of a value, never the value itself: it may be a secret."""
    return "nothing" if value is None else f"a {type(value).__name__}"


def _suggest(name: Any, valid: Iterable[str]) -> str:
    if not isinstance(name, str):
        return ""
    close = difflib.get_close_matches(name, list(valid), n=1, cutoff=0.6)
    return f". Did you mean {close[0]!r}?" if close else ""
