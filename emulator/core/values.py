"""Deterministic identifiers and timestamps, drawn from a caller's random generator and clock."""

from __future__ import annotations

import random
import string
import uuid
from datetime import UTC, datetime, timedelta

# The default clock of `sample` and the tests: a fixed instant, so that output never depends on when
# it was produced. Scenarios and deliveries pass their own.
EPOCH = datetime(2026, 1, 15, 9, 30, 0, tzinfo=UTC)

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_INT64_MAX = 2**63 - 1


def uuid4(rng: random.Random) -> str:
    """A version-4 UUID whose random bits come from ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def object_id(rng: random.Random, at: datetime) -> str:
    """A 24-hex MongoDB ObjectId: 4 bytes of creation time, then 8 random bytes (fabric's ids)."""
    return f"{int(at.timestamp()) & 0xFFFFFFFF:08x}{rng.getrandbits(64):016x}"


def ulid(rng: random.Random, at: datetime) -> str:
    """A 26-character ULID (48-bit millisecond time, 80 random bits), as Rebilly's ids carry."""
    value = (int(at.timestamp() * 1000) << 80) | rng.getrandbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def int_id(rng: random.Random, low: int, high: int = _INT64_MAX) -> int:
    """A positive integer id in [low, high]; Punchh's ids are int64."""
    return rng.randint(low, high)


def code(
    rng: random.Random, length: int, alphabet: str = string.ascii_uppercase + string.digits
) -> str:
    """A redemption code of ``length`` characters from ``alphabet``."""
    return "".join(rng.choice(alphabet) for _ in range(length))


def iso_millis(at: datetime) -> str:
    """``2026-01-15T09:30:00.000Z``: ISO 8601 in UTC with milliseconds and a ``Z``."""
    at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def iso_seconds(at: datetime) -> str:
    """``2026-01-15T09:30:00Z``: ISO 8601 in UTC, whole seconds, a ``Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_seconds(at: datetime) -> int:
    """Whole seconds since the Unix epoch."""
    return int(at.timestamp())


def epoch_millis(at: datetime) -> int:
    """Milliseconds since the Unix epoch."""
    return int(at.timestamp() * 1000)


def earlier(at: datetime, rng: random.Random, max_days: int) -> datetime:
    """A whole-second instant up to ``max_days`` days before ``at``."""
    return (at - timedelta(seconds=rng.randint(60, max_days * 86400))).replace(microsecond=0)


def later(at: datetime, rng: random.Random, min_days: int, max_days: int) -> datetime:
    """A whole-second instant between ``min_days`` and ``max_days`` days after ``at``."""
    return (at + timedelta(seconds=rng.randint(min_days * 86400, max_days * 86400))).replace(
        microsecond=0
    )
