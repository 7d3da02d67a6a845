"""The built-in sink's settings: each vendor's own ``sink_auth``, with credentials that verify."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from emulator.core import auth, catalogue
from emulator.core.vendor import DeliveryProfile
from emulator.readers import config, sink_settings

SLUGS = list(catalogue.VENDORS)


@pytest.mark.parametrize("slug", SLUGS)
def test_the_sink_auth_is_one_of_the_vendors_documented_types(slug):
    vendor = catalogue.vendor(slug)
    assert vendor.sink_auth["type"] in vendor.profile.auth_types
    # Credentials are the sink's to add: a vendor declares only the type and non-secret fields.
    assert not set(vendor.sink_auth) & {"value", "password", "token", "secret"}


@pytest.mark.parametrize("slug", SLUGS)
def test_a_request_signed_with_the_sink_settings_verifies(slug):
    settings = config.parse(
        {"vendors": sink_settings.entries("http://127.0.0.1:8025")}, source="sink", env={}
    )
    target = settings.vendors[slug]
    assert target.url == f"http://127.0.0.1:8025/sink/{slug}"
    assert target.auth.type == catalogue.vendor(slug).sink_auth["type"]
    assert dict(sink_settings.AUTH[slug]) == sink_settings.entries("http://x")[slug]["auth"]
    body, method = b'{"a":1}', "POST"
    signer = target.auth
    headers = signer.headers(method, target.url, body)
    if signer.type == "digest":  # the retry answering the sink's challenge
        challenge = signer.challenge("n0nce", "0paque")["WWW-Authenticate"]
        headers = signer.respond(challenge, method, target.url, cnonce="c")
    assert signer.verify(method, target.url, body, headers)[0]
    if signer.type != "none":
        assert sink_settings.DEFAULT_SECRET in signer.secrets
        assert not signer.verify(method, target.url, body, {})[0]


def _profile(auth_types, unverified=()):
    return DeliveryProfile(auth_types=auth_types, retry=(), timeout=5, unverified=unverified)


@pytest.mark.parametrize(
    ("auth_types", "unverified", "expected"),
    [
        (("none", "basic", "hmac-sha1"), (), "hmac-sha1"),
        (("none", "bearer", "api-key"), (), "api-key"),
        (("basic", "digest"), (), "digest"),
        (("none", "bearer", "api-key"), ("auth_types",), "none"),
    ],
)
def test_a_vendor_without_sink_auth_gets_the_strongest_type_it_documents(
    auth_types, unverified, expected
):
    fifth = SimpleNamespace(slug="fifth", profile=_profile(auth_types, unverified), sink_auth=None)
    spec = sink_settings.auth(fifth)
    assert spec["type"] == expected
    built = auth.from_spec(spec, allowed=(*auth_types, "none"), vendor="fifth")
    assert built.type == expected
