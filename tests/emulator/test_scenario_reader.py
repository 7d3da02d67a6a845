"""Reading scenario files: what each key becomes, and how each mistake is reported."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest

from emulator.core.errors import ConfigError
from emulator.core.scenario import DEFAULT_DELAY, Rule, Span
from emulator.readers.scenario_reader import parse


def read(text: str, env: dict[str, str] | None = None):
    return parse(textwrap.dedent(text), source="s.yaml", env=env or {}, name="file-stem")


def error(text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        read(text, env)
    return str(info.value)


def test_a_scenario_wide_edge_case_the_schemas_rule_out_is_dropped_for_that_vendor():
    loaded = read(
        """
        inject: {omit_optional: 0.3, duplicate: 0.1}
        flows:
          - {vendor: fabric, steps: ['offers:coupon:created']}
          - {vendor: komo, steps: [CouponIssued]}
        """
    )
    fabric, komo = loaded.scenario.flows
    assert set(fabric.steps[0].inject) == {"duplicate"}  # no fabric schema has an optional field
    assert set(komo.steps[0].inject) == {"duplicate", "omit_optional"}


def test_a_minimal_scenario_takes_the_defaults():
    loaded = read("flows: [{vendor: komo, steps: [CouponIssued]}]")
    s = loaded.scenario
    assert (s.name, s.seed, s.start, dict(s.population)) == ("file-stem", 0, None, {})
    (flow,) = s.flows
    assert (flow.name, flow.vendor, flow.coupons, flow.start, flow.rate, flow.spread) == (
        "komo", "komo", 1, 0.0, None, None,
    )  # fmt: skip
    assert flow.delay == DEFAULT_DELAY
    assert flow.steps[0].events == ("CouponIssued",)
    assert loaded.vendors == ("komo",)
    assert loaded.settings.vendors == {}


def test_every_key_of_a_full_scenario():
    loaded = read(
        """
        name: full
        description: all of it
        seed: ${SEED}
        start: 2026-03-01T12:00:00Z
        population: {users: 10, offers: 2, sites: 1}
        time_scale: 0.5
        vendors:
          punchh: {target: "${URL:-http://127.0.0.1:9/p}", auth: {type: bearer, token: "${TOKEN}"}}
        inject: {duplicate: 0.5, omit_optional: 0.3}
        flows:
          - name: first
            vendor: komo
            coupons: 3
            start: 1m
            rate: 600/m
            delay: 1s..1h
            coupon: {coupon_code: "C-{n:03d}", offer_name: Free}
            inject: [late]
            steps:
              - CouponIssued
              - {event: CouponViewed, repeat: 0..3, rate: 2/h}
              - one_of: {CouponRedemptionSuccess: 3, CouponRedemptionError: 1}
                probability: 0.5
                otherwise: end
                delay: 250ms
                inject: {duplicate: {probability: 0, delay: 1m..2m}, oversized: {size: 2MiB}}
          - vendor: komo
            spread: 2h
            steps: [{one_of: [CouponIssued]}]
          - vendor: punchh
            coupon: {coupon_id: 1000, coupon_type: discount, flat_discount: 2.5}
            steps: [coupon-issuance-discount]
    """,
        env={"SEED": "42", "TOKEN": "t0k"},
    )
    s = loaded.scenario
    assert (s.name, s.description, s.seed) == ("full", "all of it", 42)
    assert s.start == datetime(2026, 3, 1, 12, tzinfo=UTC)
    assert dict(s.population) == {"users": 10, "offers": 2, "sites": 1}
    first, second, third = s.flows
    assert (first.name, first.coupons, first.start, first.rate) == ("first", 3, 60.0, 10.0)
    assert first.delay == Span(1.0, 3600.0)
    assert dict(first.fixed) == {"coupon_code": "C-{n:03d}", "offer_name": "Free"}
    issued, viewed, redeemed = first.steps
    # Scenario-wide rules reach every step; komo has optional fields, so omit_optional stays.
    assert dict(issued.inject) == {
        "duplicate": Rule(0.5), "omit_optional": Rule(0.3), "late": Rule(1.0),
    }  # fmt: skip
    assert (viewed.repeat, viewed.rate, viewed.delay) == ((0, 3), 2 / 3600, None)
    assert redeemed.events == ("CouponRedemptionSuccess", "CouponRedemptionError")
    assert redeemed.weights == (3.0, 1.0)
    assert (redeemed.probability, redeemed.otherwise, redeemed.delay) == (
        0.5,
        "end",
        Span(0.25, 0.25),
    )
    assert redeemed.inject["duplicate"] == Rule(0.0, Span(60.0, 120.0))
    assert redeemed.inject["oversized"] == Rule(1.0, size=2 * 1024 * 1024)
    assert (second.name, second.spread) == ("komo-2", 7200.0)
    # punchh's schemas leave nested fields optional (user, redeemable): omit_optional applies.
    assert "omit_optional" in third.steps[0].inject
    assert dict(third.fixed) == {"coupon_id": 1000, "coupon_type": "discount", "flat_discount": 2.5}
    assert loaded.settings.time_scale == 0.5
    assert loaded.settings.vendors["punchh"].url == "http://127.0.0.1:9/p"
    assert loaded.raw_settings["vendors"]["punchh"]["auth"]["token"] == "${TOKEN}"
    assert "flows" not in loaded.raw_settings
    assert loaded.vendors == ("komo", "punchh")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "flows: [{vendor: komo, steps: [CouponIssued]}]\nscenario: x\n",
            "s.yaml:2:1: scenario: unknown key 'scenario'; known keys: vendors, time_scale, "
            "links_base, ordering, name, description, seed, start, population, inject, flows",
        ),
        ("name: x\n", "s.yaml:1:1: flows: required: a list of flows"),
        ("flows: []\n", "s.yaml:1:8: flows: expected at least one flow"),
        (
            "flows: [{vendor: komoo, steps: [CouponIssued]}]",
            "s.yaml:1:18: flows[0].vendor: unknown vendor 'komoo'; valid: komo, fabric, rebilly, "
            "punchh. Did you mean 'komo'?",
        ),
        (
            "flows:\n  - vendor: komo\n    steps: [CouponIssued, CouponRedeemed]\n",
            "s.yaml:3:27: flows[0].steps[1]: unknown komo event type 'CouponRedeemed'; valid: "
            "CouponIssued, CouponViewed, CouponRedemptionSuccess, CouponRedemptionError",
        ),
        (
            "flows:\n  - vendor: komo\n    steps:\n      - CouponViewed\n",
            "s.yaml:4:9: flows[0].steps[0]: komo does not allow CouponViewed when the coupon is "
            "new; valid next steps: CouponIssued",
        ),
        (
            "flows:\n  - vendor: fabric\n    steps:\n      - offers:coupon:created\n"
            "      - {event: offers:coupon:disabled, repeat: 2}\n",
            "s.yaml:5:17: flows[0].steps[1].event: repetition 2 of this step: fabric does not allow "
            "offers:coupon:disabled when the coupon is disabled, scheduled (not active), without a "
            "code; valid next steps:",
        ),
        (
            "flows:\n  - vendor: komo\n    steps:\n      - {event: CouponIssued, probability: 0.5}\n"
            "      - CouponViewed\n",
            "s.yaml:5:9: flows[0].steps[1]: komo does not allow CouponViewed when the coupon is new;"
            " valid next steps: CouponIssued (the coupon can be in that state here because an "
            "earlier step is optional, repeated or a choice)",
        ),
        (
            "flows:\n  - vendor: punchh\n    steps:\n      - coupon-issuance-unlock\n"
            "      - one_of: [coupon-redemption, coupon-void]\n      - coupon-void\n",
            "s.yaml:6:9: flows[0].steps[2]: punchh does not allow coupon-void when the coupon is "
            "honored, and nothing may follow; remove this step",
        ),
        (
            "flows: [{vendor: komo, steps: [{event: CouponIssued, probability: 1.5}]}]",
            "s.yaml:1:67: flows[0].steps[0].probability: expected a probability from above 0 to 1 "
            "(0.25 is one in four), got 1.5",
        ),
        (
            "flows: [{vendor: komo, steps: [{event: CouponIssued, probability: 0}]}]",
            "got 0",
        ),
        (
            "flows: [{vendor: komo, steps: [{event: CouponIssued, otherwise: end}]}]",
            "flows[0].steps[0].otherwise: otherwise applies only to a step with probability below 1",
        ),
        (
            "flows: [{vendor: komo, steps: [{event: CouponIssued, delay: 1s, rate: 1/s}]}]",
            "flows[0].steps[0].rate: give delay (a fixed or ranged wait) or rate (random gaps), not both",
        ),
        (
            "flows: [{vendor: komo, rate: 1/s, spread: 1h, steps: [CouponIssued]}]",
            "flows[0].spread: give rate (coupons start 1/rate apart) or spread (over a window), not both",
        ),
        (
            "flows: [{vendor: komo, delay: 5 minutes, steps: [CouponIssued]}]",
            "flows[0].delay: expected a duration (90, 250ms, 30s, 5m, 2h, 1d) or a range (1m..1h), "
            "got '5 minutes'",
        ),
        (
            "flows: [{vendor: komo, delay: 1h..1m, steps: [CouponIssued]}]",
            "the range '1h..1m' ends before it starts",
        ),
        (
            "flows: [{vendor: komo, rate: fast, steps: [CouponIssued]}]",
            "expected a rate (10/s, 600/m, 5/h, 2/d)",
        ),
        (
            "flows: [{vendor: komo, steps: [{event: CouponIssued, repeat: 0}]}]",
            "expected a count of at least 1 (3) or a range (0..3), got 0",
        ),
        (
            "flows: [{vendor: komo, steps: [{one_of: [], repeat: 1}]}]",
            "flows[0].steps[0].one_of: expected at least one event type",
        ),
        (
            "flows: [{vendor: komo, steps: [{event: CouponIssued, one_of: [CouponIssued]}]}]",
            "give event (one event type) or one_of",
        ),
        (
            "flows: [{steps: [CouponIssued]}]",
            "flows[0].vendor: required: the vendor of this flow's coupons",
        ),
        ("flows: [{vendor: komo}]", "flows[0].steps: required: the events of each coupon's life"),
        (
            "flows:\n  - {vendor: komo, name: a, steps: [CouponIssued]}\n  - {vendor: komo, name: a, steps: [CouponIssued]}\n",
            "s.yaml:3:5: flows[1].name: flows[0] is also named 'a'; flow names key their coupons and must be unique",
        ),
        (
            "flows: [{vendor: komo, name: 'a b', steps: [CouponIssued]}]",
            "expected a name without spaces or ':'",
        ),
        (
            "start: 2026-01-01T00:00:00\nflows: [{vendor: komo, steps: [CouponIssued]}]",
            "start: expected an ISO 8601 time with a zone",
        ),
        (
            "seed: seven\nflows: [{vendor: komo, steps: [CouponIssued]}]",
            "seed: expected a whole number, got 'seven'",
        ),
        (
            "population: {people: 3}\nflows: [{vendor: komo, steps: [CouponIssued]}]",
            "population.people: unknown key 'people'; known keys: users, offers, sites",
        ),
        (
            "flows: [{vendor: komo, inject: {duplicates: 0.1}, steps: [CouponIssued]}]",
            "flows[0].inject.duplicates: unknown edge case 'duplicates'; valid: duplicate, out_of_order",
        ),
        (
            "flows: [{vendor: komo, inject: {wrong_auth: {probability: 0.1, delay: 1s}}, steps: [CouponIssued]}]",
            "flows[0].inject.wrong_auth.delay: unknown key 'delay'; known keys: probability",
        ),
        (
            "flows: [{vendor: fabric, inject: [omit_optional], steps: ['offers:coupon:created']}]",
            "flows[0].inject.omit_optional: fabric sends every documented field, so no optional field "
            "can be omitted; remove omit_optional here",
        ),
        (
            "flows: [{vendor: komo, inject: {late: 2}, steps: [CouponIssued]}]",
            "flows[0].inject.late: expected a probability from 0 to 1",
        ),
        (
            "flows: [{vendor: komo, inject: {oversized: {size: huge}}, steps: [CouponIssued]}]",
            "expected a size in bytes (2000000) or with a unit",
        ),
        (
            "flows: [{vendor: rebilly, coupons: 2, coupon: {coupon_id: cpn_SAME}, steps: [coupon-issued]}]",
            "flows[0].coupon.coupon_id: every coupon of this flow would get the same coupon_id; add {n}",
        ),
        (
            "flows: [{vendor: komo, coupons: 2, coupon: {coupon_id: 0b9c6b2e-3a9d-4a58-9c1c-1f0e7a0d5c11}, steps: [CouponIssued]}]",
            "every coupon of this flow would get the same coupon_id; fix it only with coupons: 1",
        ),
        (
            "flows: [{vendor: komo, coupon: {coupon_id: not-a-uuid}, steps: [CouponIssued]}]",
            "flows[0].coupon.coupon_id: expected a UUID, got 'not-a-uuid'",
        ),
        (
            "flows: [{vendor: rebilly, coupons: 100, coupon: {coupon_id: 'cpn_{n}_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'}, steps: [coupon-issued]}]",
            "flows[0].coupon.coupon_id: at most 50 characters, got 52",
        ),
        (
            "flows: [{vendor: fabric, coupon: {coupon_code: 'A-{x}'}, steps: ['offers:coupon:created']}]",
            "only {n} (the coupon's number in the flow, from 1) may stand in braces",
        ),
        (
            "flows: [{vendor: punchh, coupon: {coupon_type: discount}, steps: [coupon-issuance-unlock]}]",
            "flows[0].coupon.coupon_type: coupon_type discount contradicts the step coupon-issuance-unlock; "
            "issue with coupon-issuance-discount",
        ),
        (
            "flows: [{vendor: rebilly, coupon: {discount: {type: fixed, amount: 5}}, steps: [coupon-issued]}]",
            "flows[0].coupon.discount.currency: required for a fixed discount",
        ),
        (
            "flows: [{vendor: rebilly, coupon: {discount: {type: percent, value: 150}}, steps: [coupon-issued]}]",
            "flows[0].coupon.discount.value: expected at most 100, got 150",
        ),
        (
            "flows: [{vendor: komo, coupon: {code: X}, steps: [CouponIssued]}]",
            "flows[0].coupon.code: unknown key 'code'; known keys: coupon_id, coupon_code",
        ),
        (
            "vendors:\n  komo: {auth: {type: none}}\nflows: [{vendor: komo, steps: [CouponIssued]}]\n",
            "s.yaml:2:9: vendors.komo.target: required: the consumer URL",
        ),
        (
            "flows: [{vendor: komo, coupons: '${N}', steps: [CouponIssued]}]",
            "environment variable N is not set",
        ),
        ("flows: [{vendor: komo, steps: [CouponIssued]}\n", "s.yaml:2:1: YAML syntax error"),
        ("", "s.yaml: the scenario is empty"),
    ],
)
def test_each_mistake_names_the_place_and_what_is_valid(text, message):
    assert message in error(text)


def test_a_range_and_an_expanded_number_read_like_literals():
    s = read(
        "flows: [{vendor: komo, coupons: '${N}', steps: [CouponIssued, {event: CouponViewed, "
        "repeat: '${R}'}]}]",
        env={"N": "12", "R": "2..5"},
    ).scenario
    assert s.flows[0].coupons == 12
    assert s.flows[0].steps[1].repeat == (2, 5)


def test_expected_events_counts_probabilities_repeats_and_endings():
    s = read("""
        flows:
          - vendor: komo
            coupons: 10
            steps:
              - CouponIssued                                   # 1
              - {event: CouponViewed, repeat: 0..4}            # 2 on average
              - {event: CouponRedemptionError, probability: 0.5, otherwise: end}   # 0.5
              - {event: CouponRedemptionSuccess}               # reached half the time: 0.5
    """).scenario
    assert s.expected_events() == pytest.approx(10 * (1 + 2 + 0.5 + 0.5))
