"""Plans for load runs, and how they split between workers (by coupon): no Locust needed."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections import Counter

import pytest

from emulator.core import catalogue, coupons
from emulator.core.errors import ConfigError
from emulator.core.plan import owner, simple_plan
from emulator.delivery.runner import envelopes
from emulator.loadgen.share import Request, fingerprint, requests
from emulator.loadgen.source import PLAN_START, load_plan
from tests.emulator.loadgen.conftest import write_plan

ITEMS = [
    ("komo", "CouponIssued", 9),
    ("fabric", "offers:coupon:created", 30),  # batches of 7: 7, 7, 7, 7, 2
    ("rebilly", "coupon-redeemed", 5),
    ("fabric", "offers:coupon:updated", 3),
    ("punchh", "coupon-redemption", 8),
]


@pytest.fixture
def plan_file(tmp_path):
    return str(write_plan(tmp_path, "http://127.0.0.1:9", ITEMS, seed=11))


def shares_of(plan_file, count, **options):
    """Each share's requests, as a worker of ``count`` makes them."""
    return [list(requests(load_plan(plan_file, share=(i, count), **options))) for i in range(count)]


def test_the_plan_is_runs_plan_dated_from_a_fixed_start(plan_file):
    source = load_plan(plan_file)
    assert source.seed == 11  # the file's own
    planned = list(source.events)
    items = [(v, e, n, 0.0) for v, e, n in ITEMS]
    expected = list(simple_plan(items, 11, PLAN_START, extras={"timestamp_unit": "s"}))
    assert [p.body for p in planned] == [p.body for p in expected]
    again = [p.body for p in load_plan(plan_file).events]
    assert again == [p.body for p in planned]  # no clock, no global randomness
    assert [p.body for p in load_plan(plan_file, seed=12).events] != again


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_shares_are_disjoint_by_coupon_and_together_send_every_planned_event(plan_file, count):
    whole = list(load_plan(plan_file).events)
    shares = shares_of(plan_file, count)
    for index, share in enumerate(shares):
        # Event ``n`` of an event list is coupon ``n``: this share's events, in plan order, in
        # the envelopes ``run`` would make of them (fabric batched by 7).
        mine = [e for e in whole if owner(int(e.coupon_key.rpartition(":")[2]), count) == index]
        source = load_plan(plan_file)
        expected = list(envelopes(iter(mine), source.settings, 0.0))
        assert [r.body for r in share] == [d.body for d in expected]
        assert [r.dedupe_keys for r in share] == [d.dedupe_keys for d in expected]
        if count > 1:
            assert share, f"share {index} of {count} is empty"
    planned = [k for e in whole for k in catalogue.vendor(e.vendor).dedupe_keys(e.body)]
    sent = [k for share in shares for r in share for k in r.dedupe_keys]
    assert Counter(sent) == Counter(planned)  # every event once, whoever sends it
    assert len(planned) == 55
    if count == 1:  # one share is the whole plan: the very requests run sends
        source = load_plan(plan_file)
        run = list(envelopes(source.events, source.settings, 0.0))
        assert [r.body for r in shares[0]] == [d.body for d in run]
        fabric = [r.events for r in shares[0] if r.vendor == "fabric"]
        assert sorted(fabric) == [2, 3, 7, 7, 7, 7]


def test_a_share_is_planned_as_it_is_taken_not_before(tmp_path, monkeypatch):
    """Taking a share's first request of a large plan makes only the first few coupons."""
    path = tmp_path / "big.yaml"
    path.write_text(
        "seed: 2\nvendors:\n  komo: {target: 'http://127.0.0.1:9/k'}\n"
        "flows:\n  - {vendor: komo, coupons: 1000000, rate: 10/s, delay: 1s, steps: [CouponIssued, CouponViewed]}\n"
    )
    made = Counter()
    personalise = coupons.Holders.personalise

    def counting(self, slug, coupon, rng):
        made[slug] += 1
        return personalise(self, slug, coupon, rng)

    monkeypatch.setattr(coupons.Holders, "personalise", counting)
    stream = requests(load_plan(str(path), share=(1, 2)))
    assert made["komo"] == 0  # nothing planned before a request is asked for
    first = list(itertools.islice(stream, 3))
    assert len(first) == 3
    assert 0 < made["komo"] < 50  # those begun within about a second: 10 a second, half of them


def test_the_fingerprint_is_every_shares_and_tells_another_plan_or_target_apart(
    plan_file, tmp_path
):
    base = fingerprint(load_plan(plan_file))
    assert fingerprint(load_plan(plan_file, share=(1, 2))) == base
    assert fingerprint(load_plan(plan_file, share=(4, 5))) == base
    assert fingerprint(load_plan(plan_file, seed=3)) != base
    moved = load_plan(plan_file, targets=["komo=http://127.0.0.1:9/elsewhere"])
    assert fingerprint(moved) != base
    other = tmp_path / "other" / "plan.yaml"
    other.parent.mkdir()
    with open(plan_file) as fh:
        other.write_text(fh.read().replace('"count": 9', '"count": 10'))
    assert fingerprint(load_plan(str(other))) != base


def test_a_share_that_does_not_exist_is_refused(plan_file):
    with pytest.raises(ValueError, match="share 2 of 2 does not exist"):
        load_plan(plan_file, share=(2, 2))


def test_a_vendor_without_a_target_is_named_with_the_file(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("events:\n  - {vendor: komo, event: CouponIssued}\n")
    with pytest.raises(ConfigError, match=r"p\.yaml.*no komo target is set"):
        load_plan(str(path))


def test_targets_and_a_settings_file_merge_over_the_file(plan_file, tmp_path):
    extra = tmp_path / "settings.yaml"
    extra.write_text("vendors:\n  rebilly: {target: 'http://127.0.0.1:9/r', auth: {type: none}}\n")
    source = load_plan(plan_file, config_path=str(extra), targets=["komo=http://127.0.0.1:9/k"])
    assert source.settings.vendors["komo"].url == "http://127.0.0.1:9/k"
    assert source.settings.vendors["rebilly"].auth.type == "none"
    assert source.settings.vendors["punchh"].auth.type == "hmac-sha256"


def test_the_loadgen_modules_and_the_cli_never_import_locust_or_gevent():
    code = (
        "import sys\n"
        "import emulator.cli, emulator.loadgen, emulator.cli.load_command, emulator.loadgen.source, "
        "emulator.loadgen.share\n"
        "emulator.cli.build_parser()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent'))\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_requests_are_named_by_vendor_and_event_type_and_any_injected_label(plan_file):
    [share] = shares_of(plan_file, 1)
    assert {r.name for r in share} == {
        "komo CouponIssued",
        "fabric offers:coupon:created",
        "rebilly coupon-redeemed",
        "fabric offers:coupon:updated",
        "punchh coupon-redemption",
    }
    labelled = Request("punchh", "coupon-redemption", b"{}", ("k",), "duplicate")
    assert labelled.name == "punchh coupon-redemption [duplicate]"
