"""Planning on several processes: the same bytes as one process, workers stopped when done."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from emulator.cli.scenario_commands import line
from emulator.core.scenario import plan
from emulator.readers import forked, loader, planning
from emulator.readers.loader import Source
from emulator.readers.scenario_reader import parse
from tests.children import no_children_left

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not forked.available(), reason="workers are forked on Linux only")

# Ties on purpose: fixed delays put events of different flows at the very same due time.
TIES = textwrap.dedent("""
    seed: 5
    inject: {duplicate: 0.2, late: {probability: 0.1, delay: 2s}}
    flows:
      - {vendor: komo, coupons: 30, rate: 1/s, delay: 1s, steps: [CouponIssued, CouponViewed, CouponViewed]}
      - {vendor: punchh, coupons: 30, rate: 1/s, delay: 1s, steps: [coupon-issuance-unlock, coupon-redemption]}
      - {vendor: fabric, coupons: 20, rate: 2/s, delay: 1s, steps: ['offers:coupon:created', 'offers:coupon:deleted']}
      - {vendor: rebilly, coupons: 10, spread: 10s, steps: [coupon-issued, coupon-modified]}
""")


def test_any_number_of_jobs_gives_the_same_lines_even_with_ties():
    scenario = parse(TIES, source="t.yaml", env={}).scenario
    one = list(planning.lines(scenario, line, jobs=1))
    dues = [float(text.split('"due":')[1].split(",")[0]) for text in one]
    assert len(dues) != len(set(dues))  # there are ties to break
    for jobs in (2, 3, 4):
        assert list(planning.lines(scenario, line, jobs=jobs)) == one


@pytest.mark.parametrize("jobs", [2, 3, 4])
def test_a_runs_events_planned_by_workers_are_the_plan_of_one_process(jobs):
    """What ``run`` and ``resume`` store of a large scenario: every field of every event (edge
    cases, labels, raw bodies, ties included), in the same order, whatever the job count."""
    scenario = parse(TIES, source="t.yaml", env={}).scenario
    one = list(plan(scenario, links_base="http://x.test/"))
    assert any(e.label for e in one)
    got = planning.events(scenario, links_base="http://x.test/", jobs=jobs)
    first = next(got)
    assert not no_children_left()  # the workers are processes of their own
    assert [first, *got] == one
    assert no_children_left()


def test_a_large_scenario_is_planned_on_every_core_by_run():
    """The loader offers ``run`` the parallel form of a scenario from PARALLEL_FROM events on,
    and it plans what the plain form does."""
    targets = "vendors:\n" + "".join(
        f"  {v}: {{target: 'http://127.0.0.1:9/{v}'}}\n"
        for v in ("komo", "punchh", "fabric", "rebilly")
    )
    small = targets + TIES
    big = small.replace("coupons: 30", f"coupons: {planning.PARALLEL_FROM}")
    start = datetime(2026, 5, 1, tzinfo=UTC)
    assert loader.plan(Source.inline(small), start=start).spread is None
    large = loader.plan(Source.inline(big), start=start)
    assert large.spread is not None
    spread = large.spread(2)
    assert list(itertools.islice(spread, 3000)) == list(itertools.islice(large.events, 3000))
    spread.close()
    assert no_children_left()


def test_flows_are_shared_out_by_cost():
    scenario = parse(TIES, source="t.yaml", env={}).scenario
    groups = planning.groups(scenario, 2)
    assert sorted(i for g in groups for i in g) == [0, 1, 2, 3]
    assert len(groups) == 2
    assert sorted(planning.groups(scenario, 10)) == [[0], [1], [2], [3]]


def test_stopping_early_stops_the_workers():
    scenario = parse(
        TIES.replace("coupons: 30", "coupons: 300000"), source="t.yaml", env={}
    ).scenario
    texts = planning.lines(scenario, line, jobs=2)
    assert len(list(itertools.islice(texts, 100))) == 100
    assert not no_children_left()
    texts.close()
    assert no_children_left()


def test_a_failing_worker_fails_the_plan_with_its_own_error(monkeypatch):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("planned to fail")

    monkeypatch.setattr(planning, "plan", broken)  # the forked workers inherit it
    scenario = parse(TIES, source="t.yaml", env={}).scenario
    with pytest.raises(ZeroDivisionError, match="planned to fail"):  # as with one process
        list(planning.lines(scenario, line, jobs=2))
    assert no_children_left()


def test_the_generation_benchmark_runs_and_prints_both_sides():
    result = subprocess.run(
        [sys.executable, "benchmarks/generation.py", "--events", "3000", "--baseline-events", "200"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "coupon-emulator plan" in out
    assert "baseline: Faker for each field" in out
    assert "events/s" in out
    assert "the events per second" in out
