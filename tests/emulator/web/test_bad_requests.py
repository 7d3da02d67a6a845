"""Malformed requests get a problem+json 4xx naming what is wrong, never a 500."""

from __future__ import annotations

import pytest

from emulator.web.app import ServiceConfig, create_app, shutdown


@pytest.fixture
def client(tmp_path):
    app = create_app(ServiceConfig(db=str(tmp_path / "o.db"), port=8025, env={"SECRET_X": "s"}))
    yield app.test_client()
    shutdown(app)


@pytest.mark.parametrize(
    ("path", "raw", "status", "fragment"),
    [
        ("/api/events", b'{"vendor": "komo", "event_type": "CouponIssued", "overrides": '
         b'{"a": "\\ud800"}}', 400, "/overrides/a: not valid Unicode"),
        ("/api/events", b'{"overrides": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, "deeper than"),
        ("/api/events", b'{"vendor": "komo", "event_type": "Nope"}', 400,
         "/event_type: 'Nope' is not one of ['CouponIssued'"),
        ("/api/events", b'{"vendor": "nope", "event_type": "X"}', 400, "'nope' is not a vendor"),
        ("/api/runs", b'{"yaml": ""}', 400, "/yaml"),
        ("/api/runs", b'{"yaml": "vendors:\\n  komo:\\n    target: http://x/\\n    headers: '
         b'{X-Env: \\"${SECRET_X}\\"}\\nevents: [{vendor: komo, event: CouponIssued}]\\n"}',
         422, "${SECRET_X} is not expanded"),
        ("/api/runs", b'{"yaml": "flows: [{vendor: komo, steps: [{event: CouponIssued, '
         b'repeat: 1000000000}]}]"}', 422, "at most 10,000 repetitions"),
    ],
    ids=["surrogate", "deep", "event-type", "vendor", "empty-yaml", "env", "repeat"],
)  # fmt: skip
def test_a_malformed_request_gets_a_clear_4xx(client, path, raw, status, fragment):
    answer = client.post(path, data=raw, content_type="application/json")
    assert answer.status_code == status, answer.get_json()
    assert answer.content_type == "application/problem+json"
    assert fragment in answer.get_json()["detail"]


def test_the_404_for_a_missing_delivery_names_the_list_route(client):
    answer = client.get("/api/deliveries/99")
    assert answer.status_code == 404
    assert "GET /api/deliveries" in answer.get_json()["detail"]
    assert "deliverys" not in answer.get_json()["detail"]
