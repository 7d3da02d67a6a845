"""Bounds on the times, waits and sizes a document may ask for: a value past them would
overflow a date or exhaust memory at run time, so it is refused where it is written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

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
