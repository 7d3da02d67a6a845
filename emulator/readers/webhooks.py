"""The vendors' webhooks described for other tools, built from the catalogue: AsyncAPI 3.0 (a
channel per vendor, a message per event type) and OpenAPI 3.1 (an entry under ``webhooks`` per
event type).

Each event type carries its JSON Schema, bundled into one self-contained schema
(``schemas.bundle``), and one example body: ``coupon-emulator sample VENDOR EVENT --seed 1`` at
the fixed instant ``values.EPOCH``. Security schemes come from the auth types each vendor's
delivery profile accepts. The consumer is the server: every vendor posts to
``{consumer}/<vendor>``, as ``verify --consumer URL`` assumes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from emulator import __version__
from emulator.core import auth, catalogue
from emulator.core.values import EPOCH
from emulator.core.vendor import EventType, Vendor
from emulator.readers import schemas

EXAMPLE_SEED = 1
CONSUMER_HOST = "127.0.0.1:9000"
CONSUMER_PATH = "/hooks"
TITLE = "Coupon vendors' webhooks (coupon-emulator)"
_KEY = re.compile(r"[^A-Za-z0-9._-]")  # component keys: ^[a-zA-Z0-9\.\-_]+$ in both formats


def key(*parts: str) -> str:
    """A component key from names that may hold ``:`` (fabric's event names)."""
    return ".".join(_KEY.sub("_", part) for part in parts)


def example(et: EventType) -> dict[str, Any]:
    """The example body of ``et``: seed 1, at the fixed instant, links at the default base."""
    return catalogue.sample(et.vendor, et.name, seed=EXAMPLE_SEED, now=EPOCH)


def _description(vendor: Vendor) -> str:
    profile = vendor.profile
    codes = (
        "any 2xx"
        if profile.success is None
        else " or ".join(str(code) for code in profile.success) + " only"
    )
    lines = [
        f"{vendor.title} delivers its coupon events as HTTP {profile.method} requests with a JSON "
        f"body ({profile.content_type}) to the consumer's URL. Success: {codes}; other answers and "
        "timeouts are retried as the vendor's retry policy says.",
    ]
    if profile.batching:
        lines.append("Several events of one type may come in one envelope (batch_size).")
    if profile.verification_get:
        lines.append(
            "Before its first POST the vendor sends a GET to the same URL, with the same "
            "Authorization: answer it 200."
        )
    accepts_none = "none" in profile.auth_types
    if accepts_none:
        lines.append("Authentication is configurable, and may be none.")
    if "auth_types" in profile.unverified:
        lines.append("The vendor documents no auth: the auth types offered are the emulator's.")
    return " ".join(lines)


def _scheme(vendor: Vendor, kind: str, flavour: str) -> dict[str, Any]:
    """The security scheme of auth type ``kind`` (``flavour``: ``asyncapi`` or ``openapi``)."""
    fields = {**auth.optional_fields(kind), **vendor.profile.auth_defaults.get(kind, {})}
    api_key = "httpApiKey" if flavour == "asyncapi" else "apiKey"
    if kind == "api-key":
        return {
            "type": api_key,
            "name": fields["header"],
            "in": "header",
            "description": "a static key in a header (the header's name is configurable)",
        }
    if kind in ("basic", "bearer", "digest"):
        return {"type": "http", "scheme": kind, "description": f"HTTP {kind.title()} auth"}
    if kind.startswith("hmac-"):
        algorithm = kind.removeprefix("hmac-").upper()
        return {
            "type": api_key,
            "name": "Authorization",
            "in": "header",
            "description": (
                f"'Authorization: {fields['scheme']} <hex HMAC-{algorithm}>', keyed with the "
                "shared secret over the request path and query followed by the raw body (or the "
                "whole URL and the body); the client id in the 'x-pch-key' header"
            ),
        }
    raise ValueError(f"auth type {kind!r} has no security scheme")


def _schemes(flavour: str) -> Iterator[tuple[Vendor, str, str, dict[str, Any]]]:
    """(vendor, auth type, scheme key, scheme) for every auth type but ``none``."""
    for vendor in catalogue.VENDORS.values():
        for kind in vendor.profile.auth_types:
            if kind != "none":
                yield vendor, kind, key(vendor.slug, kind), _scheme(vendor, kind, flavour)


def asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0 document: the vendors are the application, sending to the consumer."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemes = {name: scheme for _, _, name, scheme in _schemes("asyncapi")}
    for vendor in catalogue.VENDORS.values():
        ids = [key(vendor.slug, et.name) for et in vendor.event_types]
        for message_id, et in zip(ids, vendor.event_types, strict=True):
            messages[message_id] = {
                "name": et.name,
                "title": f"{vendor.title}: {et.name}",
                "summary": et.summary,
                "contentType": vendor.profile.content_type,
                "payload": schemas.bundle(et.schema_path, annotations=True),
                "examples": [{"name": "sample", "summary": "seed 1", "payload": example(et)}],
            }
        slug = key(vendor.slug)
        channels[slug] = {
            "address": f"/{vendor.slug}",
            "title": vendor.title,
            "description": _description(vendor),
            "servers": [{"$ref": "#/servers/consumer"}],
            "messages": {i: {"$ref": f"#/components/messages/{i}"} for i in ids},
        }
        security = [
            {"$ref": f"#/components/securitySchemes/{key(vendor.slug, kind)}"}
            for kind in vendor.profile.auth_types
            if kind != "none"
        ]
        operations[key(vendor.slug, "deliver")] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{slug}"},
            "title": f"{vendor.title} delivers a coupon event",
            "summary": f"{vendor.profile.method} one {vendor.title} event to the consumer",
            "security": security,
            "bindings": {"http": {"method": vendor.profile.method, "bindingVersion": "0.3.0"}},
            "messages": [{"$ref": f"#/channels/{slug}/messages/{i}"} for i in ids],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": TITLE,
            "version": __version__,
            "description": (
                "Every coupon webhook of "
                + ", ".join(v.title for v in catalogue.VENDORS.values())
                + ", as coupon-emulator sends them: one channel per vendor, one message per "
                "event type with its JSON Schema and an example body."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "consumer": {
                "host": CONSUMER_HOST,
                "protocol": "http",
                "pathname": CONSUMER_PATH,
                "description": "the consumer under test: each vendor posts to its own path",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "securitySchemes": schemes},
    }


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document: one entry under ``webhooks`` per event type."""
    hooks: dict[str, Any] = {}
    for vendor in catalogue.VENDORS.values():
        security: list[Mapping[str, list[str]]] = [
            {key(vendor.slug, kind): []} if kind != "none" else {}
            for kind in vendor.profile.auth_types
        ]
        for et in vendor.event_types:
            name = key(vendor.slug, et.name)
            hooks[name] = {
                vendor.profile.method.lower(): {
                    "operationId": name,
                    "summary": f"{vendor.title} {et.name}: {et.summary}",
                    "description": _description(vendor),
                    "tags": [vendor.title],
                    "security": security,
                    "requestBody": {
                        "required": True,
                        "content": {
                            # The media type alone: parameters (charset) are not part of the key.
                            vendor.profile.content_type.partition(";")[0].strip(): {
                                "schema": schemas.bundle(et.schema_path, annotations=True),
                                "examples": {"sample": {"summary": "seed 1", "value": example(et)}},
                            }
                        },
                    },
                    "responses": _responses(vendor),
                }
            }
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": __version__},
        "servers": [{"url": f"http://{CONSUMER_HOST}{CONSUMER_PATH}"}],
        "tags": [{"name": v.title} for v in catalogue.VENDORS.values()],
        "webhooks": hooks,
        "components": {
            "securitySchemes": {name: scheme for _, _, name, scheme in _schemes("openapi")}
        },
    }


def _responses(vendor: Vendor) -> dict[str, Any]:
    success = vendor.profile.success
    if success is None:
        return {"2XX": {"description": "acknowledged: any 2xx ends the delivery"}}
    return {str(code): {"description": "acknowledged"} for code in success}
