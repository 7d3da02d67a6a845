"""Authenticators: request bytes in, headers out, and the consumer's check of those headers.

Pure: no I/O, no clock, no randomness of its own. A Digest client nonce comes in as an argument.
The emulator signs with ``headers``; the contract suite and the reference consumer check with
``verify``; both use this one implementation.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

TYPES = ("none", "api-key", "basic", "bearer", "digest", "hmac-sha1", "hmac-sha256")
SIGN_MODES = ("path", "full-url")
DIGEST_ALGORITHMS = ("MD5", "MD5-sess", "SHA-256", "SHA-256-sess")
DEFAULT_REALM = "coupon-emulator"
REDACTED = "[redacted]"

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 token: header names, schemes
_HASHES: dict[str, Callable[[bytes], Any]] = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


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


class DigestError(ValueError):
    """A Digest challenge or Authorization header this module cannot use."""


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


# --- Digest (RFC 7616) ------------------------------------------------------------------------


def parse_challenges(value: str) -> list[tuple[str, dict[str, str]]]:
    """Every challenge in a WWW-Authenticate value: ``[(scheme, {param: value})]``.

    Parameter names are lowercased and quoted strings unquoted; a token68 (``Basic abc==``) is kept
    under the key ``""``.
    """
    challenges: list[tuple[str, dict[str, str]]] = []
    pos = 0
    while (pos := _skip(value, pos, " \t,")) < len(value):
        m = _TOKEN_AT.match(value, pos)
        if not m:
            raise DigestError(f"cannot parse WWW-Authenticate at {value[pos : pos + 20]!r}")
        word, pos = m.group(), m.end()
        eq = _skip(value, pos, " \t")
        if challenges and eq < len(value) and value[eq] == "=":
            param, pos = _param_value(value, _skip(value, eq + 1, " \t"))
            challenges[-1][1][word.lower()] = param
            continue
        challenges.append((word, {}))
        if t68 := _TOKEN68.match(value, pos):
            challenges[-1][1][""] = t68.group(1)
            pos = t68.end(1)
    return challenges


_TOKEN_AT = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_TOKEN68 = re.compile(r"[ \t]+([A-Za-z0-9\-._~+/]+=*)(?=[ \t]*(?:,|$))")


def _skip(value: str, pos: int, chars: str) -> int:
    while pos < len(value) and value[pos] in chars:
        pos += 1
    return pos


def _param_value(value: str, pos: int) -> tuple[str, int]:
    """A token or a quoted string (backslash escapes) starting at ``pos``, and where it ends."""
    if pos < len(value) and value[pos] == '"':
        chars, pos = [], pos + 1
        while pos < len(value) and value[pos] != '"':
            if value[pos] == "\\" and pos + 1 < len(value):
                pos += 1
            chars.append(value[pos])
            pos += 1
        if pos >= len(value):
            raise DigestError("unterminated quoted string in a Digest header")
        return "".join(chars), pos + 1
    m = _TOKEN_AT.match(value, pos)
    return (m.group(), m.end()) if m else ("", pos)


def parse_challenge(value: str) -> dict[str, str]:
    """The first Digest challenge in ``value`` this module can answer (algorithm and qop)."""
    digests = [params for scheme, params in parse_challenges(value) if scheme.lower() == "digest"]
    if not digests:
        raise DigestError(f"no Digest challenge in WWW-Authenticate: {value!r}")
    for params in digests:
        try:
            _qop(params)
        except DigestError:
            continue
        if _algorithm(params) in DIGEST_ALGORITHMS and "nonce" in params and "realm" in params:
            return params
    raise DigestError(
        f"no usable Digest challenge in {value!r}: need realm, nonce, qop=auth (or no qop) and an "
        f"algorithm among {', '.join(DIGEST_ALGORITHMS)}"
    )


def _algorithm(params: Mapping[str, str]) -> str:
    given = params.get("algorithm", "MD5")
    for name in DIGEST_ALGORITHMS:  # algorithm names are case-insensitive
        if name.lower() == given.lower():
            return name
    return given


def _qop(params: Mapping[str, str]) -> str | None:
    """``"auth"``, or None in RFC 2069 mode (no qop offered); DigestError when auth is not offered."""
    if "qop" not in params:
        return None
    offered = [q.strip().lower() for q in params["qop"].split(",")]
    if "auth" not in offered:
        raise DigestError(f"challenge offers qop={params['qop']!r}; only qop=auth is supported")
    return "auth"


def _response(
    algorithm: str,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    nc: str,
    cnonce: str,
    qop: str | None,
) -> str:
    hash_name = algorithm.removesuffix("-sess")
    if hash_name not in _HASHES:
        raise DigestError(
            f"unsupported Digest algorithm {algorithm!r}; supported: {', '.join(DIGEST_ALGORITHMS)}"
        )

    def h(text: str) -> str:
        return _HASHES[hash_name](text.encode()).hexdigest()

    ha1 = h(f"{username}:{realm}:{password}")
    if algorithm.endswith("-sess"):
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    if qop is None:
        return h(f"{ha1}:{nonce}:{ha2}")
    return h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def digest_authorization(
    challenge: Mapping[str, str],
    method: str,
    uri: str,
    username: str,
    password: str,
    cnonce: str,
    nc: int,
) -> str:
    """The ``Authorization`` value answering a parsed challenge; ``opaque`` is echoed."""
    algorithm, qop = _algorithm(challenge), _qop(challenge)
    if algorithm.endswith("-sess") and qop is None:
        raise DigestError(f"algorithm {algorithm} needs a client nonce, which needs qop=auth")
    realm, nonce, count = challenge["realm"], challenge["nonce"], f"{nc:08x}"
    response = _response(
        algorithm, username, realm, password, method, uri, nonce, count, cnonce, qop
    )
    parts = [
        f"username={_quote(username)}",
        f"realm={_quote(realm)}",
        f"uri={_quote(uri)}",
        f"algorithm={algorithm}",
        f"nonce={_quote(nonce)}",
    ]
    if qop is not None:
        parts += [f"nc={count}", f"cnonce={_quote(cnonce)}", f"qop={qop}"]
    parts.append(f"response={_quote(response)}")
    if "opaque" in challenge:
        parts.append(f"opaque={_quote(challenge['opaque'])}")
    return "Digest " + ", ".join(parts)


def make_challenge(realm: str, nonce: str, opaque: str, algorithm: str = "SHA-256") -> str:
    """A consumer's ``WWW-Authenticate`` value (qop=auth) for its 401 answer."""
    if algorithm not in DIGEST_ALGORITHMS:
        raise DigestError(
            f"unsupported Digest algorithm {algorithm!r}; supported: {', '.join(DIGEST_ALGORITHMS)}"
        )
    return (
        f'Digest realm={_quote(realm)}, qop="auth", algorithm={algorithm}, '
        f"nonce={_quote(nonce)}, opaque={_quote(opaque)}"
    )


def verify_digest(
    value: str | None,
    method: str,
    uri: str,
    username: str,
    password: str,
    *,
    realm: str | None = None,
    nonce: str | None = None,
    opaque: str | None = None,
) -> tuple[bool, str]:
    """Check an ``Authorization: Digest`` value against the password the consumer holds.

    ``realm``, ``nonce`` and ``opaque``, when given, must be the ones the consumer issued; a
    consumer that tracks issued nonces passes them to reject replays.
    """
    if value is None:
        return (
            False,
            "Authorization header is missing (a Digest sender retries with it after a 401 challenge)",
        )
    scheme = value.strip().partition(" ")[0]
    if scheme.lower() != "digest":
        return False, f"Authorization scheme is {scheme!r}, expected 'Digest'"
    try:
        got = dict(parse_challenges(value.strip())[0][1])
    except (DigestError, IndexError) as exc:
        return False, f"Authorization Digest header cannot be parsed: {exc}"
    for name in ("username", "realm", "nonce", "uri", "response"):
        if name not in got:
            return False, f"Authorization Digest header has no {name}"
    expected = {"username": username, "realm": realm, "nonce": nonce, "opaque": opaque, "uri": uri}
    for name, want in expected.items():
        if want is not None and got.get(name) != want:
            return False, f"Digest {name} {got.get(name)!r} does not match {want!r}"
    algorithm = _algorithm(got)
    if algorithm not in DIGEST_ALGORITHMS:
        return False, f"Digest algorithm {algorithm!r} is not one of {', '.join(DIGEST_ALGORITHMS)}"
    qop = got.get("qop")
    if qop is not None:
        if qop != "auth":
            return False, f"Digest qop {qop!r} is not 'auth'"
        if not re.fullmatch(r"[0-9a-fA-F]{8}", got.get("nc", "")) or not got.get("cnonce"):
            return False, "Digest qop=auth needs nc (8 hex digits) and cnonce"
    elif algorithm.endswith("-sess"):
        return False, f"Digest algorithm {algorithm} needs qop=auth"
    want = _response(
        algorithm, username, got["realm"], password, method, uri, got["nonce"],
        got.get("nc", ""), got.get("cnonce", ""), qop,
    )  # fmt: skip
    if not _same(got["response"].lower(), want):
        return False, "Digest response does not match (wrong password, method or uri)"
    return True, "Digest response matches"


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
