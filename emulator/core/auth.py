"""Authentication as settings and logs see it: the auth types, an authenticator built from a
settings entry, and headers with their secrets redacted.

The authenticators themselves (both ends of each auth type) are in ``emulator.core.authenticators``
and Digest's exchange in ``emulator.core.digest``; both are re-exported here, so callers sign, check
and answer every auth type through this one module. Pure: no I/O, no clock, no randomness.
"""

from __future__ import annotations

import dataclasses
import difflib
import random
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from emulator.core.authenticators import (
    DEFAULT_REALM,
    SIGN_MODES,
    ApiKey,
    Authenticator,
    Basic,
    Bearer,
    Digest,
    Hmac,
    NoAuth,
    header,
    request_target,
)
from emulator.core.digest import (
    DIGEST_ALGORITHMS,
    DigestError,
    digest_authorization,
    make_challenge,
    parse_challenge,
    parse_challenges,
    verify_digest,
)

# Re-exported: callers check and answer every auth type through this module.
__all__ = [
    "DEFAULT_REALM", "DIGEST_ALGORITHMS", "SIGN_MODES", "ApiKey", "Authenticator", "Basic",
    "Bearer", "Digest", "DigestError", "Hmac", "NoAuth", "digest_authorization", "header",
    "make_challenge", "parse_challenge", "parse_challenges", "request_target", "verify_digest",
]  # fmt: skip

TYPES = ("none", "api-key", "basic", "bearer", "digest", "hmac-sha1", "hmac-sha256")
REDACTED = "[redacted]"

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 token: header names, schemes


class AuthSpecError(ValueError):
    """An auth spec that cannot be built. ``key`` is the offending field, ``problem`` is
    ``missing``, ``unknown`` (a field that does not exist) or ``invalid`` (a bad value)."""

    def __init__(self, key: str, problem: str, message: str, valid: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.key = key
        self.problem = problem
        self.message = message
        self.valid = tuple(valid)


# --- redaction and construction ---------------------------------------------------------------


def redact(
    headers: Mapping[str, str], secrets: Iterable[str], names: Iterable[str] = ()
) -> dict[str, str]:
    """The headers with secret material replaced by ``[redacted]``, for attempt logs.

    Authorization values keep their scheme word (``Basic [redacted]``). A header whose name looks
    secret (``secret_header``) or is one of ``names`` (``redact_headers``), and any other header
    whose value contains a secret, is redacted whole: a short secret over-redacts, which is the
    safe side.
    """
    return Redactor(secrets, names)(headers)


class Redactor:
    """``redact`` for one target's secrets, kept: what a header's name decides is decided once
    per name (a dispatcher redacts the same few names request after request)."""

    def __init__(self, secrets: Iterable[str], names: Iterable[str] = ()) -> None:
        self.secrets = tuple(s for s in secrets if s)
        self.listed = {n.lower() for n in names}
        self._kinds: dict[str, int] = {}  # name -> _AUTH, _SECRET or _PLAIN

    def __call__(self, headers: Mapping[str, str]) -> dict[str, str]:
        secrets, kinds = self.secrets, self._kinds
        out: dict[str, str] = {}
        for name, value in headers.items():
            kind = kinds.get(name)
            if kind is None:
                kind = kinds[name] = self._kind(name)
            if kind == _PLAIN:
                out[name] = REDACTED if any(s in value for s in secrets) else value
            elif kind == _SECRET:
                out[name] = REDACTED
            else:
                scheme, space, _ = value.strip().partition(" ")
                keep = space and _TOKEN.match(scheme) and not any(s in scheme for s in secrets)
                out[name] = f"{scheme} {REDACTED}" if keep else REDACTED
        return out

    def _kind(self, name: str) -> int:
        if name.lower() in ("authorization", "proxy-authorization"):
            return _AUTH
        return _SECRET if secret_header(name, self.listed) else _PLAIN


_AUTH, _SECRET, _PLAIN = range(3)


# Header names whose values are taken for secrets wherever headers are shown or stored.
SECRET_NAME_PARTS = ("key", "token", "secret", "auth", "signature", "password", "cookie")


def secret_header(name: str, listed: Iterable[str] = ()) -> bool:
    """Whether a header's value is secret by its name (``*key*``, ``*token*``, ``*secret*``,
    ``*auth*``, ``*signature*``, ``*password*``, ``cookie``) or because ``listed`` names it."""
    lower = name.lower()
    return lower in {n.lower() for n in listed} or any(p in lower for p in SECRET_NAME_PARTS)


def header_secrets(headers: Mapping[str, str], listed: Iterable[str] = ()) -> tuple[str, ...]:
    """The values of the secret headers among configured custom ``headers``."""
    names = tuple(listed)
    return tuple(v for k, v in headers.items() if v and secret_header(k, names))


# Fields of an auth entry that hold a secret; a settings entry stores them only as ``${VAR}``.
# The one secret field of each auth type; wrong credentials replace it, redaction hides it.
SECRET_FIELD_OF = {
    "api-key": "value", "basic": "password", "bearer": "token", "digest": "password",
    "hmac-sha1": "secret", "hmac-sha256": "secret",
}  # fmt: skip
SECRET_FIELDS = tuple(dict.fromkeys(SECRET_FIELD_OF.values()))


def scrub_settings(raw: Any) -> Any:
    """Settings as a run stores them: literal secrets replaced by ``[redacted]``.

    ``${VAR}`` references stay (the run expands them again when resumed); a literal auth secret,
    or a literal value of a secret-looking custom header, never reaches the outbox.
    """
    if not isinstance(raw, Mapping):
        return raw
    out = dict(raw)
    vendors = raw.get("vendors")
    if isinstance(vendors, Mapping):
        out["vendors"] = {slug: _scrub_entry(entry) for slug, entry in vendors.items()}
    return out


def _scrub_entry(entry: Any) -> Any:
    if not isinstance(entry, Mapping):
        return entry
    out = dict(entry)
    auth = entry.get("auth")
    if isinstance(auth, Mapping):
        out["auth"] = {k: _scrub_value(v) if k in SECRET_FIELDS else v for k, v in auth.items()}
    headers = entry.get("headers")
    if isinstance(headers, Mapping):
        listed = entry.get("redact_headers")
        names = tuple(n for n in listed if isinstance(n, str)) if isinstance(listed, list) else ()
        out["headers"] = {
            k: _scrub_value(v) if isinstance(k, str) and secret_header(k, names) else v
            for k, v in headers.items()
        }
    return out


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str) and "${" in value:
        return value  # the variable's name: the secret stays in the environment
    return REDACTED


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


# --- credentials a consumer must refuse ---------------------------------------------------------

# The fields of each authenticator that hold its secret; identifying fields (a username, a client
# name, a header name, a scheme) stay, so the request is well formed and only its secret is wrong.
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def wrong_credentials(auth: Authenticator, rng: random.Random) -> Authenticator:
    """An authenticator of ``auth``'s type and shape whose secret is drawn from ``rng``: never
    derived from the real one, and a new one each call. ``NoAuth`` has nothing to get wrong.

    The one way wrong credentials are made: scenario injection and the contract suite use it."""
    name = SECRET_FIELD_OF.get(auth.type)
    if name is None:
        return auth
    real = getattr(auth, name)
    while True:
        drawn = "wrong-" + "".join(rng.choice(_ALPHABET) for _ in range(24))
        if drawn != real:
            return dataclasses.replace(auth, **{name: drawn})  # type: ignore[type-var]


def signs_body(auth_type: str) -> bool:
    """Whether an auth type's header is a signature over the body (a changed byte breaks it)."""
    return auth_type in ("hmac-sha1", "hmac-sha256")
