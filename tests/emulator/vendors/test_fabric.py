"""fabric: the published examples validate, bodies keep the envelope's shape, and batches merge."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from emulator.core import catalogue
from emulator.core.errors import BuildError
from emulator.core.vendor import Context
from emulator.readers import schemas
from emulator.vendors import fabric
from tests.emulator.test_catalogue import EXPECTED
from tests.emulator.vendors import seed_examples as ex

NAMES = [et.name for et in fabric.EVENT_TYPES]
CODE_NAMES = [n for n in NAMES if n.startswith("offers:couponCode:")]
OTHER_NAMES = [n for n in NAMES if n not in CODE_NAMES]
VENDOR = fabric.Fabric()


def _file(name: str) -> str:
    return f"{name.replace(':', '.')}.txt"


def _schema(name: str) -> str:
    return catalogue.event_type("fabric", name).schema_path


def _example(name: str) -> dict:
    repairs = [ex.unescape_brackets]
    if name in CODE_NAMES:
        repairs.append(ex.insert_missing_comma)
    return ex.load("fabric", _file(name), *repairs)


def _keys(value):
    """Every key of a nested body, in order, level by level: the shape without the values."""
    if isinstance(value, dict):
        return [(k, _keys(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_keys(v) for v in value]
    return None


def test_the_fifteen_types_in_documented_order_with_dotted_schema_files():
    assert EXPECTED["fabric"] == NAMES
    assert [et.schema_file for et in fabric.EVENT_TYPES] == [
        n.replace(":", ".") + ".json" for n in NAMES
    ]
    assert all(et.summary and not et.inferred for et in fabric.EVENT_TYPES)


@pytest.mark.parametrize("name", NAMES)
def test_published_example_is_invalid_json_as_printed(name):
    with pytest.raises(json.JSONDecodeError):
        json.loads(ex.raw("fabric", _file(name)))


@pytest.mark.parametrize("name", CODE_NAMES)
def test_coupon_code_examples_also_miss_a_comma(name):
    with pytest.raises(json.JSONDecodeError):
        ex.load("fabric", _file(name), ex.unescape_brackets)


@pytest.mark.parametrize("name", NAMES)
def test_published_example_validates_once_its_documented_defects_are_repaired(name):
    body = _example(name)
    assert body["type"] == name
    assert body["events"][0]["data"]["status"] == name.rsplit(":", 1)[1].upper()
    assert schemas.errors(_schema(name), body) == []


@pytest.mark.parametrize("name", NAMES)
def test_sample_validates_and_has_the_examples_keys_in_their_order(name):
    body = catalogue.sample("fabric", name, seed=7)
    assert schemas.errors(_schema(name), body) == []
    assert _keys(body) == _keys(_example(name))


def test_schema_rejects_a_status_of_another_type():
    body = _example("offers:coupon:created")
    body["events"][0]["data"]["status"] = "UPDATED"
    errors = schemas.errors(_schema("offers:coupon:created"), body)
    assert errors == ["events.0.data.status: 'CREATED' was expected"]


def test_schema_rejects_a_status_from_another_object_kind():
    body = _example("offers:couponCode:updated")
    body["events"][0]["data"]["status"] = "DELETED"  # coupon codes are never deleted
    errors = schemas.errors(_schema("offers:couponCode:updated"), body)
    assert errors
    assert all(e.startswith("events.0.data.status:") for e in errors)


def test_schema_rejects_a_tenant_id_that_is_not_24_lowercase_hex():
    body = _example("offers:redemption:coupon:created")
    body["tenantid"] = "63A123070CF218E178EFDA30"
    errors = schemas.errors(_schema("offers:redemption:coupon:created"), body)
    assert len(errors) == 1
    assert errors[0].startswith("tenantid:")


@pytest.mark.parametrize(
    ("where", "path"),
    [((), "(root)"), (("events", 0), "events.0"), (("events", 0, "data"), "events.0.data")],
)
def test_schema_rejects_an_extra_key_at_every_level(where, path):
    body = _example("offers:coupon:updated")
    target = body
    for step in where:
        target = target[step]
    target["extra"] = 1
    errors = schemas.errors(_schema("offers:coupon:updated"), body)
    assert len(errors) == 1
    assert errors[0].startswith(f"{path}: Additional properties are not allowed")


def test_schema_rejects_a_coupon_code_event_with_an_id():
    body = _example("offers:couponCode:created")
    body["events"][0]["data"]["id"] = "642babcd3ebd250008455701"
    assert schemas.errors(_schema("offers:couponCode:created"), body) != []


def test_schema_rejects_an_empty_events_array_and_a_non_uuid_event_id():
    body = _example("offers:coupon:deleted")
    body["events"][0]["id"] = "not-a-uuid"
    assert schemas.errors(_schema("offers:coupon:deleted"), body) == [
        "events.0.id: 'not-a-uuid' is not a 'uuid'"
    ]
    body["events"] = []
    assert schemas.errors(_schema("offers:coupon:deleted"), body) == [
        "events: [] should be non-empty"
    ]


LIFE = [
    "offers:coupon:created",
    "offers:couponCode:created",
    "offers:coupon:disabled",
    "offers:coupon:enabled",
    "offers:coupon:activated",
    "offers:redemption:coupon:created",
    "offers:redemption:coupon:updated",
    "offers:couponCode:updated",
    "offers:redemption:coupon:deleted",
    "offers:coupon:deactivated",
    "offers:coupon:deleted",
]


def _life(seed: int = 11, names=LIFE):
    ctx = Context.from_seed(seed)
    coupon = VENDOR.new_coupon(ctx)
    states, bodies = [], []
    for name in names:
        coupon = VENDOR.apply(name, coupon, ctx)
        states.append(coupon)
        bodies.append(VENDOR.build(name, coupon, ctx))
    return states, bodies


def test_one_coupon_keeps_its_tenant_id_and_code_across_its_life():
    _, bodies = _life()
    for name, body in zip(LIFE, bodies, strict=True):
        assert schemas.errors(_schema(name), body) == []
    assert len({b["tenantid"] for b in bodies}) == 1
    data = {name: b["events"][0]["data"] for name, b in zip(LIFE, bodies, strict=True)}
    coupon_ids = {d["id"] for n, d in data.items() if n.startswith("offers:coupon:")}
    assert len(coupon_ids) == 1
    codes = {d["couponCode"] for n, d in data.items() if n.startswith("offers:couponCode:")}
    assert len(codes) == 1
    assert {d["promotionId"] for n, d in data.items() if "couponCode" in n} == coupon_ids
    redemptions = {d["id"] for n, d in data.items() if n.startswith("offers:redemption:")}
    assert len(redemptions) == 1
    assert redemptions.isdisjoint(coupon_ids)
    event_ids = [i for b in bodies for i in VENDOR.dedupe_keys(b)]
    assert len(set(event_ids)) == len(LIFE)


def test_apply_tracks_flags_and_the_last_status():
    states, _ = _life()
    by_name = dict(zip(LIFE, states, strict=True))
    created = by_name["offers:coupon:created"]
    assert (created.enabled, created.active, created.deleted) == (True, False, False)
    assert by_name["offers:coupon:disabled"].enabled is False
    assert by_name["offers:coupon:enabled"].enabled is True
    assert by_name["offers:coupon:activated"].active is True
    assert by_name["offers:coupon:deactivated"].active is False
    assert by_name["offers:redemption:coupon:deleted"].redemption_deleted is True
    assert by_name["offers:coupon:deleted"].deleted is True
    assert [s.status for s in states] == [n.rsplit(":", 1)[1].upper() for n in LIFE]
    assert states[-1].last_event == "offers:coupon:deleted"


def test_apply_is_lenient_about_missing_redemptions_and_each_creation_is_a_new_one():
    names = [
        "offers:redemption:promotion:updated",
        "offers:redemption:promotion:deleted",
        "offers:redemption:promotion:created",
        "offers:redemption:coupon:updated",
        "offers:redemption:coupon:created",
    ]
    states, _ = _life(names=names)
    ids = [s.redemption_id for s in states]
    assert all(ids)
    assert ids[0] == ids[1]  # the update made one, the delete refers to it
    assert len({ids[1], ids[2], ids[3], ids[4]}) == 4
    assert [s.redemption_kind for s in states] == ["promotion"] * 3 + ["coupon"] * 2


def test_build_of_a_redemption_event_before_apply_is_a_clear_error():
    ctx = Context.from_seed(1)
    with pytest.raises(BuildError, match="apply the event"):
        VENDOR.build("offers:redemption:coupon:updated", VENDOR.new_coupon(ctx), ctx)


@pytest.mark.parametrize("call", ["apply", "build"])
def test_unknown_event_type_is_a_build_error_listing_the_valid_ones(call):
    ctx = Context.from_seed(1)
    with pytest.raises(BuildError, match="offers:coupon:created"):
        getattr(VENDOR, call)("offers:coupon:expired", VENDOR.new_coupon(ctx), ctx)


def test_every_coupon_of_a_run_shares_the_tenant_and_extras_can_set_it():
    ctx = Context.from_seed(5)
    first, second = VENDOR.new_coupon(ctx), VENDOR.new_coupon(ctx)
    assert first.tenant_id == second.tenant_id
    assert first.coupon_id != second.coupon_id
    assert VENDOR.new_coupon(Context.from_seed(6)).tenant_id != first.tenant_id
    given = Context.from_seed(5, links_base="http://x")
    given.extras = {fabric.TENANT_EXTRA: "63a123070cf218e178efda30"}
    assert VENDOR.new_coupon(given).tenant_id == "63a123070cf218e178efda30"
    given.extras = {fabric.TENANT_EXTRA: "acme"}
    with pytest.raises(BuildError, match="24 lowercase hex"):
        VENDOR.new_coupon(given)


def test_event_time_is_the_context_clock_in_utc_milliseconds():
    now = datetime(2026, 3, 1, 12, 0, 5, 123456, tzinfo=UTC)
    ctx = Context.from_seed(2, now=now)
    coupon = VENDOR.apply("offers:coupon:created", VENDOR.new_coupon(ctx), ctx)
    body = VENDOR.build("offers:coupon:created", coupon, ctx)
    assert body["events"][0]["time"] == "2026-03-01T12:00:05.123Z"
    assert body["events"][0]["source"] == "offers:business-layer"
    assert body["events"][0]["subject"] is None
    assert body["specversion"] == "v1"


def test_callback_urls_point_at_the_configured_links_base():
    base = "https://emulator.test:9000/"
    names = [
        "offers:coupon:updated",
        "offers:couponCode:created",
        "offers:redemption:coupon:created",
    ]
    ctx = Context.from_seed(3, links_base=base)
    coupon = VENDOR.new_coupon(ctx)
    urls = []
    for name in names:
        coupon = VENDOR.apply(name, coupon, ctx)
        urls += VENDOR.build(name, coupon, ctx)["events"][0]["data"]["callbackUrls"]
    root = "https://emulator.test:9000/vendors/fabric/api-offers"
    assert urls == [
        f"{root}/coupons/{coupon.coupon_id}",
        f"{root}/promotions/{coupon.promotion_id}/coupon-codes/{coupon.coupon_code}",
        f"{root}/redemptions/{coupon.redemption_id}",
    ]


def _created_bodies(n: int, seed: int = 21):
    ctx = Context.from_seed(seed)
    bodies = []
    for _ in range(n):
        coupon = VENDOR.apply("offers:coupon:created", VENDOR.new_coupon(ctx), ctx)
        bodies.append(VENDOR.build("offers:coupon:created", coupon, ctx))
    return bodies


def test_batch_carries_every_event_in_one_valid_envelope():
    bodies = _created_bodies(4)
    merged = VENDOR.batch(bodies)
    assert list(merged) == ["specversion", "type", "tenantid", "events"]
    assert merged["type"] == "offers:coupon:created"
    assert merged["tenantid"] == bodies[0]["tenantid"]
    assert merged["events"] == [b["events"][0] for b in bodies]
    assert VENDOR.dedupe_keys(merged) == tuple(b["events"][0]["id"] for b in bodies)
    assert len(set(VENDOR.dedupe_keys(merged))) == 4
    assert schemas.errors(_schema("offers:coupon:created"), merged) == []


def test_batch_does_not_share_event_objects_with_its_inputs():
    bodies = _created_bodies(2)
    merged = VENDOR.batch(bodies)
    merged["events"][0]["data"]["status"] = "CHANGED"
    assert bodies[0]["events"][0]["data"]["status"] == "CREATED"


def test_a_batch_of_bodies_given_up_is_the_same_bytes_without_copies():
    """``owned``: the run driver gives its planned bodies up, so the batch holds them as they are;
    the wire bytes are those of the copying batch."""
    from emulator.core.vendor import encode

    bodies = _created_bodies(3)
    copied = encode(VENDOR.batch(bodies))
    owned = VENDOR.batch(bodies, owned=True)
    assert encode(owned) == copied
    assert owned["events"][0] is bodies[0]["events"][0]


def test_batch_refuses_mixed_types_mixed_tenants_and_nothing():
    bodies = _created_bodies(2)
    ctx = Context.from_seed(21)
    coupon = VENDOR.apply("offers:coupon:updated", VENDOR.new_coupon(ctx), ctx)
    updated = VENDOR.build("offers:coupon:updated", coupon, ctx)
    with pytest.raises(BuildError, match="'type'"):
        VENDOR.batch([*bodies, updated])
    other_tenant = _created_bodies(1, seed=22)[0]
    with pytest.raises(BuildError, match="'tenantid'"):
        VENDOR.batch([bodies[0], other_tenant])
    with pytest.raises(BuildError, match="zero"):
        VENDOR.batch([])


def test_profile_retries_three_times_after_the_first_attempt_and_marks_its_choices():
    profile = fabric.PROFILE
    assert profile.batching is True
    assert profile.auth_types == ("none", "api-key")
    assert set(profile.methods) == {"POST", "GET"}
    for kind, status in (("status", 503), ("status", 404), ("timeout", None)):
        rule = profile.rule_for(kind, status)
        assert rule is not None
        assert len(rule.delays) == 3
    assert "retry delays" in profile.unverified
