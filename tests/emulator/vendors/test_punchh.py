"""Punchh: the published examples validate, and bodies keep the vendor's envelope and coupon shape."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from emulator.core import catalogue
from emulator.core.errors import BuildError
from emulator.core.values import EPOCH, epoch_millis, epoch_seconds, iso_seconds
from emulator.core.vendor import Context, encode
from emulator.readers import schemas
from emulator.vendors import punchh
from tests.emulator.vendors import seed_examples as ex

NAMES = [et.name for et in punchh.EVENT_TYPES]
SCHEMA = {name: catalogue.event_type("punchh", name).schema_path for name in NAMES}
MENU_ITEM_KEYS = {
    "item_amount",
    "item_name",
    "item_qty",
    "menu_family",
    "menu_item_id",
    "menu_item_type",
    "menu_major_group",
    "serial_number",
}
# Values of the documented types for Punchh's stand-ins: coupon_id is an int64, content_id and
# business_uuid are UUIDs (Meta Fields page).
COUPON_ID = 9_007_199_254_740_993  # above 2**53 on purpose: Punchh's ids are int64
CONTENT_ID = "49776936-69e4-4ce8-b1d0-9f0065c8c31b"  # the one real content_id Punchh prints
BUSINESS_UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def quoted(name: str, value: str) -> ex.Repair:
    """Replace the quoted stand-in ``"name"`` (valid JSON, wrong format) with ``value``."""

    def repair(text: str) -> str:
        return text.replace(json.dumps(name), json.dumps(value))

    repair.__name__ = f"quoted({name})"
    return repair


REPAIRS = (
    ex.placeholder("COUPON_ID_GOES_HERE", COUPON_ID),
    quoted("CONTENT_ID_GOES_HERE", CONTENT_ID),
    quoted("BUSINESS_UUID_GOES_HERE", BUSINESS_UUID),
)


def sample(name: str, seed: int = 1) -> dict:
    return catalogue.sample("punchh", name, seed=seed)


# --- The published examples -------------------------------------------------------------------


def test_unlock_example_is_invalid_json_as_printed():
    with pytest.raises(json.JSONDecodeError):
        json.loads(ex.raw("punchh", "coupon-issuance-unlock.txt"))


def test_unlock_example_fails_only_on_its_uuid_stand_ins_once_coupon_id_is_repaired():
    """The bare ``COUPON_ID_GOES_HERE`` makes the text invalid JSON; once it is an integer, the only
    remaining defects are the quoted stand-ins where the meta fields promise a UUID."""
    body = ex.load("punchh", "coupon-issuance-unlock.txt", REPAIRS[0])
    errors = schemas.errors(SCHEMA["coupon-issuance-unlock"], body)
    assert [e.split(":")[0] for e in errors] == ["business_uuid", "content_id"]


def test_unlock_example_validates_once_its_stand_ins_are_repaired():
    """Repairs: the bare ``COUPON_ID_GOES_HERE`` becomes an int64, and the quoted
    ``CONTENT_ID_GOES_HERE`` and ``BUSINESS_UUID_GOES_HERE`` become UUIDs. The other quoted stand-ins
    (``CODE_GOES_HERE``, names, image URL, source id) are strings of the documented type: kept."""
    body = ex.load("punchh", "coupon-issuance-unlock.txt", *REPAIRS)
    assert body["payload"]["coupon_id"] == COUPON_ID
    assert body["payload"]["coupon_type"] == "unlock"
    assert schemas.errors(SCHEMA["coupon-issuance-unlock"], body) == []
    # The seed's example is a coupon issuance: no other type's schema accepts it.
    for name in ("coupon-issuance-discount", "coupon-redemption", "coupon-void"):
        assert schemas.errors(SCHEMA[name], body)


def _discount_example() -> dict:
    """The Discount Type page's example, as far as our stored copy of the page goes (it stops inside
    ``user.account_balance``), completed with the ``user`` object and the two keys after it from the
    seed's unlock example: both pages show the same test guest (user_id 111111111)."""
    text = ex.raw("punchh", "coupon-issuance-discount.excerpt.txt")
    for repair in REPAIRS:
        text = repair(text)
    head = text[: text.index('"user": {')].rstrip().rstrip(",")
    body = json.loads(head + "}}")
    unlock = ex.load("punchh", "coupon-issuance-unlock.txt", *REPAIRS)["payload"]
    for key in ("user", "user_coupon_redemption_id", "user_id"):
        body["payload"][key] = unlock[key]
    return body


def test_discount_excerpt_is_cut_inside_the_user_object():
    text = ex.raw("punchh", "coupon-issuance-discount.excerpt.txt")
    assert text.rstrip().endswith('"total_debits": null,')
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_discount_example_validates_once_repaired_and_completed():
    body = _discount_example()
    payload = body["payload"]
    # What the page shows beyond the seed: a float flat discount (the table says Integer), no
    # redeemable, an expiry date, a null discount at issuance, and the eight-key menu item.
    assert payload["applicable_flat_discount"] == 2.5
    assert payload["redeemable"] is None
    assert payload["expiry_at"] == "2022-03-12T07:59:59Z"
    assert payload["discount"] is None
    assert set(payload["redeemed_menu_items"][0]) == MENU_ITEM_KEYS
    assert schemas.errors(SCHEMA["coupon-issuance-discount"], body) == []
    assert schemas.errors(SCHEMA["coupon-issuance-unlock"], body)


def test_published_redemption_values_fit_the_redemption_schema():
    """Punchh's webhook page for a coupon redemption is not in our stored copies; its Braze adapter
    page is, and its ``properties`` carry the same coupon fields. Every one of them, with its published
    value, replaces ours in a generated redemption body, which must still validate. Left out:
    ``business_uuid`` (the adapter's copy of a meta field) and ``redeemable`` (trimmed by the adapter
    to ``{"redeemable_id": null}``)."""
    braze = ex.load("punchh", "coupon-redemption.braze.txt", REPAIRS[0])
    properties = braze["events"][0]["properties"]
    assert braze["events"][0]["name"] == "user_coupon_redemptions"
    body = sample("coupon-redemption", seed=4)
    replaced = set(properties) - {"business_uuid", "redeemable"}
    assert replaced <= set(body["payload"])
    body["payload"].update({key: properties[key] for key in replaced})
    assert body["payload"]["status"] == "honored"
    assert body["payload"]["location_id"] == 351103
    assert schemas.errors(SCHEMA["coupon-redemption"], body) == []


# --- Schemas reject what Punchh never sends ---------------------------------------------------


def _errors_after(name: str, change) -> list[str]:
    body = sample(name, seed=2)
    change(body)
    return schemas.errors(SCHEMA[name], body)


def test_schema_rejects_a_coupon_id_sent_as_a_string():
    def stringify(body):
        body["payload"]["coupon_id"] = str(body["payload"]["coupon_id"])

    errors = _errors_after("coupon-issuance-unlock", stringify)
    assert len(errors) == 1
    assert errors[0].startswith("payload.coupon_id:")


def test_schema_rejects_a_null_event_type():
    def nullify(body):
        body["event_type"] = None

    for name in NAMES:
        errors = _errors_after(name, nullify)
        assert len(errors) == 1
        assert errors[0].startswith("event_type:")


def test_schema_rejects_a_menu_item_with_an_undocumented_key():
    def add_key(body):
        body["payload"]["redeemed_menu_items"][0]["modifier"] = "extra cheese"

    errors = _errors_after("coupon-issuance-discount", add_key)
    assert len(errors) == 1
    assert errors[0].startswith("payload.redeemed_menu_items.0:")
    assert "modifier" in errors[0]


@pytest.mark.parametrize("name", NAMES)
def test_schema_rejects_a_status_outside_the_documented_values(name):
    def expire(body):
        body["payload"]["status"] = "expired"

    errors = _errors_after(name, expire)
    assert errors
    assert all(e.startswith("payload.status:") for e in errors)


def test_schema_rejects_an_id_beyond_int64():
    def overflow(body):
        body["payload"]["user_id"] = 2**63

    assert _errors_after("coupon-redemption", overflow)


def test_issuance_schemas_reject_redemption_fields():
    def redeem(body):
        body["payload"]["user_coupon_redemption_id"] = 281

    errors = _errors_after("coupon-issuance-discount", redeem)
    assert [e.split(":")[0] for e in errors] == ["payload.user_coupon_redemption_id"]


# --- Bodies -----------------------------------------------------------------------------------


def test_envelope_keys_and_meta_values():
    for name, (event_name, action) in {
        "coupon-issuance-unlock": ("coupons", "create"),
        "coupon-issuance-discount": ("coupons", "create"),
        "coupon-redemption": ("user_coupon_redemptions", "create"),
        "coupon-void": ("coupons", "update"),
    }.items():
        body = sample(name)
        assert list(body) == [
            "content_id",
            "timestamp",
            "business_id",
            "business_uuid",
            "business_slug",
            "event_name",
            "event_type",
            "action",
            "payload",
        ]
        assert (body["event_name"], body["event_type"], body["action"]) == (event_name, "", action)
        assert list(body["payload"]) == sorted(body["payload"])  # the examples' alphabetical order


def test_payload_keys_are_exactly_the_seed_examples_keys():
    published = ex.load("punchh", "coupon-issuance-unlock.txt", *REPAIRS)["payload"]
    for name in NAMES:
        payload = sample(name)["payload"]
        assert list(payload) == list(published)
        assert list(payload["user"]) == list(published["user"])
        assert list(payload["user"]["account_balance"]) == list(
            published["user"]["account_balance"]
        )


def test_unlock_and_discount_issuances_differ_as_documented():
    for seed in range(30):
        unlock = sample("coupon-issuance-unlock", seed)["payload"]
        assert unlock["coupon_type"] == "unlock"
        assert unlock["redeemable"]["redeemable_id"] >= 1
        assert unlock["redeemed_menu_items"] == []
        assert unlock["discount"] is None
        assert unlock["expiry_at"] is None
        discount = sample("coupon-issuance-discount", seed)["payload"]
        assert discount["coupon_type"] == "discount"
        assert discount["redeemable"] is None
        assert discount["expiry_at"] > discount["created_at"]
        assert discount["redeemed_menu_items"]
        assert all(set(item) == MENU_ITEM_KEYS for item in discount["redeemed_menu_items"])
        assert (discount["applicable_flat_discount"] > 0) != (
            discount["applicable_percentage_discount"] > 0
        )


def test_timestamp_is_epoch_seconds_by_default_and_milliseconds_on_request():
    now = EPOCH + timedelta(milliseconds=250)
    seconds = Context.from_seed(3, now=now)
    millis = Context.from_seed(3, now=now)
    millis.extras = {"timestamp_unit": "ms"}
    vendor = punchh.Punchh()
    for name in NAMES:
        by_default = vendor.build(
            name, vendor.apply(name, vendor.new_coupon(seconds), seconds), seconds
        )
        on_request = vendor.build(
            name, vendor.apply(name, vendor.new_coupon(millis), millis), millis
        )
        assert by_default["timestamp"] == epoch_seconds(now) == 1768469400
        assert on_request["timestamp"] == epoch_millis(now) == 1768469400250
        assert schemas.errors(SCHEMA[name], by_default) == []
        assert schemas.errors(SCHEMA[name], on_request) == []


def _life(seed: int, kind: str = "coupon-issuance-discount") -> list[dict]:
    """Issue, redeem and void one coupon, the clock moving forward between events."""
    vendor = punchh.Punchh()
    ctx = Context.from_seed(seed)
    coupon = vendor.new_coupon(ctx)
    bodies = []
    for step, name in enumerate((kind, "coupon-redemption", "coupon-void")):
        ctx.now = EPOCH + timedelta(days=step, seconds=seed)
        coupon = vendor.apply(name, coupon, ctx)
        bodies.append(vendor.build(name, coupon, ctx))
    return bodies


@pytest.mark.parametrize("kind", ["coupon-issuance-unlock", "coupon-issuance-discount"])
def test_one_coupon_keeps_its_identity_across_its_life(kind):
    issued, redeemed, voided = _life(7, kind)
    names = (kind, "coupon-redemption", "coupon-void")
    for body, name in zip((issued, redeemed, voided), names, strict=True):
        assert schemas.errors(SCHEMA[name], body) == []
    meta = ("business_id", "business_uuid", "business_slug")
    identity = ("coupon_id", "code", "coupon_campaign_id", "campaign_name", "coupon_type", "user")
    identity += ("user_id", "email", "created_at", "expiry_at", "redeemable")
    for body in (redeemed, voided):
        assert [body[k] for k in meta] == [issued[k] for k in meta]
        assert [body["payload"][k] for k in identity] == [issued["payload"][k] for k in identity]
    assert [b["payload"]["status"] for b in (issued, redeemed, voided)] == [
        "issued",
        "honored",
        "void",
    ]
    assert len({b["content_id"] for b in (issued, redeemed, voided)}) == 3
    # A void after a redemption still shows the redemption it followed.
    redemption = ("user_coupon_redemption_id", "processed_at", "receipt_amount", "transaction_no")
    assert [voided["payload"][k] for k in redemption] == [
        redeemed["payload"][k] for k in redemption
    ]


def test_timestamps_never_decrease_when_the_clock_moves_forward():
    for seed in range(10):
        bodies = _life(seed)
        stamps = [b["timestamp"] for b in bodies]
        updated = [b["payload"]["updated_at"] for b in bodies]
        assert stamps == sorted(stamps)
        assert stamps[0] < stamps[-1]
        # Every event updates the coupon at the clock's reading: one day apart here.
        days = [EPOCH + timedelta(days=step, seconds=seed) for step in range(3)]
        assert updated == [iso_seconds(day) for day in days]
        assert stamps == [epoch_seconds(day) for day in days]


def test_redemption_receipt_adds_up():
    for seed in range(40):
        payload = sample("coupon-redemption", seed)["payload"]
        gross = sum(item["item_amount"] for item in payload["redeemed_menu_items"])
        assert payload["receipt_amount"] == payload["receipt_subtotal_amount"] >= 0
        assert payload["discount"] > 0
        assert round(payload["receipt_amount"] + payload["discount"], 2) == round(gross, 2)
        assert payload["receipt_datetime"] <= payload["processed_at"]


def test_ids_are_integers_and_some_exceed_double_precision():
    ids = []
    for seed in range(60):
        body = sample("coupon-redemption", seed)
        p = body["payload"]
        ids += [body["business_id"], p["coupon_id"], p["user_id"], p["user_coupon_redemption_id"]]
        assert json.loads(encode(body)) == body  # int64 values survive the wire exactly
    assert all(type(i) is int and 1 <= i < 2**63 for i in ids)
    assert any(i > 2**53 for i in ids)


def test_void_is_marked_inferred_and_says_so():
    void = catalogue.event_type("punchh", "coupon-void")
    assert void.inferred
    assert [et.name for et in punchh.EVENT_TYPES if et.inferred] == ["coupon-void"]
    assert "inferred" in void.summary
    assert re.search(r"\binferred\b", schemas.load(void.schema_path)["description"], re.I)


def test_dedupe_key_is_the_content_id():
    body = sample("coupon-redemption", seed=5)
    assert punchh.Punchh().dedupe_keys(body) == (body["content_id"],)


def test_unknown_event_type_and_batches_are_refused():
    vendor = punchh.Punchh()
    ctx = Context.from_seed(1)
    coupon = vendor.new_coupon(ctx)
    with pytest.raises(BuildError, match="coupon-expired"):
        vendor.apply("coupon-expired", coupon, ctx)
    with pytest.raises(BuildError, match="coupon-expired"):
        vendor.build("coupon-expired", coupon, ctx)
    body = sample("coupon-void")
    assert vendor.batch([body]) == body
    with pytest.raises(BuildError, match="one event per request"):
        vendor.batch([body, body])


# --- Delivery profile -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "delays"),
    [
        ("http", 429, (15, 45, 180)),
        ("http", 408, (15, 45, 180)),
        ("timeout", None, (15, 45, 180)),
        ("connection", None, (15, 45, 180)),
        ("http", 500, (60, 120, 300, 600, 1800, 3600, 7200)),
        ("http", 503, (60, 120, 300, 600, 1800, 3600, 7200)),
        ("http", 301, ()),
        ("http", 404, ()),
    ],
)
def test_retry_ladders_follow_the_webhook_delivery_page(kind, status, delays):
    rule = punchh.PROFILE.rule_for(kind, status)
    assert rule is not None
    assert rule.delays == delays


def test_only_200_and_202_succeed_within_fifteen_seconds():
    profile = punchh.PROFILE
    assert [s for s in (200, 201, 202, 204) if profile.is_success(s)] == [200, 202]
    assert profile.timeout == 15
    assert profile.verification_get
    assert profile.auth_types == ("none", "basic", "bearer", "hmac-sha1", "hmac-sha256")
    assert set(profile.unverified) == {
        "retry on connection errors",
        "no retry on other 4xx",
        "circuit breaker: failures counted in a row, deliveries held while suspended",
    }
