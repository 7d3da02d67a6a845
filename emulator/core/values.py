"""Deterministic identifiers and timestamps, drawn from a caller's random generator and clock."""

from __future__ import annotations

import functools
import random
import string
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

T = TypeVar("T")

# The default clock of `sample` and the tests: a fixed instant, so that output never depends on when
# it was produced. Scenarios and deliveries pass their own.
EPOCH = datetime(2026, 1, 15, 9, 30, 0, tzinfo=UTC)

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_INT64_MAX = 2**63 - 1
_CROCKFORD_PAIRS = tuple(_CROCKFORD[i >> 5] + _CROCKFORD[i & 31] for i in range(1024))
_ULID_SHIFTS = tuple(range(120, -1, -10))


# The version-4 bits, set as ``uuid.UUID(int=..., version=4)`` sets them: variant RFC 4122 and
# version 4 over 128 random bits.
_UUID_KEEP = ~((0xC000 << 48) | (0xF000 << 64)) & (2**128 - 1)
_UUID_SET = (0x8000 << 48) | (4 << 76)


def _per_instant(format: Callable[[datetime], T]) -> Callable[[datetime], T]:
    """``format`` remembering its last answer, for that very datetime object.

    A plan dates every event of one instant with one ``datetime`` (``ctx.now``), and formats it
    several times an event; the answer is a pure function of the (immutable) datetime, so asking
    again for the same object returns the text made the first time. Keyed on identity, not
    equality: cheaper than hashing, and the cached object is held, so its id is never reused.
    """
    last: tuple[datetime | None, T | None] = (None, None)

    @functools.wraps(format)
    def remembered(at: datetime) -> T:
        nonlocal last
        seen, value = last  # one tuple, read and replaced whole: safe across threads
        if seen is at:
            return value  # type: ignore[return-value]
        value = format(at)
        last = (at, value)
        return value

    return remembered


def uuid4(rng: random.Random) -> str:
    """A version-4 UUID whose random bits come from ``rng``.

    ``str(uuid.UUID(int=rng.getrandbits(128), version=4))`` without making the UUID object.
    """
    # The 32 hex digits; bytes.hex writes them faster than a "032x" format does.
    h = (rng.getrandbits(128) & _UUID_KEEP | _UUID_SET).to_bytes(16, "big").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def object_id(rng: random.Random, at: datetime) -> str:
    """A 24-hex MongoDB ObjectId: 4 bytes of creation time, then 8 random bytes (fabric's ids)."""
    return _object_id_time(at) + rng.getrandbits(64).to_bytes(8, "big").hex()  # 16 hex digits


@_per_instant
def _object_id_time(at: datetime) -> str:
    """An ObjectId's first 4 bytes: the creation time's whole seconds, as 8 hex digits."""
    return f"{int(at.timestamp()) & 0xFFFFFFFF:08x}"


def ulid(rng: random.Random, at: datetime) -> str:
    """A 26-character ULID (48-bit millisecond time, 80 random bits), as Rebilly's ids carry."""
    value = (epoch_millis(at) << 80) | rng.getrandbits(80)
    # Two characters (ten bits) a step: the 26 five-bit digits from the top, as Crockford writes.
    return "".join([_CROCKFORD_PAIRS[(value >> shift) & 1023] for shift in _ULID_SHIFTS])


def randint(rng: random.Random, low: int, high: int) -> int:
    """``rng.randint(low, high)``: the same single draw, without ``randrange``'s argument checks
    and ``_randbelow``'s call (a few draws a field of every body make them count)."""
    n = high - low + 1
    if n <= 0:
        return rng.randint(low, high)  # raises as randint does
    if type(rng) is not random.Random:  # a subclass may draw its own way
        return low + rng._randbelow(n)  # type: ignore[attr-defined]
    # Random._randbelow written out, as in ``choice``.
    bits, k = rng.getrandbits, n.bit_length()
    r = bits(k)
    while r >= n:
        r = bits(k)
    return low + r


def choice(rng: random.Random, seq: Sequence[T]) -> T:
    """``rng.choice(seq)``: the same draw (``Random._randbelow`` written out, as ``code`` does),
    without two Python calls a pick; the builders pick a dozen things an event."""
    n = len(seq)
    if not n or type(rng) is not random.Random:  # rng.choice's error, or a subclass's own way
        return rng.choice(seq)
    bits, k = rng.getrandbits, n.bit_length()
    r = bits(k)
    while r >= n:
        r = bits(k)
    return seq[r]


def int_id(rng: random.Random, low: int, high: int = _INT64_MAX) -> int:
    """A positive integer id in [low, high]; Punchh's ids are int64."""
    return randint(rng, low, high)


def code(
    rng: random.Random, length: int, alphabet: str = string.ascii_uppercase + string.digits
) -> str:
    """A redemption code of ``length`` characters from ``alphabet``."""
    if not alphabet:  # rng.choice's error, when a character is asked for
        return "".join(rng.choice(alphabet) for _ in range(length))
    n = len(alphabet)
    if type(rng) is not random.Random:  # a subclass may draw its own way
        pick = rng._randbelow  # type: ignore[attr-defined]  # rng.choice's draw
        return "".join([alphabet[pick(n)] for _ in range(length)])
    # rng.choice's draw, Random._randbelow written out (the same getrandbits calls): one call a
    # character fewer, in every coupon code.
    bits, k = rng.getrandbits, n.bit_length()
    out = []
    for _ in range(length):
        r = bits(k)
        while r >= n:
            r = bits(k)
        out.append(alphabet[r])
    return "".join(out)


@_per_instant
def iso_millis(at: datetime) -> str:
    """``2026-01-15T09:30:00.000Z``: ISO 8601 in UTC with milliseconds and a ``Z``."""
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    if at.year < 1000:  # strftime writes such a year without leading zeros; isoformat with them
        return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    # isoformat truncates to milliseconds, as microsecond // 1000 does.
    return at.isoformat(timespec="milliseconds")[:23] + "Z"


@_per_instant
def iso_seconds(at: datetime) -> str:
    """``2026-01-15T09:30:00Z``: ISO 8601 in UTC, whole seconds, a ``Z``."""
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    if at.year < 1000:  # strftime writes such a year without leading zeros; isoformat with them
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return at.isoformat(timespec="seconds")[:19] + "Z"


@_per_instant
def epoch_seconds(at: datetime) -> int:
    """Whole seconds since the Unix epoch."""
    return int(at.timestamp())


@_per_instant
def epoch_millis(at: datetime) -> int:
    """Milliseconds since the Unix epoch."""
    return int(at.timestamp() * 1000)


@_per_instant
def whole_second(at: datetime) -> datetime:
    """``at`` without its microseconds (one object for every event of one instant)."""
    return at.replace(microsecond=0)


def earlier(at: datetime, rng: random.Random, max_days: int) -> datetime:
    """A whole-second instant up to ``max_days`` days before ``at``."""
    seconds = randint(rng, 60, max_days * 86400)
    return (at - timedelta(seconds=seconds)).replace(microsecond=0)


def later(at: datetime, rng: random.Random, min_days: int, max_days: int) -> datetime:
    """A whole-second instant between ``min_days`` and ``max_days`` days after ``at``."""
    seconds = randint(rng, min_days * 86400, max_days * 86400)
    return (at + timedelta(seconds=seconds)).replace(microsecond=0)
