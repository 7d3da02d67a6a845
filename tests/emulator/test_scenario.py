"""Planning: the stream of events a scenario makes, its determinism, timing, people and edge cases."""

from __future__ import annotations

import itertools
import json
import textwrap
from collections import Counter, defaultdict

import pytest

from emulator.core import inject, lifecycle, mutations
from emulator.core.plan import PlannedEvent
from emulator.core.scenario import plan
from emulator.core.vendor import encode
from emulator.readers.scenario_reader import parse
from emulator.vendors import komo


def scenario(text: str):
    return parse(textwrap.dedent(text), source="t.yaml", env={}).scenario


def plan_of(text: str, **options) -> list[PlannedEvent]:
    return list(plan(scenario(text), **options))


def labels(event: PlannedEvent) -> set[str]:
    return set(event.label.split(",")) if event.label else set()


def lives(events: list[PlannedEvent]) -> dict[str, list[PlannedEvent]]:
    """Each coupon's own events in delivery order: copies and extra requests left out."""
    out: dict[str, list[PlannedEvent]] = defaultdict(list)
    for e in events:
        if not labels(e) & inject.NOT_A_STEP:
            out[e.coupon_key].append(e)
    return out


def check_lives(events: list[PlannedEvent]) -> None:
    """The properties every plan without reordering has (the issue's definition of done)."""
    dues = [e.due for e in events]
    assert dues == sorted(dues)
    for key, life in lives(events).items():
        vendor = life[0].vendor
        lifecycle.machine(vendor).walk(e.event_type for e in life)  # raises if not a path
        if vendor == "rebilly":
            revisions = [e.body["_embedded"]["coupon"]["revision"] for e in life]
            assert revisions == sorted(revisions), key
            for before, e in zip(revisions, life[1:], strict=False):
                if e.event_type in (
                    "coupon-modified",
                    "coupon-expiration-modified",
                    "coupon-expired",
                ):
                    assert e.body["_embedded"]["coupon"]["revision"] > before, key
        if vendor == "punchh":
            stamps = [e.body["timestamp"] for e in life]
            assert stamps == sorted(stamps), key


KOMO = """
    seed: 3
    flows:
      - vendor: komo
        coupons: 20
        rate: 1/s
        steps:
          - CouponIssued
          - {event: CouponViewed, repeat: 0..3}
          - one_of: {CouponRedemptionSuccess: 3, CouponRedemptionError: 1}
            probability: 0.7
"""


def test_one_seed_gives_the_same_plan_and_another_seed_another():
    first = plan_of(KOMO)
    assert first == plan_of(KOMO)
    assert [encode(e.body) for e in first] == [encode(e.body) for e in plan_of(KOMO)]
    other = plan_of(KOMO, seed=4)
    assert [e.body for e in other] != [e.body for e in first]
    assert plan_of(KOMO, seed=3) == first  # the file's seed is the default


def test_the_plan_is_in_due_order_and_follows_every_life():
    events = plan_of(KOMO)
    check_lives(events)
    assert {e.coupon_key for e in events} == {f"komo:{n}" for n in range(1, 21)}
    first = [life[0] for life in lives(events).values()]
    assert {e.event_type for e in first} == {"CouponIssued"}


def test_timestamps_are_the_start_plus_due_and_start_is_fixed_unless_given():
    events = plan_of(KOMO)
    for e in events:
        assert e.body["timestamp"].startswith("2026-01-15T")
    shifted = plan_of("start: 2027-05-01T00:00:00Z\n" + textwrap.dedent(KOMO))
    assert shifted[0].body["timestamp"].startswith("2027-05-01T00:0")
    assert [e.due for e in shifted] == [e.due for e in events]


def test_coupons_start_at_the_rate_or_spread_over_the_window():
    text = """
        flows:
          - {vendor: komo, coupons: 4, start: 10s, rate: 2/s, delay: 0, steps: [CouponIssued]}
          - {vendor: komo, coupons: 4, start: 1h, spread: 1h, delay: 0, steps: [CouponIssued]}
    """
    events = plan_of(text)
    even = [e.due for e in events if e.coupon_key.startswith("komo:")]
    assert even == [10.0, 10.5, 11.0, 11.5]
    spread = [e.due for e in events if e.coupon_key.startswith("komo-2:")]
    for n, due in enumerate(spread):  # one in each quarter of the window, in order
        assert 3600 + n * 900 <= due < 3600 + (n + 1) * 900


def test_delays_and_rates_space_a_coupons_events():
    events = plan_of("""
        flows:
          - vendor: komo
            delay: 0
            steps:
              - CouponIssued
              - {event: CouponViewed, delay: 5m}
              - {event: CouponViewed, delay: 1m..2m}
              - {event: CouponViewed, rate: 1/h, repeat: 50}
    """)
    dues = [e.due for e in events]
    assert dues[:2] == [0.0, 300.0]
    assert 360 <= dues[2] <= 420
    gaps = [b - a for a, b in itertools.pairwise(dues[2:])]
    assert 1200 < sum(gaps) / len(gaps) < 7200  # exponential, mean one hour


def test_a_flows_coupons_do_not_depend_on_other_flows():
    alone = plan_of(KOMO)
    text = (
        textwrap.dedent(KOMO)
        + "  - {vendor: punchh, coupons: 5, steps: [coupon-issuance-unlock]}\n"
    )
    together = [e for e in plan_of(text) if e.vendor == "komo"]
    assert together == alone


def test_injecting_an_edge_case_changes_no_plain_event():
    plain = plan_of(KOMO)
    text = textwrap.dedent(KOMO).replace(
        "    rate: 1/s\n",
        "    rate: 1/s\n    inject: {duplicate: 0.5, omit_optional: 0.3, late: 0.2}\n",
    )
    injected = plan_of(text)
    assert len(injected) > len(plain)
    untouched = {encode(e.body) for e in injected if not labels(e)}
    assert untouched
    assert untouched <= {encode(e.body) for e in plain}


def test_population_users_hold_several_coupons_and_are_one_person_across_vendors():
    events = plan_of("""
        population: {users: 1, offers: 2, sites: 1}
        flows:
          - {vendor: komo, coupons: 6, steps: [CouponIssued]}
          - {vendor: rebilly, coupons: 3, steps: [coupon-issued, coupon-applied]}
          - {vendor: punchh, coupons: 3, steps: [coupon-issuance-unlock]}
    """)
    komo = [e.body for e in events if e.vendor == "komo"]
    assert len({b["user_session_id"] for b in komo}) == 1
    assert len({b["site_id"] for b in komo}) == 1
    assert len({b["offer_id"] for b in komo}) <= 2
    assert len({b["coupon_id"] for b in komo}) == 6
    customers = [
        e.body["_embedded"]["customer"] for e in events if e.event_type == "coupon-applied"
    ]
    users = [e.body["payload"]["user"] for e in events if e.vendor == "punchh"]
    emails = {c["email"] for c in customers} | {u["email"] for u in users}
    assert len(emails) == 1
    assert {c["firstName"] for c in customers} == {u["first_name"] for u in users}
    if "Email" in komo[0]:  # komo sends profile attributes when the user signed in
        assert {komo[0]["Email"]} == emails


def test_without_a_population_every_coupon_has_its_own_holder():
    komo = [e.body for e in plan_of(KOMO) if e.event_type == "CouponIssued"]
    assert len({b["user_session_id"] for b in komo}) == len(komo)


def test_fixed_fields_are_set_per_coupon():
    events = plan_of("""
        flows:
          - vendor: komo
            coupons: 3
            coupon: {coupon_code: "C-{n:03d}", offer_name: Free pie}
            steps: [CouponIssued]
          - vendor: rebilly
            coupons: 2
            coupon: {coupon_id: "cpn_X_{n}", discount: {type: fixed, amount: 5, currency: EUR}}
            steps: [coupon-issued]
          - vendor: punchh
            coupons: 2
            coupon: {coupon_id: 700, coupon_type: discount, percentage_discount: 20}
            steps: [coupon-issuance-discount]
          - vendor: fabric
            coupon: {coupon_id: 65a1f0c2e4b0a1b2c3d4e5f6, tenant_id: 63a1f0c2e4b0a1b2c3d4e5f6}
            steps: ['offers:coupon:created']
    """)
    komo = sorted(e.body["coupon_code"] for e in events if e.vendor == "komo")
    assert komo == ["C-001", "C-002", "C-003"]
    assert {e.body["offer_name"] for e in events if e.vendor == "komo"} == {"Free pie"}
    rebilly = {
        e.body["couponId"]: e.body["_embedded"]["coupon"] for e in events if e.vendor == "rebilly"
    }
    assert set(rebilly) == {"cpn_X_1", "cpn_X_2"}
    assert rebilly["cpn_X_1"]["discount"] == {
        "type": "fixed",
        "amount": 5,
        "currency": "EUR",
        "context": "items",
    }
    assert rebilly["cpn_X_1"]["description"] == "5 EUR off"
    punchh = sorted(e.body["payload"]["coupon_id"] for e in events if e.vendor == "punchh")
    assert punchh == [700, 701]
    assert {
        e.body["payload"]["applicable_percentage_discount"] for e in events if e.vendor == "punchh"
    } == {20}
    (fabric,) = [e.body for e in events if e.vendor == "fabric"]
    assert fabric["tenantid"] == "63a1f0c2e4b0a1b2c3d4e5f6"
    assert fabric["events"][0]["data"]["id"] == "65a1f0c2e4b0a1b2c3d4e5f6"


def one_event(vendor: str, steps: str, kind: str, options: str = "1") -> list[PlannedEvent]:
    return plan_of(f"""
        flows:
          - vendor: {vendor}
            delay: 1m
            inject: {{{kind}: {options}}}
            steps: {steps}
    """)


def test_duplicate_sends_the_same_body_again_later():
    events = one_event("komo", "[CouponIssued]", "duplicate", "{probability: 1, delay: 20s}")
    original, copy = events
    assert copy.body == original.body
    assert copy.due == original.due + 20
    assert (original.label, copy.label) == ("", "duplicate")


def test_out_of_order_delivers_an_event_after_the_coupons_next_one():
    events = one_event(
        "komo", "[CouponIssued, CouponViewed]", "out_of_order", "{probability: 1, delay: 3s}"
    )
    assert [e.event_type for e in events] == ["CouponViewed", "CouponIssued"]
    assert events[1].label == "out_of_order"
    assert events[1].due == events[0].due + 3
    assert events[1].body["timestamp"] < events[0].body["timestamp"]


def test_late_delays_delivery_but_not_the_timestamp():
    (event,) = one_event(
        "punchh", "[coupon-issuance-unlock]", "late", "{probability: 1, delay: 1h}"
    )
    assert event.due == 3660
    assert event.label == "late"
    assert event.body["timestamp"] == 1768469460  # 09:31:00Z: when it happened


def test_body_mutations_leave_out_null_or_add_fields():
    (komo,) = one_event("komo", "[CouponIssued]", "omit_optional")
    assert not {"user_profile_id", "coupon_code", "competition_entry_id"} & set(komo.body)
    (punchh,) = one_event("punchh", "[coupon-issuance-unlock]", "nullable_null")
    assert punchh.body["payload"]["bar_code"] is None
    assert punchh.body["payload"]["user"]["phone"] is None
    assert punchh.label == "nullable_null"
    (fabric,) = one_event("fabric", "['offers:coupon:created']", "unknown_fields")
    assert mutations.UNKNOWN_FIELD in fabric.body
    assert mutations.UNKNOWN_FIELD in fabric.body["events"][0]["data"]


def test_unknown_event_type_is_an_extra_event_after_the_real_one():
    real, unknown = one_event("rebilly", "[coupon-issued]", "unknown_event_type")
    assert (real.event_type, unknown.event_type) == ("coupon-issued", "coupon-archived")
    assert unknown.body["eventType"] == "coupon-archived"
    assert unknown.label == "unknown_event_type"


def test_broken_requests_come_before_the_event_they_copy():
    events = plan_of(
        """
        flows:
          - vendor: punchh
            inject: [wrong_auth, missing_auth, malformed_json, {}]
            steps: [coupon-issuance-unlock]
    """.replace(", {}", ", oversized")
    )
    wrong, missing, malformed, big, real = events
    assert (wrong.auth, missing.auth, real.auth) == ("wrong", "missing", None)
    assert [e.label for e in events] == [
        "wrong_auth",
        "missing_auth",
        "malformed_json",
        "oversized",
        "",
    ]
    assert {e.due for e in events} == {real.due}
    with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)):
        json.loads(malformed.raw_body)
    assert len(big.raw_body) == inject.DEFAULT_SIZE
    assert json.loads(big.raw_body) == real.body
    assert all(e.body == real.body for e in events)


def test_the_plan_streams_however_many_coupons():
    huge = scenario("""
        flows:
          - {vendor: komo, coupons: 50000000, rate: 100/s, steps: [CouponIssued, CouponViewed]}
    """)
    made = 0
    real = komo.Komo.new_coupon

    def counting(self, ctx):
        nonlocal made
        made += 1
        return real(self, ctx)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(komo.Komo, "new_coupon", counting)
        first = list(itertools.islice(plan(huge), 2000))
    assert len(first) == 2000
    # A bounded look-ahead of coupons was made (their later steps are due later), not 50,000,000.
    assert made <= 20_000, made


def test_edge_case_labels_are_counted_in_expected_events():
    s = scenario("""
        flows:
          - {vendor: komo, coupons: 100, inject: {duplicate: 0.5, wrong_auth: 0.5}, steps: [CouponIssued]}
    """)
    assert s.expected_events() == 200
    counts = Counter(e.label for e in plan(s))
    assert counts[""] == 100
    assert 20 < counts["duplicate"] < 80


def test_two_flows_of_one_vendor_draw_different_coupons():
    events = plan_of("""
        flows:
          - {vendor: komo, name: a, coupons: 5, steps: [CouponIssued]}
          - {vendor: komo, name: b, coupons: 5, steps: [CouponIssued]}
    """)
    assert len({e.body["coupon_id"] for e in events}) == 10
    assert len({e.body["id"] for e in events}) == 10
