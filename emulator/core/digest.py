"""HTTP Digest access authentication (RFC 7616), both sides: answer a challenge, check an answer.

Pure: no I/O and no randomness of its own; the client nonce comes in as an argument. Rebilly offers
Digest per target host; ``emulator.core.auth.Digest`` wraps these functions as an authenticator.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from typing import Any

DIGEST_ALGORITHMS = ("MD5", "MD5-sess", "SHA-256", "SHA-256-sess")

_HASHES: dict[str, Callable[[bytes], Any]] = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


class DigestError(ValueError):
    """A Digest challenge or Authorization header this module cannot use."""


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


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
