"""Small inputs that would cost minutes, gigabytes or a crash are refused with a clear message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emulator.core.errors import ConfigError
from emulator.readers import loader, yamlread
from emulator.readers.scenario_checks import template_problem

FLOW = "flows:\n  - vendor: komo\n    steps: [CouponIssued, {event: CouponViewed, repeat: %s}]\n"


def _load(text: str, **kwargs):
    layers = loader.Layers(targets={"komo": "http://127.0.0.1:9/hooks"})
    return loader.plan(loader.Source.inline(text), layers, start=datetime.now(UTC), **kwargs)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (FLOW % "1000000000", ["steps[1].repeat", "at most 10,000 repetitions"]),
        (FLOW % "0..1000000000", ["steps[1].repeat", "at most 10,000"]),
        ("events:\n  - {vendor: komo, event: CouponIssued, count: 1e12}\n", ["events[0].count"]),
        ("events:\n  - {vendor: komo, event: CouponIssued, count: 200000000}\n",
         ["events[0].count", "at most 100,000,000"]),
        ("flows:\n  - vendor: komo\n    coupons: 100000000\n    steps: [CouponIssued, "
         "{event: CouponViewed, repeat: 100}]\n", ["up to 10,100,000,000 events", "limit"]),
        ("flows:\n  - vendor: komo\n    coupon: {coupon_code: 'X{n:>100000000}'}\n"
         "    steps: [CouponIssued]\n", ["coupon_code", "{n:0Wd}"]),
        ("flows:\n  - vendor: komo\n    coupon: {coupon_code: 'X{n.__class__.__mro__}'}\n"
         "    steps: [CouponIssued]\n", ["coupon_code", "only {n}"]),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", ["nested deeper than 64"]),
        ("a: " + "[" * 100 + "]" * 100 + "\n", ["nested deeper than 64"]),
    ],
    ids=["repeat", "repeat-range", "count-float", "count", "plan-size", "template-width",
         "template-attribute", "deep-recursion", "deep"],
)  # fmt: skip
def test_a_costly_input_is_refused_with_a_message_naming_where(text, fragments):
    with pytest.raises(ConfigError) as caught:
        _load(text)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message


def test_the_plan_size_limit_is_configurable():
    text = "events:\n  - {vendor: komo, event: CouponIssued, count: 50}\n"
    with pytest.raises(ConfigError, match="more than the limit of 10 per run"):
        _load(text, max_events=10)
    assert len(list(_load(text, max_events=50).events)) == 50


@pytest.mark.parametrize("good", ["X-{n}", "X-{n:04d}", "X{n:020d}", "{{literal}}-{n}", "plain"])
def test_coupon_templates_that_are_documented_pass(good):
    assert template_problem(good) is None


@pytest.mark.parametrize("bad", ["{n:021d}", "{n:>9}", "{m}", "{n!r}", "{0}", "{n", "{n:x}"])
def test_other_templates_are_refused(bad):
    assert template_problem(bad) is not None


def test_files_over_the_size_limit_are_refused_after_reading_no_more_than_the_limit(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * yamlread.MAX_FILE_BYTES + b"\n")
    with pytest.raises(ConfigError, match="larger than 10 MB"):
        loader.load(str(big))
    with pytest.raises(ConfigError, match="larger than 10 MB"):
        loader.settings_file("/dev/urandom")


def test_default_flow_names_count_per_vendor():
    text = "flows:\n" + "".join(
        f"  - {{vendor: {v}, steps: [{e}]}}\n"
        for v, e in [("komo", "CouponIssued"), ("fabric", "offers:coupon:created")] * 2
    )
    names = [f.name for f in loader.load(loader.Source.inline(text)).scenario.flows]
    assert names == ["komo", "fabric", "komo-2", "fabric-2"]
