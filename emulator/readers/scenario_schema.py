"""The JSON Schema (2020-12) of scenario files, made from the same tables the reader uses.

``scenarios/schema.json`` is this module's output (a test keeps them equal); regenerate it with
``python -m emulator.readers.scenario_schema > scenarios/schema.json``. Editors validate and complete
scenarios with it through yaml-language-server. The reader stays the judge: a few checks (a state
machine's allowed steps, ``{n}`` in unique fields) are beyond what a schema can say.
"""

from __future__ import annotations

import json
from typing import Any

from emulator.core import catalogue, coupons, inject
from emulator.readers.scenario_reader import (
    FLOW_KEYS,
    MAX_COUPONS,
    OTHERWISE,
    RULE_OPTIONS,
    SCENARIO_KEYS,
    STEP_KEYS,
)

SCHEMA_ID = "https://coupon-emulator.invalid/scenarios/schema.json"
_VAR = {"type": "string", "pattern": r"\$\{", "description": "${VAR} or ${VAR:-default}"}
_NUM = r"\d+(\.\d+)?"
_DURATION = rf"{_NUM}\s*(ms|s|m|h|d)?"
DURATION = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": rf"^\s*{_DURATION}\s*$"},
        _VAR,
    ],
    "description": "seconds, or 250ms, 30s, 5m, 2h, 1d",
}
SPAN = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": rf"^\s*{_DURATION}\s*(\.\.\s*{_DURATION}\s*)?$"},
        _VAR,
    ],
    "description": "a duration (30s) or a range drawn uniformly (1m..1h)",
}
RATE = {
    "anyOf": [
        {"type": "number", "exclusiveMinimum": 0},
        {"type": "string", "pattern": rf"^\s*{_NUM}\s*/\s*(s|m|h|d)\s*$"},
        _VAR,
    ],
    "description": "per second, or 10/s, 600/m, 5/h, 2/d",
}
PROBABILITY = {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, _VAR]}
STEP_PROBABILITY = {"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 1}, _VAR]}
REPEAT = {
    "anyOf": [
        {"type": "integer", "minimum": 1},
        {"type": "string", "pattern": r"^\s*\d+\s*\.\.\s*\d+\s*$"},
        _VAR,
    ],
    "description": "how many times in a row: 3, or a range 0..3",
}
SIZE = {
    "anyOf": [
        {"type": "integer", "minimum": 1},
        {"type": "string", "pattern": rf"^\s*{_NUM}\s*(B|kB|KB|KiB|MB|MiB|GB|GiB)?\s*$"},
    ]
}
_OVERRIDE_TYPES: dict[str, Any] = {
    "uuid": {"type": "string", "format": "uuid"},
    "object-id": {"type": "string", "pattern": "^[0-9a-f]{24}$"},
    "text": {"type": "string", "minLength": 1},
    "code": {"anyOf": [{"type": "string", "minLength": 1}, {"type": "integer", "minimum": 0}]},
    "int64": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    "amount": {"type": "number", "exclusiveMinimum": 0},
    "percent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
    "discount": {
        "oneOf": [
            {
                "type": "object",
                "required": ["type", "amount", "currency"],
                "properties": {
                    "type": {"const": "fixed"},
                    "amount": {"type": "number", "minimum": 0.01},
                    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                    "context": {"enum": list(coupons.DISCOUNT_CONTEXTS)},
                },
                "additionalProperties": False,
            },
            {
                "type": "object",
                "required": ["type", "value"],
                "properties": {
                    "type": {"const": "percent"},
                    "value": {"type": "number", "minimum": 0.01, "maximum": 100},
                    "context": {"enum": list(coupons.DISCOUNT_CONTEXTS)},
                },
                "additionalProperties": False,
            },
        ]
    },
}


def schema() -> dict[str, Any]:
    """The whole schema, deterministic (same code, same bytes)."""
    flow_properties = {
        "name": {"type": "string", "pattern": r"^[^\s:]+$", "description": "unique; keys coupons"},
        "vendor": {"enum": list(catalogue.VENDORS)},
        "coupons": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_COUPONS}, _VAR]},
        "start": DURATION,
        "rate": RATE,
        "spread": DURATION,
        "delay": SPAN,
        "coupon": {"type": "object"},
        "inject": {"$ref": "#/$defs/inject"},
        "steps": {"type": "array", "minItems": 1},
    }
    assert tuple(flow_properties) == FLOW_KEYS
    per_vendor = [
        {
            "if": {"properties": {"vendor": {"const": slug}}, "required": ["vendor"]},
            "then": {
                "properties": {
                    "steps": {"items": {"$ref": f"#/$defs/step-{slug}"}},
                    "coupon": {"$ref": f"#/$defs/coupon-{slug}"},
                }
            },
        }
        for slug in catalogue.VENDORS
    ]
    defs: dict[str, Any] = {"inject": _inject(), "retry-rule": _retry_rule()}
    for slug in catalogue.VENDORS:
        defs[f"step-{slug}"] = _step(slug)
        defs[f"coupon-{slug}"] = _coupon(slug)
        defs[f"target-{slug}"] = _target(slug)
    properties = {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "seed": {"anyOf": [{"type": "integer"}, _VAR]},
        "start": {"type": "string", "format": "date-time", "description": "ISO 8601 with a zone"},
        "population": {
            "type": "object",
            "properties": {k: {"type": "integer", "minimum": 1} for k in coupons.KINDS},
            "additionalProperties": False,
        },
        "inject": {"$ref": "#/$defs/inject"},
        "flows": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["vendor", "steps"],
                "properties": flow_properties,
                "additionalProperties": False,
                "not": {"required": ["rate", "spread"]},
                "allOf": per_vendor,
            },
        },
    }
    assert tuple(properties) == SCENARIO_KEYS
    properties |= {
        "vendors": {
            "type": "object",
            "properties": {slug: {"$ref": f"#/$defs/target-{slug}"} for slug in catalogue.VENDORS},
            "additionalProperties": False,
        },
        "time_scale": {"anyOf": [{"type": "number", "minimum": 0}, _VAR]},
        "links_base": {"type": "string", "pattern": "^https?://"},
        "ordering": {"enum": ["none", "per-coupon"]},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "coupon-emulator scenario",
        "description": (
            "A scenario: coupon lifecycles per vendor (flows of steps), a population, edge cases "
            "to inject, and delivery settings. Run 'coupon-emulator validate FILE' for the checks "
            "a schema cannot make."
        ),
        "type": "object",
        "required": ["flows"],
        "properties": properties,
        "additionalProperties": False,
        "$defs": defs,
    }


def _inject() -> dict[str, Any]:
    rules = {}
    for kind in inject.KINDS:
        options = {"probability": PROBABILITY}
        for option in RULE_OPTIONS.get(kind, ()):
            options[option] = SPAN if option == "delay" else SIZE
        rules[kind] = {
            "anyOf": [
                PROBABILITY,
                {"type": "object", "properties": options, "additionalProperties": False},
            ]
        }
    return {
        "description": "edge cases: a probability per event, or a list of kinds (always)",
        "anyOf": [
            {"type": "object", "properties": rules, "additionalProperties": False},
            {"type": "array", "items": {"enum": list(inject.KINDS)}, "uniqueItems": True},
        ],
    }


def _step(slug: str) -> dict[str, Any]:
    names = [et.name for et in catalogue.event_types(slug)]
    event = {"enum": names}
    properties = {
        "event": event,
        "one_of": {
            "anyOf": [
                {"type": "array", "items": event, "minItems": 1, "uniqueItems": True},
                {
                    "type": "object",
                    "propertyNames": event,
                    "additionalProperties": {"type": "number", "exclusiveMinimum": 0},
                    "minProperties": 1,
                },
            ]
        },
        "probability": STEP_PROBABILITY,
        "otherwise": {"enum": list(OTHERWISE)},
        "repeat": REPEAT,
        "delay": SPAN,
        "rate": RATE,
        "inject": {"$ref": "#/$defs/inject"},
    }
    assert tuple(properties) == STEP_KEYS
    return {
        "anyOf": [
            event,
            {
                "type": "object",
                "properties": properties,
                "additionalProperties": False,
                "oneOf": [{"required": ["event"]}, {"required": ["one_of"]}],
                "not": {"required": ["delay", "rate"]},
            },
        ]
    }


def _coupon(slug: str) -> dict[str, Any]:
    fields = catalogue.vendor(slug).fixed_fields
    properties = {}
    for name, spec in fields.items():
        prop = (
            {"enum": list(spec.choices)}
            if spec.kind == "choice"
            else dict(_OVERRIDE_TYPES[spec.kind])
        )
        if spec.help:
            prop["description"] = spec.help
        properties[name] = prop
    return {"type": "object", "properties": properties, "additionalProperties": False}


def _target(slug: str) -> dict[str, Any]:
    profile = catalogue.vendor(slug).profile
    methods = [m for method in profile.methods for m in (method, method.lower())]
    number = {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, _VAR]}
    properties: dict[str, Any] = {
        "target": {"type": "string", "description": "the consumer URL (http:// or https://)"},
        "method": {"enum": methods},
        "auth": {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"enum": list(profile.auth_types)}},
            "additionalProperties": {"type": ["string", "number", "boolean"]},
        },
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "redact_headers": {
            "type": "array",
            "items": {"type": "string"},
            "description": "custom headers whose values are secret: redacted wherever shown",
        },
        "retry": {
            "anyOf": [
                {"enum": ["vendor", "none"]},
                {"$ref": "#/$defs/retry-rule"},
                {"type": "array", "items": {"$ref": "#/$defs/retry-rule"}},
            ]
        },
        "timeout": number,
        "success": {
            "anyOf": [
                {"const": "2xx"},
                {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 100, "maximum": 599},
                    "minItems": 1,
                },
            ]
        },
    }
    if profile.batching:
        properties["batch_size"] = {"anyOf": [{"type": "integer", "minimum": 1}, _VAR]}
    if profile.verification_get:
        properties["verification_get"] = {"type": "boolean"}
    if profile.timestamp_units:
        properties["timestamp_unit"] = {"enum": list(profile.timestamp_units)}
    if profile.circuit_breaker is not None:
        properties["circuit_breaker"] = {"type": "boolean"}
    properties["tls"] = {
        "type": "object",
        "properties": {
            "ca_bundle": {"type": "string", "description": "PEM file of the CAs to trust"},
            "client_cert": {"type": "string", "description": "PEM client certificate (mutual TLS)"},
            "client_key": {"type": "string", "description": "its PEM key, if not in client_cert"},
            "insecure": {"type": "boolean", "description": "no certificate checks (development)"},
        },
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "required": ["target"],
        "properties": properties,
        "additionalProperties": False,
    }


def _retry_rule() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["delays"],
        "properties": {
            "delays": {
                "type": "array",
                "items": {"anyOf": [{"type": "number", "minimum": 0}, _VAR]},
            },
            "on": {
                "type": "array",
                "items": {
                    "anyOf": [
                        {"type": "integer", "minimum": 100, "maximum": 599},
                        {
                            "type": "string",
                            "pattern": "^(?:[1-5]xx|[1-5][0-9][0-9]|timeout|connection)$",
                        },
                    ]
                },
            },
        },
        "additionalProperties": False,
    }


def text() -> str:
    """The schema as the file holds it."""
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(text(), end="")
