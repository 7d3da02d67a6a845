"""The OpenAPI document covers every route, and the live service conforms to it (schemathesis)."""

from __future__ import annotations

import json
import os
import re

import schemathesis
from hypothesis import HealthCheck, Phase, settings

from emulator.web import openapi
from emulator.web.app import ServiceConfig, create_app, shutdown

# Examples per operation; raise it for a deeper local search (150 finds nothing more today).
EXAMPLES = int(os.environ.get("COUPON_EMULATOR_SCHEMATHESIS_EXAMPLES", "30"))
# An inline scenario is YAML text: no JSON Schema tells a valid one from a broken one, so there,
# and only there, a schema-valid request may be refused with 422 (the scenario's own errors).
CONFIG = schemathesis.Config.from_dict(
    {
        "operations": [
            {
                "include-name": "POST /api/runs",
                "checks": {
                    "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "404", "422"]}
                },
            }
        ]
    }
)
# The document the service serves with a token set; a test below checks that it is the same.
schema = schemathesis.openapi.from_dict(openapi.document(secured=True), config=CONFIG)


@schema.hook
def filter_query(ctx, query):
    # A parameter with an empty name, or a None, list or object value, never reaches the wire
    # (the client drops it), so the server sees a valid request where the case claims an invalid
    # one. Leave those cases out; every other negative case still runs.
    return not query or all(
        key and isinstance(value, str | int | float | bool) for key, value in query.items()
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis folder in the work tree
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_route_conforms_to_the_document(case, service):
    case.call_and_validate(
        base_url=service.url, headers={"Authorization": f"Bearer {service.token}"}
    )


def _flask_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_the_document_lists_exactly_the_routes_the_app_serves(tmp_path):
    app = create_app(ServiceConfig(db=str(tmp_path / "o.db"), port=8025))
    try:
        served = {
            (_flask_path(rule.rule), method.lower())
            for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}
        }
    finally:
        shutdown(app)
    documented = {
        (path, method)
        for path, item in openapi.document(secured=True)["paths"].items()
        for method in item
    }
    assert served == documented


def test_the_service_serves_the_document_tested_here(service):
    status, served = service.json("GET", "/openapi.json", token=False)
    assert status == 200
    assert served == json.loads(json.dumps(openapi.document(secured=True)))
