"""Rebilly: the published example validates, schemas hold the documented shape, state stays coherent."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import timedelta

import pytest

from emulator.core import catalogue
from emulator.core.errors import BuildError
from emulator.core.values import EPOCH
from emulator.core.vendor import Context
from emulator.readers import schemas
from emulator.vendors import rebilly
from tests.emulator.vendors import seed_examples as ex

NAMES = [et.name for et in rebilly.EVENT_TYPES]
VENDOR = rebilly.Rebilly()


def _path(name: str) -> str:
    return catalogue.event_type("rebilly", name).schema_path


def _life(seed: int, names: list[str], links_base: str | None = None) -> list[dict]:
    """Bodies of one coupon going through ``names`` in order, an hour apart."""
    ctx = (
        Context.from_seed(seed)
        if links_base is None
        else Context.from_seed(seed, links_base=links_base)
    )
    coupon = VENDOR.new_coupon(ctx)
    bodies = []
    for step, name in enumerate(names):
        ctx.now = EPOCH + timedelta(hours=step)
        coupon = VENDOR.apply(name, coupon, ctx)
        bodies.append(VENDOR.build(name, coupon, ctx))
    return bodies


# The published example (seed 002, "Request samples").


def test_published_example_is_invalid_json_as_printed():
    text = ex.raw("rebilly", "coupon-expiration-modified.txt")
    assert "•" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_published_example_validates_once_bullets_are_stripped():
    body = ex.load("rebilly", "coupon-expiration-modified.txt", ex.strip_bullets)
    assert body == {
        "couponId": "string",
        "eventType": "coupon-expiration-modified",
        "_embedded": {},
        "_links": [],
    }
    assert schemas.errors(_path("coupon-expiration-modified"), body) == []


def test_published_example_is_rejected_as_another_event_type():
    body = ex.load("rebilly", "coupon-expiration-modified.txt", ex.strip_bullets)
    errors = schemas.errors(_path("coupon-issued"), body)
    assert len(errors) == 1
    assert errors[0].startswith("eventType:")


@pytest.mark.parametrize("name", NAMES)
def test_no_top_level_field_is_required(name):
    assert schemas.errors(_path(name), {}) == []


# Every event type's bodies.


@pytest.mark.parametrize("name", NAMES)
def test_samples_validate_and_have_the_documented_shape(name):
    for seed in range(20):
        body = catalogue.sample("rebilly", name, seed=seed)
        assert schemas.errors(_path(name), body) == []
        assert body["eventType"] == name
        if name in rebilly.REDEMPTION_EVENTS:
            assert list(body) == [
                "couponId",
                "redemptionId",
                "customerId",
                "eventType",
                "_embedded",
                "_links",
            ]
            assert list(body["_embedded"]) == ["coupon", "redemption", "customer"]
            assert [link["rel"] for link in body["_links"]] == ["coupon", "redemption", "customer"]
        else:
            assert list(body) == ["couponId", "eventType", "_embedded", "_links"]
            assert list(body["_embedded"]) == ["coupon"]
            assert [link["rel"] for link in body["_links"]] == ["coupon"]
        coupon = body["_embedded"]["coupon"]
        assert coupon["id"] == body["couponId"]
        assert coupon["id"].startswith("cpn_")
        assert coupon["_links"] == [{"href": body["_links"][0]["href"], "rel": "self"}]


def test_a_coupon_event_is_rejected_by_a_redemption_schema_and_back():
    issued = catalogue.sample("rebilly", "coupon-issued", seed=2)
    redeemed = catalogue.sample("rebilly", "coupon-redeemed", seed=2)
    assert schemas.errors(_path("coupon-redeemed"), issued) != []
    assert schemas.errors(_path("coupon-issued"), redeemed) != []


def test_both_discount_kinds_and_nullable_expiry_occur_across_seeds():
    coupons = [
        catalogue.sample("rebilly", "coupon-issued", seed=s)["_embedded"]["coupon"]
        for s in range(60)
    ]
    assert {c["discount"]["type"] for c in coupons} == {"fixed", "percent"}
    assert None in {c["expiredTime"] for c in coupons}
    assert any(isinstance(c["expiredTime"], str) for c in coupons)
    assert any(c["restrictions"] for c in coupons)


# Negative cases: each breaks one documented rule.


def _issued(seed: int = 4) -> dict:
    return catalogue.sample("rebilly", "coupon-issued", seed=seed)


def _coupon_errors(mutate) -> list[str]:
    body = copy.deepcopy(_issued())
    mutate(body["_embedded"]["coupon"])
    return schemas.errors(_path("coupon-issued"), body)


FIXED = {"type": "fixed", "amount": 5, "currency": "USD", "context": "items"}
PERCENT = {"type": "percent", "value": 10, "context": "shipping"}


@pytest.mark.parametrize("discount", [FIXED, PERCENT])
def test_both_discount_shapes_are_accepted(discount):
    assert _coupon_errors(lambda c: c.update(discount=discount)) == []


@pytest.mark.parametrize(
    "discount",
    [
        {**FIXED, "value": 10},  # both amount and value
        {**PERCENT, "amount": 5, "currency": "USD"},  # both, as a percent
        {"type": "fixed", "currency": "USD", "context": "items"},  # neither
        {"type": "percent", "context": "items"},  # neither
        {**FIXED, "context": "everything"},  # context outside the enum
        {**PERCENT, "value": 150},  # more than 100 %
        {**FIXED, "type": "bogo"},  # no such kind
    ],
    ids=[
        "fixed+value",
        "percent+amount",
        "fixed-no-amount",
        "percent-no-value",
        "bad-context",
        "over-100",
        "bad-type",
    ],
)
def test_malformed_discounts_are_rejected(discount):
    errors = _coupon_errors(lambda c: c.update(discount=discount))
    assert errors
    assert all(e.startswith("_embedded.coupon.discount") for e in errors)


def test_coupon_id_over_fifty_characters_is_rejected():
    assert _coupon_errors(lambda c: c.update(id="cpn_" + "X" * 46)) == []
    errors = _coupon_errors(lambda c: c.update(id="cpn_" + "X" * 47))
    assert len(errors) == 1
    assert errors[0].startswith("_embedded.coupon.id:")


@pytest.mark.parametrize("status", ["active", "ISSUED", "redeemed", None])
def test_status_outside_the_enum_is_rejected(status):
    errors = _coupon_errors(lambda c: c.update(status=status))
    assert errors
    assert all(e.startswith("_embedded.coupon.status:") for e in errors)


@pytest.mark.parametrize("field", ["discount", "issuedTime"])
def test_coupon_requires_discount_and_issued_time(field):
    errors = _coupon_errors(lambda c: c.pop(field))
    assert errors == [f"_embedded.coupon: '{field}' is a required property"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("revision", "1"),
        ("revision", 1.5),
        ("redemptionsCount", -1),
        ("expiredTime", ""),
        ("issuedTime", "15/01/2026"),
        ("surprise", True),
    ],
)
def test_coupon_fields_keep_their_types(field, value):
    assert _coupon_errors(lambda c: c.update({field: value}))


def test_expired_time_and_canceled_time_may_be_null():
    assert _coupon_errors(lambda c: c.update(expiredTime=None)) == []
    body = catalogue.sample("rebilly", "coupon-redemption-canceled", seed=3)
    assert body["_embedded"]["redemption"]["canceledTime"] is not None
    body["_embedded"]["redemption"]["canceledTime"] = None
    assert schemas.errors(_path("coupon-redemption-canceled"), body) == []


def test_link_relations_are_limited_per_event_kind():
    body = _issued()
    body["_links"][0]["rel"] = "redemption"
    assert schemas.errors(_path("coupon-issued"), body)
    redeemed = catalogue.sample("rebilly", "coupon-redeemed", seed=4)
    redeemed["_links"][1]["rel"] = "invoice"
    assert schemas.errors(_path("coupon-redeemed"), redeemed)
    redeemed["_links"][1]["rel"] = "redemption"
    redeemed["_links"][1]["href"] = "not a url"
    assert schemas.errors(_path("coupon-redeemed"), redeemed)


def test_a_known_restriction_must_carry_its_fields():
    assert (
        _coupon_errors(
            lambda c: c.update(restrictions=[{"type": "total-redemptions", "quantity": 5}])
        )
        == []
    )
    assert _coupon_errors(lambda c: c.update(restrictions=[{"type": "total-redemptions"}]))
    assert _coupon_errors(
        lambda c: c.update(restrictions=[{"type": "minimum-order-amount", "amount": 20}])
    )
    assert _coupon_errors(lambda c: c.update(restrictions=[{"quantity": 5}]))


# A coupon's life: revision, dedupe keys, identity.

LIFE = [
    "coupon-issued",
    "coupon-applied",
    "coupon-modified",
    "coupon-redeemed",
    "coupon-expiration-modified",
    "coupon-redemption-canceled",
    "coupon-modified",
    "coupon-expired",
    "coupon-expiration-modified",
]


@pytest.mark.parametrize("seed", range(5))
def test_revision_rises_by_one_on_each_modification(seed):
    bodies = _life(seed, LIFE)
    revisions = [b["_embedded"]["coupon"]["revision"] for b in bodies]
    assert revisions == [0, 0, 1, 1, 2, 2, 3, 4, 5]
    coupon_bodies = [b for b in bodies if b["eventType"] in rebilly.COUPON_EVENTS]
    keys = [VENDOR.dedupe_keys(b) for b in coupon_bodies]
    assert len(set(keys)) == len(keys)
    coupon_id = bodies[0]["couponId"]
    assert keys[1] == (f"coupon-modified:{coupon_id}:1",)
    assert keys[3] == (f"coupon-modified:{coupon_id}:3",)


def test_each_modification_changes_the_coupon_and_its_updated_time():
    bodies = _life(
        8, ["coupon-issued", "coupon-modified", "coupon-modified", "coupon-expiration-modified"]
    )
    coupons = [b["_embedded"]["coupon"] for b in bodies]
    for before, after in itertools.pairwise(coupons):
        changed = {k for k in after if after[k] != before[k]} - {"revision", "updatedTime"}
        assert changed
        assert after["updatedTime"] > before["updatedTime"]
    assert coupons[3]["expiredTime"] != coupons[2]["expiredTime"]


def test_status_follows_the_life():
    statuses = [b["_embedded"]["coupon"]["status"] for b in _life(1, LIFE)]
    assert statuses == ["issued"] * 7 + ["expired", "issued"]
    fresh = VENDOR.new_coupon(Context.from_seed(1))
    assert fresh.status == "draft"
    assert fresh.revision == 0


def test_redemption_events_embed_the_coupon_events_identity():
    bodies = _life(
        6,
        [
            "coupon-issued",
            "coupon-applied",
            "coupon-redeemed",
            "coupon-modified",
            "coupon-redemption-canceled",
        ],
    )
    issued, applied, redeemed, modified, canceled = bodies
    for body in (applied, redeemed, canceled):
        embedded = body["_embedded"]
        assert body["couponId"] == issued["couponId"] == embedded["coupon"]["id"]
        assert embedded["redemption"]["couponId"] == body["couponId"]
        assert (
            body["customerId"] == embedded["customer"]["id"] == embedded["redemption"]["customerId"]
        )
        assert body["redemptionId"] == embedded["redemption"]["id"]
        assert body["redemptionId"].startswith("cpn_rdm_")
        assert body["customerId"].startswith("cus_")
    assert applied["customerId"] == redeemed["customerId"] == canceled["customerId"]
    assert applied["_embedded"]["customer"] == canceled["_embedded"]["customer"]
    assert applied["redemptionId"] == redeemed["redemptionId"] == canceled["redemptionId"]
    # The redemption events carry the coupon as it is now, modification included.
    now, then = canceled["_embedded"]["coupon"], modified["_embedded"]["coupon"]
    for key in ("discount", "restrictions", "description", "revision", "issuedTime", "createdTime"):
        assert now[key] == then[key]
    assert (then["revision"], then["redemptionsCount"], now["redemptionsCount"]) == (1, 1, 0)


def test_redemption_count_and_canceled_time_follow_the_redemption():
    bodies = _life(
        9, ["coupon-applied", "coupon-redeemed", "coupon-redeemed", "coupon-redemption-canceled"]
    )
    counts = [b["_embedded"]["coupon"]["redemptionsCount"] for b in bodies]
    assert counts == [0, 1, 2, 1]
    canceled = [b["_embedded"]["redemption"]["canceledTime"] for b in bodies]
    assert canceled[:3] == [None, None, None]
    assert canceled[3] is not None
    # A redemption on a draft coupon issues it first.
    assert bodies[0]["_embedded"]["coupon"]["status"] == "issued"


def test_redemption_dedupe_keys_never_repeat_within_a_life():
    names = [
        "coupon-applied",
        "coupon-applied",
        "coupon-redeemed",
        "coupon-redeemed",
        "coupon-application-removed",
        "coupon-application-removed",
        "coupon-redemption-canceled",
    ]
    bodies = _life(10, names)
    keys = [VENDOR.dedupe_keys(b) for b in bodies]
    assert keys == [(f"{b['eventType']}:{b['redemptionId']}",) for b in bodies]
    assert len(set(keys)) == len(keys)


def test_links_use_the_configured_links_base():
    base = "https://emulator.example.test/base/"
    root = "https://emulator.example.test/base/vendors/rebilly/"
    issued, applied = _life(12, ["coupon-issued", "coupon-applied"], links_base=base)
    embedded = applied["_embedded"]
    hrefs = {link["rel"]: link["href"] for link in applied["_links"]}
    assert hrefs == {
        "coupon": f"{root}coupons/{applied['couponId']}",
        "redemption": f"{root}coupons-redemptions/{applied['redemptionId']}",
        "customer": f"{root}customers/{applied['customerId']}",
    }
    assert issued["_links"] == [{"href": hrefs["coupon"], "rel": "coupon"}]
    assert embedded["coupon"]["_links"] == [{"href": hrefs["coupon"], "rel": "self"}]
    assert embedded["customer"]["_links"] == [{"href": hrefs["customer"], "rel": "self"}]
    assert {link["rel"]: link["href"] for link in embedded["redemption"]["_links"]} == {
        "self": hrefs["redemption"],
        "coupon": hrefs["coupon"],
        "customer": hrefs["customer"],
    }
    default = catalogue.sample("rebilly", "coupon-issued", seed=12)
    assert default["_links"][0]["href"].startswith("http://127.0.0.1:8025/vendors/rebilly/coupons/")


# Errors and delivery.


def test_unknown_event_types_and_missing_redemptions_are_build_errors():
    ctx = Context.from_seed(0)
    coupon = VENDOR.new_coupon(ctx)
    with pytest.raises(BuildError, match="coupon-viewed"):
        VENDOR.apply("coupon-viewed", coupon, ctx)
    with pytest.raises(BuildError, match="needs a redemption"):
        VENDOR.build("coupon-redeemed", coupon, ctx)


def test_one_event_per_request():
    body = _issued()
    assert VENDOR.batch([body]) == body
    with pytest.raises(BuildError):
        VENDOR.batch([body, body])


def test_delivery_profile_states_what_is_documented_and_what_is_ours():
    profile = rebilly.PROFILE
    assert profile.auth_types == ("none", "basic", "digest")
    assert profile.is_success(200)
    assert profile.is_success(299)
    assert not profile.is_success(301)
    assert profile.rule_for("status", 404) is not None
    assert profile.rule_for("timeout") is not None
    assert "retry delays" in profile.unverified
    assert not profile.batching
