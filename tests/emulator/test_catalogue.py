"""Catalogue-wide: every event type of every vendor is listed, schema-backed, valid and deterministic.

Parametrised over the catalogue, so a new event type is covered without touching this file; the
expected list below is written out from the vendors' documents so a missing type is caught.
"""

from __future__ import annotations

import pytest

from emulator.core import catalogue
from emulator.core.errors import UsageError
from emulator.core.vendor import encode
from emulator.readers import schemas

EXPECTED = {
    "komo": ["CouponIssued", "CouponViewed", "CouponRedemptionSuccess", "CouponRedemptionError"],
    "fabric": [
        "offers:coupon:created",
        "offers:coupon:updated",
        "offers:coupon:deleted",
        "offers:coupon:enabled",
        "offers:coupon:disabled",
        "offers:coupon:activated",
        "offers:coupon:deactivated",
        "offers:couponCode:created",
        "offers:couponCode:updated",
        "offers:redemption:promotion:created",
        "offers:redemption:promotion:updated",
        "offers:redemption:promotion:deleted",
        "offers:redemption:coupon:created",
        "offers:redemption:coupon:updated",
        "offers:redemption:coupon:deleted",
    ],
    "rebilly": [
        "coupon-issued",
        "coupon-modified",
        "coupon-expiration-modified",
        "coupon-expired",
        "coupon-applied",
        "coupon-application-removed",
        "coupon-redeemed",
        "coupon-redemption-canceled",
    ],
    "punchh": [
        "coupon-issuance-unlock",
        "coupon-issuance-discount",
        "coupon-redemption",
        "coupon-void",
    ],
}
INFERRED = {("punchh", "coupon-void")}
ALL = catalogue.event_types()
IDS = [f"{et.vendor}:{et.name}" for et in ALL]


def test_the_catalogue_lists_exactly_the_documented_types_plus_the_inferred_one():
    listed = {(et.vendor, et.name) for et in ALL}
    expected = {(v, n) for v, names in EXPECTED.items() for n in names}
    assert listed == expected
    assert len(ALL) == 31
    assert {(et.vendor, et.name) for et in ALL if et.inferred} == INFERRED


def test_vendor_slugs_are_fixed():
    assert list(catalogue.VENDORS) == ["komo", "fabric", "rebilly", "punchh"]


@pytest.mark.parametrize("et", ALL, ids=IDS)
def test_schema_file_exists_and_is_2020_12(et):
    schema = schemas.load(et.schema_path)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schemas.file_of(et.schema_path).is_file()


@pytest.mark.parametrize("et", ALL, ids=IDS)
def test_two_hundred_seeds_all_validate(et):
    for seed in range(200):
        body = catalogue.sample(et.vendor, et.name, seed=seed)
        errors = schemas.errors(et.schema_path, body)
        assert errors == [], f"seed {seed}: {errors}"


@pytest.mark.parametrize("et", ALL, ids=IDS)
def test_same_seed_same_bytes_other_seed_other_body(et):
    first = encode(catalogue.sample(et.vendor, et.name, seed=42))
    assert encode(catalogue.sample(et.vendor, et.name, seed=42)) == first
    assert encode(catalogue.sample(et.vendor, et.name, seed=43)) != first


@pytest.mark.parametrize("et", ALL, ids=IDS)
def test_a_body_does_not_validate_against_another_types_schema(et):
    """Schemas pin the type: a body of one type must fail every other type's schema of its vendor."""
    body = catalogue.sample(et.vendor, et.name, seed=9)
    for other in catalogue.event_types(et.vendor):
        if other.name != et.name:
            assert schemas.errors(other.schema_path, body), (
                f"{et.name} passed {other.name}'s schema"
            )


@pytest.mark.parametrize("et", ALL, ids=IDS)
def test_dedupe_keys_identify_each_event(et):
    vendor = catalogue.vendor(et.vendor)
    keys = [vendor.dedupe_keys(catalogue.sample(et.vendor, et.name, seed=s)) for s in range(20)]
    assert all(len(k) == 1 and k[0] for k in keys)
    assert len({k[0] for k in keys}) == 20


@pytest.mark.parametrize("slug", list(EXPECTED))
def test_every_vendor_declares_a_delivery_profile(slug):
    profile = catalogue.vendor(slug).profile
    assert "none" in profile.auth_types or slug == "fabric"
    assert profile.timeout > 0
    assert profile.retry


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(LookupError, match="valid vendors: komo, fabric, rebilly, punchh"):
        catalogue.vendor("stripe")
    with pytest.raises(LookupError, match=r"Did you mean 'coupon-issued'\?"):
        catalogue.event_type("rebilly", "coupon-isued")


def test_an_extra_vendor_is_loaded_from_module_and_class_and_checked():
    toy = catalogue.load("tests.emulator.toyvendor:Toy")
    assert (toy.slug, [et.name for et in toy.event_types]) == ("toy", ["ToyIssued", "ToyRedeemed"])
    assert toy.planning_cost == 1.0  # the protocol's default
    with pytest.raises(UsageError, match="'acme' is not module:Class"):
        catalogue.load("acme")
    with pytest.raises(UsageError, match="could not be loaded: No module named 'no_such_vendor'"):
        catalogue.load("no_such_vendor:Acme")
    with pytest.raises(UsageError, match="is not a Vendor: it lacks slug, title"):
        catalogue.load("emulator.core.errors:EmulatorError")
    with pytest.raises(UsageError, match="two vendors have the slug 'komo'"):
        catalogue.listing((*catalogue.BUILT_IN, catalogue.vendor("komo")))
