"""``run SCENARIO`` through the delivery engine, against real consumers on loopback: a correct
one (the reference consumer) and one that takes anything. Broken requests are judged by what a
consumer must do with them."""

from __future__ import annotations

import json
import textwrap
from collections import Counter

import pytest

from contracts.reference_consumer import create_app
from contracts.serving import serve_wsgi
from emulator.cli import main
from emulator.core.auth import Hmac
from emulator.core.plan import PlannedEvent
from emulator.delivery.outbox import Outbox
from emulator.delivery.runner import envelopes
from emulator.readers import config

SECRET = "s3cret-for-tests"
AUTH = {
    "komo": {"type": "bearer", "token": SECRET},
    "fabric": {"type": "api-key", "header": "x-api-key", "value": SECRET},
    "rebilly": {"type": "digest", "username": "hooks", "password": SECRET},
    "punchh": {"type": "hmac-sha256", "client": "pos", "secret": SECRET},
}
STEPS = {
    "komo": "[CouponIssued, CouponViewed, CouponRedemptionSuccess]",
    "fabric": "['offers:coupon:created', 'offers:couponCode:created', 'offers:coupon:deleted']",
    "rebilly": "[coupon-issued, coupon-modified, coupon-applied, coupon-redeemed]",
    "punchh": "[coupon-issuance-discount, coupon-redemption]",
}
BROKEN = "{wrong_auth: 0.3, missing_auth: 0.3, malformed_json: 0.3, duplicate: 0.3, unknown_event_type: 0.2}"


@pytest.fixture(scope="module")
def consumer():
    """The reference consumer, checking every vendor's auth, on a real loopback port."""
    settings = config.parse(
        {"vendors": {v: {"target": "http://127.0.0.1:1/x", "auth": a} for v, a in AUTH.items()}},
        env={},
    )
    app = create_app(settings)
    with serve_wsgi(app) as base:
        yield base, app.extensions["coupon_consumer"]


def scenario_file(tmp_path, base: str, vendor: str, inject: str = BROKEN, auth=None) -> str:
    path = tmp_path / f"{vendor}.yaml"
    entry = {"target": f"{base}/hooks/{vendor}", "auth": auth or AUTH[vendor]}
    path.write_text(
        textwrap.dedent(f"""
            seed: 9
            time_scale: 0.00001
            vendors:
              {vendor}: {json.dumps(entry)}
            flows:
              - vendor: {vendor}
                coupons: 12
                rate: 1/s
                delay: 1s..5s
                inject: {inject}
                steps: {STEPS[vendor]}
        """),
        encoding="utf-8",
    )
    return str(path)


def run(path: str, db, *extra: str) -> int:
    return main(["run", path, "--db", str(db), "--quiet", "--report", str(db) + ".json", *extra])


def deliveries(db) -> list[dict]:
    return json.loads(open(str(db) + ".json", encoding="utf-8").read())["deliveries"]


@pytest.mark.parametrize("vendor", list(AUTH))
def test_a_correct_consumer_refuses_every_broken_request_and_the_run_succeeds(
    vendor, consumer, tmp_path
):
    base, core = consumer
    db = tmp_path / "o.db"
    assert run(scenario_file(tmp_path, base, vendor), db) == 0
    rows = deliveries(db)
    labels = Counter(k for r in rows for k in r["label"].split(",") if k)
    assert {"wrong_auth", "missing_auth", "malformed_json", "duplicate"} <= set(labels)
    for row in rows:
        kinds = set(row["label"].split(","))
        assert row["status"] == "delivered", row
        last = row["attempts"][-1]["status"]
        if kinds & {"wrong_auth", "missing_auth"}:
            assert last == 401
            assert row["attempt_count"] <= 2  # a Digest challenge at most, never a retry
        elif "malformed_json" in kinds:
            assert last == 400
        else:
            assert 200 <= last < 300
    # What reached the consumer's state: each genuine event once, copies deduplicated.
    for row in rows:
        if not set(row["label"].split(",")) & {
            "wrong_auth",
            "missing_auth",
            "malformed_json",
            "unknown_event_type",
        }:
            for key in row["dedupe_keys"]:
                applied = json.loads(core.probe_applied(vendor, key).body())["count"]
                assert applied == 1, (row["label"], key)


def test_a_consumer_that_takes_anything_fails_the_run(httpserver, tmp_path):
    httpserver.expect_request("/hooks/punchh").respond_with_data("ok", status=200)
    base = httpserver.url_for("").rstrip("/")
    db = tmp_path / "o.db"
    assert run(scenario_file(tmp_path, base, "punchh"), db) == 1
    rows = deliveries(db)
    failed = [r for r in rows if r["status"] == "failed"]
    assert failed
    assert {k for r in failed for k in r["label"].split(",")} & {
        "wrong_auth",
        "missing_auth",
        "malformed_json",
    }
    assert all("the consumer accepted a request it must refuse" in r["last_error"] for r in failed)
    assert all(r["attempt_count"] == 1 for r in failed)  # never retried
    delivered = [r for r in rows if r["status"] == "delivered"]
    assert all(
        not set(r["label"].split(",")) & {"wrong_auth", "missing_auth", "malformed_json"}
        for r in delivered
    )


def test_wrong_auth_is_signed_wrong_and_missing_auth_carries_no_auth_headers(httpserver, tmp_path):
    httpserver.expect_request("/hooks/punchh", method="GET").respond_with_data("ok")
    httpserver.expect_request("/hooks/punchh", method="POST").respond_with_data("no", status=401)
    base = httpserver.url_for("").rstrip("/")
    path = scenario_file(tmp_path, base, "punchh", inject="{wrong_auth: 1, missing_auth: 1}")
    assert main(["run", path, "--db", str(tmp_path / "o.db"), "--quiet"]) == 1
    posts = [req for req, _ in httpserver.log if req.method == "POST"]
    by_body: dict[bytes, list] = {}
    for req in posts:
        by_body.setdefault(req.get_data(), []).append(req.headers)
    right = Hmac(client="pos", secret=SECRET)
    url = f"{base}/hooks/punchh"
    for body, headers in by_body.items():
        signed = [h for h in headers if h.get("Authorization")]
        bare = [h for h in headers if not h.get("Authorization")]
        assert bare
        assert all("x-pch-key" not in h for h in bare)
        verdicts = [right.verify("POST", url, body, h)[0] for h in signed]
        assert sorted(verdicts) == [False, True]  # the wrong copy, then the genuine one


def test_broken_requests_are_never_batched_and_keep_their_bytes():
    settings = config.parse(
        {"vendors": {"fabric": {"target": "http://127.0.0.1:1/f", "batch_size": 10}}}, env={}
    )
    body = {"specversion": "v1", "type": "offers:coupon:created", "tenantid": "a" * 24,
            "events": [{"id": "e1"}]}  # fmt: skip
    planned = [
        PlannedEvent(
            "fabric", "offers:coupon:created", "c:1", body, 0.0, "malformed_json", raw_body=b"{,"
        ),
        PlannedEvent("fabric", "offers:coupon:created", "c:1", body, 0.0, "", auth="wrong"),
        PlannedEvent("fabric", "offers:coupon:created", "c:1", body, 0.0, ""),
        PlannedEvent("fabric", "offers:coupon:created", "c:2", body, 0.0, ""),
    ]
    out = list(envelopes(planned, settings, 0.0))
    assert [d.body for d in out[:2]] == [b"{,", out[1].body]
    assert [d.label for d in out] == ["malformed_json", "wrong_auth", ""]
    assert len(json.loads(out[2].body)["events"]) == 2  # the plain ones, batched together


def test_run_without_a_target_for_a_flows_vendor_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text("flows: [{vendor: komo, steps: [CouponIssued]}]\n", encoding="utf-8")
    assert main(["run", str(path), "--db", str(tmp_path / "o.db")]) == 2
    err = capsys.readouterr().err
    assert f"{path}: the flows use komo but no komo target is set" in err
    assert "--target komo=URL" in err
    with Outbox(tmp_path / "o.db") as box:
        assert box.unfinished_runs() == []
