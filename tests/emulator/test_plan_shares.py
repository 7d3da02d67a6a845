"""Shares of a plan (``loader.plan(share=(index, count))``): disjoint by coupon, together the plan."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import pytest

from emulator.core import catalogue, coupons
from emulator.core.plan import PlannedEvent, owner
from emulator.core.values import EPOCH
from emulator.readers import loader

ROOT = Path(__file__).resolve().parents[2]
TARGETS = [f"{slug}=http://127.0.0.1:9/hooks/{slug}" for slug in catalogue.VENDORS]
COUNTS = (1, 2, 3, 5)

# Ties on purpose (fixed delays, several flows at one rate), a population, and one flow with edge
# cases (its coupons share the flow's edge-case stream) beside flows without.
MIXED = textwrap.dedent("""
    seed: 9
    population: {users: 7, offers: 3, sites: 2}
    flows:
      - {vendor: komo, coupons: 25, rate: 1/s, delay: 1s, steps: [CouponIssued, CouponViewed, CouponViewed]}
      - vendor: punchh
        coupons: 20
        rate: 1/s
        delay: 1s
        inject: {duplicate: 0.3, late: 0.2, out_of_order: 0.3, wrong_auth: 0.1}
        steps: [coupon-issuance-unlock, coupon-redemption]
      - {vendor: fabric, coupons: 16, rate: 2/s, delay: 1s..3s, steps: ['offers:coupon:created', 'offers:coupon:deleted']}
      - {vendor: rebilly, coupons: 9, spread: 10s, steps: [coupon-issued, {event: coupon-modified, repeat: 1..3}]}
""")


def shipped(slug: str) -> list[tuple[str, tuple[int, ...]]]:
    """The vendor's shipped scenarios, and the share counts tried (edge cases plan slowly)."""
    folder = ROOT / "scenarios"
    return [(str(folder / f"{slug}.yaml"), (2, 3)), (str(folder / f"{slug}-edge-cases.yaml"), (2,))]


def event_list(directory: Path, slug: str) -> str:
    """Every event type of ``slug``, a few of each: each event about a coupon of its own."""
    lines = ["seed: 4", "events:"]
    lines += [f"  - {{vendor: {slug}, event: '{et.name}', count: 4}}" for et in catalogue.event_types(slug)]  # fmt: skip
    path = directory / f"{slug}-events.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def planned(path: str, share: tuple[int, int] | None = None) -> list[PlannedEvent]:
    layers = loader.layers(None, TARGETS)
    return list(loader.plan(path, layers, start=EPOCH, share=share).events)


def numbers(path: str) -> dict[str, int]:
    """Each coupon key's number in the whole plan: a scenario's flows one after another, or an
    event list's events in turn (each its own coupon)."""
    loaded = loader.load(path, env={})
    if loaded.scenario is None:
        return {}  # an event list's keys are "<vendor>:<n>" already
    first, out = 0, {}
    for flow in loaded.scenario.flows:
        out[flow.name] = first
        first += flow.coupons
    return out


def number(key: str, firsts: dict[str, int]) -> int:
    prefix, _, n = key.rpartition(":")
    return firsts[prefix] + int(n) - 1 if firsts else int(n)


def as_key(event: PlannedEvent) -> tuple:
    return (event.vendor, event.event_type, event.coupon_key, repr(event.body), event.due,
            event.label, event.raw_body, event.auth)  # fmt: skip


def check_shares(path: str, counts: tuple[int, ...] = COUNTS) -> None:
    whole = planned(path)
    firsts = numbers(path)
    assert whole, path
    for count in counts:
        shares = [planned(path, (index, count)) for index in range(count)]
        # Together: the whole plan, each event exactly once.
        together = Counter(as_key(e) for share in shares for e in share)
        assert together == Counter(as_key(e) for e in whole), (path, count)
        for index, share in enumerate(shares):
            # Each share: exactly its coupons' events, in the plan's own order (so each coupon's
            # life keeps its order), and no coupon of another share.
            mine = [e for e in whole if owner(number(e.coupon_key, firsts), count) == index]
            assert [as_key(e) for e in share] == [as_key(e) for e in mine], (path, count, index)
        keys = [{e.coupon_key for e in share} for share in shares]
        assert sum(map(len, keys)) == len(set().union(*keys)), "a coupon in two shares"
        if count > 1:
            assert all(shares), f"{path}: a share of {count} is empty"


@pytest.mark.parametrize("slug", catalogue.VENDORS)
def test_the_shares_of_every_vendors_scenarios_are_together_the_plan(slug):
    for path, counts in shipped(slug):
        check_shares(path, counts)


@pytest.mark.parametrize("slug", catalogue.VENDORS)
def test_the_shares_of_an_event_list_are_together_the_plan(slug, tmp_path):
    check_shares(event_list(tmp_path, slug))


def test_shares_of_flows_with_ties_a_population_and_edge_cases(tmp_path):
    path = tmp_path / "mixed.yaml"
    path.write_text(MIXED)
    whole = planned(str(path))
    assert any(e.label for e in whole)  # edge cases were injected
    dues = [e.due for e in whole]
    assert len(dues) != len(set(dues))  # and there are ties to break
    check_shares(str(path))


def test_a_share_makes_only_its_own_coupons_unless_a_flow_injects_edge_cases(tmp_path, monkeypatch):
    """Without edge cases a share never makes another share's coupon; with them (one edge-case
    stream per flow, drawn in plan order) it makes every coupon of that flow but keeps its own."""
    path = tmp_path / "mixed.yaml"
    path.write_text(MIXED)
    made: Counter[str] = Counter()
    personalise = coupons.Holders.personalise

    def counting(self, slug, coupon, rng):
        made[slug] += 1
        return personalise(self, slug, coupon, rng)

    monkeypatch.setattr(coupons.Holders, "personalise", counting)
    events = planned(str(path), (1, 3))
    # Numbered across flows: komo 0-24, punchh 25-44, fabric 45-60, rebilly 61-69; share 1 of 3
    # holds those with number % 3 == 1.
    assert made == {"komo": 8, "punchh": 20, "fabric": 5, "rebilly": 3}
    assert {e.vendor for e in events} == {"komo", "punchh", "fabric", "rebilly"}
    assert len({e.coupon_key for e in events if e.vendor == "punchh"}) == 7


def test_a_share_that_does_not_exist_is_refused(tmp_path):
    path = event_list(tmp_path, "komo")
    for share in [(2, 2), (-1, 2), (0, 0)]:
        with pytest.raises(ValueError, match="does not exist"):
            planned(path, share)
