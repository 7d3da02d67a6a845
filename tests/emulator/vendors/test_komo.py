"""Komo: the published examples validate, and bodies keep the vendor's shape."""

from __future__ import annotations

import json

import pytest

from emulator.core import catalogue
from emulator.core.vendor import Context
from emulator.readers import schemas
from emulator.vendors import komo
from tests.emulator.vendors import seed_examples as ex

NAMES = [et.name for et in komo.EVENT_TYPES]


@pytest.mark.parametrize("name", NAMES)
def test_published_example_is_invalid_json_as_printed(name):
    with pytest.raises(json.JSONDecodeError):
        json.loads(ex.raw("komo", f"{name}.txt"))


@pytest.mark.parametrize("name", NAMES)
def test_published_example_validates_once_comments_and_trailing_comma_are_repaired(name):
    body = ex.load("komo", f"{name}.txt", ex.strip_line_comments, ex.drop_trailing_commas)
    assert body["event"] == name
    assert schemas.errors(catalogue.event_type("komo", name).schema_path, body) == []


def test_schema_rejects_an_example_without_a_required_field():
    body = ex.load(
        "komo", "CouponRedemptionError.txt", ex.strip_line_comments, ex.drop_trailing_commas
    )
    del body["coupon_redemption_error"]
    path = catalogue.event_type("komo", "CouponRedemptionError").schema_path
    assert schemas.errors(path, body) == [
        "(root): 'coupon_redemption_error' is a required property"
    ]


def test_schema_requires_millisecond_utc_timestamps():
    body = catalogue.sample("komo", "CouponIssued", seed=1)
    body["timestamp"] = "2026-01-15T09:30:00Z"
    errors = schemas.errors(catalogue.event_type("komo", "CouponIssued").schema_path, body)
    assert len(errors) == 1
    assert errors[0].startswith("timestamp:")


def test_redemption_events_carry_location_and_error_only_where_documented():
    issued = catalogue.sample("komo", "CouponIssued", seed=3)
    success = catalogue.sample("komo", "CouponRedemptionSuccess", seed=3)
    error = catalogue.sample("komo", "CouponRedemptionError", seed=3)
    assert "coupon_location" not in issued
    assert "coupon_redemption_error" not in success
    assert error["coupon_redemption_error"]
    assert error["coupon_location"] == success["coupon_location"]


def test_attributes_are_spread_as_top_level_keys():
    seen_profile = seen_session = False
    for seed in range(40):
        body = catalogue.sample("komo", "CouponIssued", seed=seed)
        assert "User attributes" not in body
        if "user_profile_id" in body:
            seen_profile = True
            assert body["Email"].count("@") == 1
            assert body["First name"]
        else:
            seen_session = True
            assert "Preferred store" in body
    assert seen_profile
    assert seen_session


def test_coupon_code_comes_as_string_or_number_across_seeds():
    kinds = {
        type(catalogue.sample("komo", "CouponIssued", seed=s).get("coupon_code")) for s in range(60)
    }
    assert {str, int} <= kinds


def test_one_coupon_keeps_its_identity_across_its_events():
    vendor = komo.Komo()
    ctx = Context.from_seed(11)
    coupon = vendor.new_coupon(ctx)
    bodies = []
    for name in ("CouponIssued", "CouponViewed", "CouponViewed", "CouponRedemptionSuccess"):
        coupon = vendor.apply(name, coupon, ctx)
        bodies.append(vendor.build(name, coupon, ctx))
    identity = {"site_id", "offer_id", "coupon_id", "user_session_id", "offer_name", "coupon_code"}
    first = {k: bodies[0].get(k) for k in identity}
    assert all({k: b.get(k) for k in identity} == first for b in bodies)
    assert len({b["id"] for b in bodies}) == len(bodies)


def test_dedupe_key_is_the_event_id():
    body = catalogue.sample("komo", "CouponViewed", seed=5)
    assert komo.Komo().dedupe_keys(body) == (body["id"],)
