"""Authenticators: golden vectors computed outside this code, round trips, rejections, redaction."""

from __future__ import annotations

import pytest

from emulator.core import auth
from emulator.core.auth import (
    ApiKey,
    AuthSpecError,
    Basic,
    Bearer,
    Digest,
    DigestError,
    Hmac,
    NoAuth,
)

URL = "http://127.0.0.1:9000/hooks/punchh?x=1"
BODY = b'{"content_id":"0b6e6f5e","event_name":"coupons"}'
SECRET = "punchh-secret"

# RFC 7616 §3.9.1: the published example (user Mufasa, password "Circle of Life").
RFC_REALM = "http-auth@example.org"
RFC_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
RFC_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
RFC_CHALLENGE = (
    f'Digest realm="{RFC_REALM}", qop="auth, auth-int", algorithm={{alg}}, '
    f'nonce="{RFC_NONCE}", opaque="{RFC_OPAQUE}"'
)
RFC_URI = "http://www.example.org/dir/index.html"


# --- golden vectors ---------------------------------------------------------------------------


def test_basic_golden_vector_rfc7617():
    # RFC 7617 §2; also: printf '%s' 'Aladdin:open sesame' | openssl base64
    headers = Basic("Aladdin", "open sesame").headers("POST", URL, BODY)
    assert headers == {"Authorization": "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="}


def test_basic_scheme_word_is_a_field_for_punchh_lowercase():
    headers = Basic("Aladdin", "open sesame", scheme="basic").headers("POST", URL, BODY)
    assert headers == {"Authorization": "basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="}


def test_bearer_golden_vector():
    assert Bearer("tok_123").headers("POST", URL, BODY) == {"Authorization": "Bearer tok_123"}
    lower = Bearer("tok_123", scheme="bearer").headers("POST", URL, BODY)
    assert lower == {"Authorization": "bearer tok_123"}


def test_api_key_golden_vector_default_and_custom_header():
    assert ApiKey("k3y").headers("POST", URL, BODY) == {"x-api-key": "k3y"}
    assert ApiKey("k3y", header="X-Fabric-Key").headers("POST", URL, BODY) == {
        "X-Fabric-Key": "k3y"
    }


def test_none_adds_no_header():
    assert NoAuth().headers("POST", URL, BODY) == {}


@pytest.mark.parametrize(
    ("kind", "sign", "expected"),
    [
        # printf '%s' "/hooks/punchh?x=1$BODY" | openssl dgst -sha1 -hmac punchh-secret
        ("hmac-sha1", "path", "0ed9fe5a974b4b45c70e982cc2d7e0cb43cf47d2"),
        # printf '%s' "/hooks/punchh?x=1$BODY" | openssl dgst -sha256 -hmac punchh-secret
        ("hmac-sha256", "path", "a6cf81cc214c4b902ca2adc22b6fbc42af9c5781b7e8141a41ee8266b62dba42"),
        # printf '%s' "http://127.0.0.1:9000/hooks/punchh?x=1$BODY" | openssl dgst -sha1 -hmac ...
        ("hmac-sha1", "full-url", "33f28fe57a8703693fed55a323ba036d06fe62aa"),
        # printf '%s' "http://127.0.0.1:9000/hooks/punchh?x=1$BODY" | openssl dgst -sha256 -hmac ...
        (
            "hmac-sha256",
            "full-url",
            "9006c1df85cb69cf81c1f614e957ec72af36458110b47c08d858aa6c3ceec897",
        ),
    ],
)
def test_hmac_golden_vectors(kind, sign, expected):
    # BODY='{"content_id":"0b6e6f5e","event_name":"coupons"}'
    signer = Hmac(client="acme_pos", secret=SECRET, type=kind, sign=sign)
    assert signer.headers("POST", URL, BODY) == {
        "Authorization": f"hmac {expected}",
        "x-pch-key": "acme_pos",
    }


def test_hmac_signs_slash_when_the_url_has_no_path():
    # printf '%s' "/$BODY" | openssl dgst -sha256 -hmac punchh-secret
    signer = Hmac(client="acme_pos", secret=SECRET)
    expected = "876b577aa529c29509d74c06e4945bc23a54b5dc779a07dbd0d08508020538a0"
    assert signer.headers("POST", "http://127.0.0.1:9000", BODY)["Authorization"] == (
        f"hmac {expected}"
    )


@pytest.mark.parametrize(
    ("alg", "response"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),  # RFC 7616 §3.9.1
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),  # idem
        # HA1=$(printf '%s' "$(printf '%s' 'Mufasa:http-auth@example.org:Circle of Life' |
        #   openssl dgst -md5 -r | cut -d' ' -f1):$NONCE:$CNONCE" | openssl dgst -md5 -r ...), then
        # printf '%s' "$HA1:$NONCE:00000001:$CNONCE:auth:$HA2" | openssl dgst -md5
        ("MD5-sess", "e783283f46242139c486a698fec7211d"),
        ("SHA-256-sess", "2fd51b3a77ad75bad6afad6003e818d767133c46d9e2749e7f5232ae1ea3efd7"),
    ],
)
def test_digest_golden_vectors_rfc7616(alg, response):
    challenge = auth.parse_challenge(RFC_CHALLENGE.format(alg=alg))
    value = auth.digest_authorization(
        challenge, "GET", "/dir/index.html", "Mufasa", "Circle of Life", RFC_CNONCE, 1
    )
    assert value == (
        f'Digest username="Mufasa", realm="{RFC_REALM}", uri="/dir/index.html", '
        f'algorithm={alg}, nonce="{RFC_NONCE}", nc=00000001, cnonce="{RFC_CNONCE}", qop=auth, '
        f'response="{response}", opaque="{RFC_OPAQUE}"'
    )


def test_digest_first_request_has_no_authorization_and_respond_answers_the_challenge():
    digest = Digest("Mufasa", "Circle of Life")
    assert digest.headers("GET", RFC_URI, b"") == {}
    answer = digest.respond(
        RFC_CHALLENGE.format(alg="SHA-256"), "GET", RFC_URI, cnonce=RFC_CNONCE, nc=1
    )
    assert 'uri="/dir/index.html"' in answer["Authorization"]
    assert (
        'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"'
        in answer["Authorization"]
    )


def test_digest_nonce_count_is_eight_hex_digits():
    challenge = auth.parse_challenge(RFC_CHALLENGE.format(alg="MD5"))
    value = auth.digest_authorization(challenge, "GET", "/", "u", "p", "c", 26)
    assert "nc=0000001a," in value


def test_digest_without_qop_uses_rfc2069_response():
    # A=$(printf '%s' 'u:r:p' | openssl dgst -md5 -r | cut -d' ' -f1)
    # B=$(printf '%s' 'POST:/x' | openssl dgst -md5 -r | cut -d' ' -f1)
    # printf '%s' "$A:n:$B" | openssl dgst -md5
    value = auth.digest_authorization(
        {"realm": "r", "nonce": "n"}, "POST", "/x", "u", "p", "ignored", 1
    )
    assert value == (
        'Digest username="u", realm="r", uri="/x", algorithm=MD5, nonce="n", '
        'response="c155f87b326ac884071d34256c20a29e"'
    )
    assert auth.verify_digest(value, "POST", "/x", "u", "p") == (True, "Digest response matches")


def test_digest_sess_without_qop_is_refused():
    with pytest.raises(DigestError, match="needs qop=auth"):
        auth.digest_authorization(
            {"realm": "r", "nonce": "n", "algorithm": "MD5-sess"}, "GET", "/", "u", "p", "c", 1
        )


# --- challenge parsing ------------------------------------------------------------------------


def test_parse_challenges_splits_several_schemes_and_unquotes():
    parsed = auth.parse_challenges(
        'Basic realm="a \\"b\\"", Digest realm="r", nonce="n,1", algorithm=MD5, Bearer abc=='
    )
    assert parsed == [
        ("Basic", {"realm": 'a "b"'}),
        ("Digest", {"realm": "r", "nonce": "n,1", "algorithm": "MD5"}),
        ("Bearer", {"": "abc=="}),
    ]


def test_parse_challenge_takes_the_first_usable_digest():
    value = (
        'Digest realm="r", nonce="a", qop="auth-int", '
        'Digest realm="r", nonce="b", algorithm=SHA-512-256, '
        'Digest realm="r", nonce="c", qop="auth", algorithm=sha-256'
    )
    assert auth.parse_challenge(value)["nonce"] == "c"


@pytest.mark.parametrize(
    "value",
    ['Basic realm="x"', 'Digest realm="r", nonce="n", qop="auth-int"', 'Digest realm="r'],
)
def test_parse_challenge_rejects_what_it_cannot_answer(value):
    with pytest.raises(DigestError):
        auth.parse_challenge(value)


def test_make_challenge_round_trips_through_parse():
    value = auth.make_challenge("emu", "n0nce", "0paque", "MD5-sess")
    assert auth.parse_challenge(value) == {
        "realm": "emu",
        "qop": "auth",
        "algorithm": "MD5-sess",
        "nonce": "n0nce",
        "opaque": "0paque",
    }


# --- round trips and rejections ---------------------------------------------------------------

SIGNERS = {
    "api-key": ApiKey("k3y"),
    "basic": Basic("Aladdin", "open sesame"),
    "basic-lowercase": Basic("Aladdin", "open sesame", scheme="basic"),
    "bearer": Bearer("tok_123"),
    "hmac-sha1": Hmac("acme_pos", SECRET, type="hmac-sha1"),
    "hmac-sha256": Hmac("acme_pos", SECRET),
    "hmac-sha256-full-url": Hmac("acme_pos", SECRET, sign="full-url"),
}
WRONG_SECRET = {
    "api-key": ApiKey("other"),
    "basic": Basic("Aladdin", "closed sesame"),
    "basic-lowercase": Basic("Aladdin", "closed sesame"),
    "bearer": Bearer("tok_999"),
    "hmac-sha1": Hmac("acme_pos", "wrong", type="hmac-sha1"),
    "hmac-sha256": Hmac("acme_pos", "wrong"),
    "hmac-sha256-full-url": Hmac("acme_pos", "wrong", sign="full-url"),
}


def _digest_headers(
    sender: Digest, method: str, url: str, consumer: Digest | None = None
) -> dict[str, str]:
    """The sender's retry answering the consumer's 401 challenge."""
    challenge = (consumer or sender).challenge("n0nce", "0paque")["WWW-Authenticate"]
    return sender.respond(challenge, method, url, cnonce="c0ffee")


@pytest.mark.parametrize("name", SIGNERS)
def test_sign_then_verify_round_trip(name):
    signer = SIGNERS[name]
    ok, reason = signer.verify("POST", URL, BODY, signer.headers("POST", URL, BODY))
    assert ok, reason
    assert "match" in reason


@pytest.mark.parametrize("name", SIGNERS)
def test_verify_rejects_a_wrong_secret(name):
    headers = WRONG_SECRET[name].headers("POST", URL, BODY)
    ok, reason = SIGNERS[name].verify("POST", URL, BODY, headers)
    assert not ok
    assert "does not match" in reason


@pytest.mark.parametrize("name", SIGNERS)
def test_verify_rejects_missing_headers(name):
    ok, reason = SIGNERS[name].verify("POST", URL, BODY, {"Content-Type": "application/json"})
    assert not ok
    assert "is missing" in reason


@pytest.mark.parametrize("name", SIGNERS)
def test_verify_looks_headers_up_case_insensitively(name):
    headers = {k.upper(): v for k, v in SIGNERS[name].headers("POST", URL, BODY).items()}
    assert SIGNERS[name].verify("POST", URL, BODY, headers)[0]


@pytest.mark.parametrize("name", [n for n in SIGNERS if n.startswith("hmac")])
def test_hmac_verify_rejects_a_tampered_body(name):
    headers = SIGNERS[name].headers("POST", URL, BODY)
    ok, reason = SIGNERS[name].verify("POST", URL, BODY.replace(b"coupons", b"coupon5"), headers)
    assert not ok
    assert "signature does not match the body" in reason


def test_hmac_path_mode_covers_the_query_string_and_full_url_mode_the_host():
    path = Hmac("acme_pos", SECRET)
    headers = path.headers("POST", URL, BODY)
    assert not path.verify("POST", URL.replace("x=1", "x=2"), BODY, headers)[0]
    assert path.verify("POST", URL.replace("127.0.0.1:9000", "sink:80"), BODY, headers)[0]
    full = Hmac("acme_pos", SECRET, sign="full-url")
    headers = full.headers("POST", URL, BODY)
    assert not full.verify("POST", URL.replace("127.0.0.1:9000", "sink:80"), BODY, headers)[0]


def test_hmac_verify_rejects_a_wrong_client_name():
    headers = Hmac("other_pos", SECRET).headers("POST", URL, BODY)
    assert Hmac("acme_pos", SECRET).verify("POST", URL, BODY, headers) == (
        False,
        "x-pch-key is 'other_pos', expected 'acme_pos'",
    )


def test_hmac_verify_rejects_a_missing_client_header():
    headers = Hmac("acme_pos", SECRET).headers("POST", URL, BODY)
    del headers["x-pch-key"]
    assert Hmac("acme_pos", SECRET).verify("POST", URL, BODY, headers) == (
        False,
        "x-pch-key header is missing",
    )


def test_hmac_sha1_signature_does_not_verify_as_sha256():
    headers = Hmac("acme_pos", SECRET, type="hmac-sha1").headers("POST", URL, BODY)
    assert not Hmac("acme_pos", SECRET).verify("POST", URL, BODY, headers)[0]


def test_verify_rejects_the_wrong_scheme():
    headers = Bearer("tok_123").headers("POST", URL, BODY)
    assert Basic("Aladdin", "open sesame").verify("POST", URL, BODY, headers) == (
        False,
        "Authorization scheme is 'Bearer', expected 'Basic'",
    )


def test_basic_verify_rejects_a_wrong_username_and_garbage():
    headers = Basic("Ali", "open sesame").headers("POST", URL, BODY)
    assert Basic("Aladdin", "open sesame").verify("POST", URL, BODY, headers) == (
        False,
        "Basic username 'Ali' does not match",
    )
    ok, reason = Basic("a", "b").verify("POST", URL, BODY, {"Authorization": "Basic ???"})
    assert (ok, "base64" in reason) == (False, True)


def test_none_accepts_anything():
    assert NoAuth().verify("POST", URL, BODY, {})[0]


def test_digest_round_trip_and_rejections():
    consumer = Digest("Mufasa", "Circle of Life", realm="emu")
    headers = _digest_headers(Digest("Mufasa", "Circle of Life"), "POST", URL, consumer)
    assert consumer.verify("POST", URL, BODY, headers) == (True, "Digest response matches")

    wrong = _digest_headers(Digest("Mufasa", "Circle of Death"), "POST", URL, consumer)
    ok, reason = consumer.verify("POST", URL, BODY, wrong)
    assert (ok, reason.startswith("Digest response does not match")) == (False, True)

    ok, reason = consumer.verify("PUT", URL, BODY, headers)  # method is covered
    assert not ok

    ok, reason = consumer.verify("POST", URL.replace("x=1", "x=2"), BODY, headers)
    assert (ok, reason) == (
        False,
        "Digest uri '/hooks/punchh?x=1' does not match '/hooks/punchh?x=2'",
    )

    ok, reason = consumer.verify("POST", URL, BODY, {})
    assert (ok, reason.startswith("Authorization header is missing")) == (False, True)

    other_user = _digest_headers(Digest("Scar", "Circle of Life"), "POST", URL, consumer)
    assert consumer.verify("POST", URL, BODY, other_user) == (
        False,
        "Digest username 'Scar' does not match 'Mufasa'",
    )


def test_verify_digest_checks_the_nonce_the_consumer_issued():
    headers = _digest_headers(Digest("u", "p"), "GET", URL)
    value = headers["Authorization"]
    assert auth.verify_digest(value, "GET", "/hooks/punchh?x=1", "u", "p", nonce="n0nce")[0]
    ok, reason = auth.verify_digest(value, "GET", "/hooks/punchh?x=1", "u", "p", nonce="fresh")
    assert (ok, reason) == (False, "Digest nonce 'n0nce' does not match 'fresh'")


# --- redaction --------------------------------------------------------------------------------

ALL = {**SIGNERS, "digest": Digest("Mufasa", "Circle of Life")}


@pytest.mark.parametrize("name", ALL)
def test_redaction_never_leaves_a_secret_in_any_header_value(name):
    signer = ALL[name]
    headers = signer.headers("POST", URL, BODY) or _digest_headers(signer, "POST", URL)
    secret = signer.secrets[0]
    headers |= {
        "Content-Type": "application/json",
        "X-Echo": f"prefix-{secret}-suffix",
        "Proxy-Authorization": f"Basic {secret}",
    }
    redacted = auth.redact(headers, signer.secrets)
    for value in redacted.values():
        for s in signer.secrets:
            assert s not in value
    assert redacted["Content-Type"] == "application/json"
    assert redacted["X-Echo"] == "[redacted]"
    auth_header = auth.header(redacted, "Authorization") or auth.header(redacted, signer.header)
    assert auth_header.endswith("[redacted]")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("basic", "Basic [redacted]"),
        ("basic-lowercase", "basic [redacted]"),
        ("bearer", "Bearer [redacted]"),
        ("hmac-sha256", "hmac [redacted]"),
    ],
)
def test_redaction_keeps_the_scheme_word(name, expected):
    signer = SIGNERS[name]
    assert auth.redact(signer.headers("POST", URL, BODY), signer.secrets)["Authorization"] == (
        expected
    )


def test_redaction_of_digest_keeps_the_scheme_and_hides_the_response():
    headers = _digest_headers(Digest("u", "p"), "POST", URL)
    assert auth.redact(headers, ()) == {"Authorization": "Digest [redacted]"}


def test_redaction_redacts_a_scheme_that_is_itself_a_secret_and_ignores_empty_secrets():
    assert auth.redact({"Authorization": "tok_123 x"}, ("tok_123",)) == {
        "Authorization": "[redacted]"
    }
    assert auth.redact({"X-Env": "ci"}, ("",)) == {"X-Env": "ci"}


def test_secrets_are_not_in_repr():
    for signer in ALL.values():
        for s in signer.secrets:
            assert s not in repr(signer)


# --- from_spec --------------------------------------------------------------------------------

PUNCHH = ("none", "basic", "bearer", "hmac-sha1", "hmac-sha256")
REBILLY = ("none", "basic", "digest")


@pytest.mark.parametrize(
    ("spec", "allowed", "expected"),
    [
        ({"type": "none"}, PUNCHH, NoAuth()),
        ({"type": "api-key", "value": "k"}, ("api-key",), ApiKey("k")),
        ({"type": "api-key", "value": "k", "header": "X-K"}, ("api-key",), ApiKey("k", "X-K")),
        ({"type": "basic", "username": "u", "password": "p"}, REBILLY, Basic("u", "p")),
        ({"type": "digest", "username": "u", "password": "p"}, REBILLY, Digest("u", "p")),
        ({"type": "bearer", "token": "t"}, PUNCHH, Bearer("t")),
        (
            {"type": "hmac-sha1", "client": "c", "secret": "s", "sign": "full-url"},
            PUNCHH,
            Hmac("c", "s", type="hmac-sha1", sign="full-url"),
        ),
    ],
)
def test_from_spec_builds_each_type(spec, allowed, expected):
    assert auth.from_spec(spec, allowed=allowed, vendor="v") == expected


def test_from_spec_applies_vendor_defaults_unless_the_spec_sets_the_field():
    defaults = {"basic": {"scheme": "basic"}, "bearer": {"scheme": "bearer"}}
    spec = {"type": "basic", "username": "u", "password": "p"}
    built = auth.from_spec(spec, allowed=PUNCHH, vendor="punchh", defaults=defaults)
    assert built == Basic("u", "p", scheme="basic")
    spec["scheme"] = "Basic"
    assert (
        auth.from_spec(spec, allowed=PUNCHH, vendor="punchh", defaults=defaults).scheme == "Basic"
    )


@pytest.mark.parametrize(
    ("spec", "key", "problem", "message"),
    [
        (
            {"type": "digest", "username": "u", "password": "p"},
            "type",
            "invalid",
            "unknown auth type 'digest' for punchh; valid: none, basic, bearer, hmac-sha1, "
            "hmac-sha256",
        ),
        (
            {"type": "hmac-sha265", "client": "c", "secret": "s"},
            "type",
            "invalid",
            "unknown auth type 'hmac-sha265' for punchh; valid: none, basic, bearer, hmac-sha1, "
            "hmac-sha256. Did you mean 'hmac-sha256'?",
        ),
        (
            {},
            "type",
            "missing",
            "auth needs a type; valid: none, basic, bearer, hmac-sha1, hmac-sha256",
        ),
        (
            {"type": "hmac-sha256", "client": "c"},
            "secret",
            "missing",
            "auth type hmac-sha256 needs 'secret' (required: client, secret)",
        ),
        (
            {"type": "hmac-sha256", "client": "c", "secret": "s", "secert": "s"},
            "secert",
            "unknown",
            "unknown field 'secert' for auth type hmac-sha256; known: type, client, secret, sign, "
            "scheme. Did you mean 'secret'?",
        ),
        (
            {"type": "hmac-sha256", "client": "c", "secret": "s", "sign": "body"},
            "sign",
            "invalid",
            "unknown sign mode 'body'; valid: path, full-url",
        ),
        (
            {"type": "bearer", "token": 12345},
            "token",
            "invalid",
            "expected a string, got a int; quote the value in YAML",
        ),
        (
            {"type": "bearer", "token": ""},
            "token",
            "invalid",
            "must not be empty (an unset environment variable?)",
        ),
        (
            {"type": "bearer", "token": "a\r\nX-Injected: 1"},
            "token",
            "invalid",
            "must not contain a line break (it goes in a header)",
        ),
        (
            {"type": "basic", "username": "a:b", "password": "p"},
            "username",
            "invalid",
            "a Basic username cannot contain ':' (RFC 7617)",
        ),
        (
            {"type": "basic", "username": "a", "password": "p", "scheme": "Ba sic"},
            "scheme",
            "invalid",
            "'Ba sic' is not a valid HTTP token",
        ),
    ],
)
def test_from_spec_errors_name_the_key_and_the_valid_options(spec, key, problem, message):
    with pytest.raises(AuthSpecError) as info:
        auth.from_spec(spec, allowed=PUNCHH, vendor="punchh")
    assert (info.value.key, info.value.problem, str(info.value)) == (key, problem, message)


def test_from_spec_error_never_quotes_a_secret_value():
    with pytest.raises(AuthSpecError) as info:
        auth.from_spec({"type": "bearer", "token": 98765}, allowed=PUNCHH, vendor="punchh")
    assert "98765" not in str(info.value)
