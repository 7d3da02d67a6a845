"""Plans for load runs, and how they split between workers: no Locust needed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from emulator.core import catalogue
from emulator.core.errors import ConfigError
from emulator.core.plan import simple_plan
from emulator.delivery.runner import envelopes
from emulator.loadgen.share import Request, prepare
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


def requests_of(plan_file, count, **options):
    return [prepare(load_plan(plan_file, **options), i, count) for i in range(count)]


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
def test_shares_are_disjoint_and_together_are_the_requests_run_would_send(plan_file, count):
    source = load_plan(plan_file)
    whole = list(envelopes(source.events, source.settings, 0.0))
    shares = requests_of(plan_file, count)
    assert {s.fingerprint for s in shares} == {shares[0].fingerprint}
    assert all((s.deliveries, s.events) == (len(whole), 55) for s in shares)
    for i, share in enumerate(shares):
        assert [r.body for r in share.requests] == [d.body for d in whole[i::count]]
        assert [r.dedupe_keys for r in share.requests] == [d.dedupe_keys for d in whole[i::count]]
    fabric = [r for s in shares for r in s.requests if r.vendor == "fabric"]
    assert sorted(r.events for r in fabric) == [2, 3, 7, 7, 7, 7]  # the batches, whoever sends them
    events = load_plan(plan_file).events
    planned = [k for e in events for k in catalogue.vendor(e.vendor).dedupe_keys(e.body)]
    sent = [k for s in shares for r in s.requests for k in r.dedupe_keys]
    assert sorted(sent) == sorted(planned)
    assert sum(s.share_events for s in shares) == 55


def test_the_fingerprint_tells_another_plan_or_another_target_apart(plan_file):
    base = requests_of(plan_file, 1)[0].fingerprint
    assert requests_of(plan_file, 2)[1].fingerprint == base
    assert requests_of(plan_file, 1, seed=3)[0].fingerprint != base
    moved = requests_of(plan_file, 1, targets=["komo=http://127.0.0.1:9/elsewhere"])[0]
    assert moved.fingerprint != base


def test_a_share_that_does_not_exist_is_refused(plan_file):
    with pytest.raises(ValueError, match="share 2 of 2 does not exist"):
        prepare(load_plan(plan_file), 2, 2)


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
    [share] = requests_of(plan_file, 1)
    assert {r.name for r in share.requests} == {
        "komo CouponIssued",
        "fabric offers:coupon:created",
        "rebilly coupon-redeemed",
        "fabric offers:coupon:updated",
        "punchh coupon-redemption",
    }
    labelled = Request("punchh", "coupon-redemption", b"{}", ("k",), "duplicate")
    assert labelled.name == "punchh coupon-redemption [duplicate]"
