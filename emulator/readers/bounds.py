"""Bounds on what a document may ask for: times, waits and sizes (a value past them would overflow
a date or exhaust memory at run time) and the events a plan may hold (so a 100-byte file cannot
cost hours); each is refused where it is written."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from emulator.core.errors import ConfigError

if TYPE_CHECKING:
    import yaml

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
MAX_SECONDS = 365 * 86400.0  # any one wait: a delay, a spread, a retry delay, a timeout
MAX_SECONDS_TEXT = "365 days (31536000 s)"
MAX_BODY_BYTES = 64 * 2**20  # an ``oversized`` body: 4 x the 16 MiB default, under SQLite's cap
MAX_BODY_TEXT = "64MiB"


def instant_problem(value: datetime) -> str | None:
    """Why ``value`` is out of bounds (None when it is not)."""
    if EARLIEST <= value <= LATEST:
        return None
    return (
        f"{value.isoformat()} is out of range: expected a time from "
        f"{EARLIEST:%Y-%m-%dT%H:%M:%SZ} to {LATEST:%Y-%m-%dT%H:%M:%SZ}"
    )


def seconds(reader: Any, node: yaml.Node, path: str, value: float) -> float:
    """``value`` seconds, or a located error if it is longer than any one wait may be."""
    if value > MAX_SECONDS:
        raise reader.fail(
            node, path, f"{value:g} s is too long: expected at most {MAX_SECONDS_TEXT}"
        )
    return value


def body_size(reader: Any, node: yaml.Node, path: str, value: int) -> int:
    """``value`` bytes, or a located error if a body that large could not be built and stored."""
    if value > MAX_BODY_BYTES:
        raise reader.fail(
            node, path, f"{value} bytes is too large: expected at most {MAX_BODY_TEXT} "
            f"({MAX_BODY_BYTES} bytes)",
        )  # fmt: skip
    return value


# The most events a plan may hold.
MAX_EVENTS_VAR = "COUPON_EMULATOR_MAX_EVENTS"
DEFAULT_MAX_EVENTS = 100_000_000


def most_events(loaded: Any) -> int:
    """The most events ``loaded`` (``emulator.readers.loader.Loaded``) can plan: every step taken, at its most repetitions."""
    if loaded.scenario is None:
        assert loaded.events is not None
        return loaded.events.total
    from emulator.core import inject

    total = 0
    for flow in loaded.scenario.flows:
        per_coupon = 0
        for step in flow.steps:
            extra = sum(1 for kind in step.inject if kind in inject.NOT_A_STEP)
            per_coupon += step.repeat[1] * (1 + extra)
        total += flow.coupons * per_coupon
    return total


def check_plan_size(
    loaded: Any, env: Mapping[str, str] | None, max_events: int | None = None
) -> None:
    """Refuse a plan that may hold more than ``max_events`` events (exit 2, or 422)."""
    limit = max_events
    if limit is None:
        text = (os.environ if env is None else env).get(MAX_EVENTS_VAR, "")
        limit = int(text) if text.strip().isdigit() else DEFAULT_MAX_EVENTS
    most = most_events(loaded)
    if most > limit:
        where = f"raise it with {MAX_EVENTS_VAR}" if max_events is None else "the service's limit"
        raise ConfigError(
            f"this plans up to {most:,} events, more than the limit of {limit:,} per run "
            f"({where}); lower coupons:, repeat: or count:",
            source=loaded.source.name,
        )
