"""Retry verdicts on a virtual timeline: each vendor's ladder without a single sleep."""

from __future__ import annotations

import pytest

from emulator.core import catalogue, policy
from emulator.core.policy import DELIVERED, EXHAUSTED, FAILED, PENDING

PUNCHH = catalogue.vendor("punchh").profile
FABRIC = catalogue.vendor("fabric").profile


def timeline(profile, outcomes):
    """Feed outcomes (status int, or "timeout"/"connection") in turn; return the delays and the end."""
    counts: dict[str, int] = {}
    delays = []
    for outcome in outcomes:
        status = outcome if isinstance(outcome, int) else None
        kind = None if isinstance(outcome, int) else outcome
        verdict = policy.judge(profile.retry, profile.is_success, status, kind, counts)
        if verdict.status != PENDING:
            return delays, verdict.status
        delays.append(verdict.delay)
        counts = dict(verdict.retry_counts)
    return delays, PENDING


def test_punchh_5xx_ladder_is_the_documented_seven_steps_then_exhausted():
    delays, end = timeline(PUNCHH, [500] * 8)
    assert delays == [60, 120, 300, 600, 1800, 3600, 7200]
    assert end == EXHAUSTED


def test_punchh_throttling_and_timeouts_share_the_short_ladder():
    delays, end = timeline(PUNCHH, [429, 408, "timeout", 429])
    assert delays == [15, 45, 180]
    assert end == EXHAUSTED


def test_punchh_ladders_advance_independently():
    delays, end = timeline(PUNCHH, [500, 429, 503, 200])
    assert delays == [60, 15, 120]
    assert end == DELIVERED


@pytest.mark.parametrize("status", [204, 201, 301, 302, 400, 404])
def test_punchh_counts_only_200_and_202_and_never_retries_3xx_or_other_4xx(status):
    delays, end = timeline(PUNCHH, [status])
    assert delays == []
    assert end == FAILED


@pytest.mark.parametrize("status", [200, 202])
def test_punchh_success_codes(status):
    assert timeline(PUNCHH, [status]) == ([], DELIVERED)


def test_fabric_gives_the_first_attempt_plus_three_retries():
    delays, end = timeline(FABRIC, [500, 503, "connection", 500])
    assert len(delays) == 3
    assert end == EXHAUSTED


def test_fabric_accepts_any_2xx():
    assert timeline(FABRIC, [204]) == ([], DELIVERED)


def test_an_overridden_ladder_replaces_the_vendors():
    from emulator.core.vendor import RetryRule

    rules = (RetryRule(on=("5xx",), delays=(1, 2)),)
    counts: dict[str, int] = {}
    seen = []
    for _ in range(3):
        v = policy.judge(rules, lambda s: s == 200, 500, None, counts)
        seen.append((v.status, v.delay))
        counts = dict(v.retry_counts)
    assert seen == [(PENDING, 1), (PENDING, 2), (EXHAUSTED, None)]
