"""The quick ways ``emulator.core.values``, ``frozen`` and ``fakedata`` draw and format give exactly
what the standard library's and Faker's slower ways give: same draws from the generator, same text."""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from faker import Faker

from emulator.core import values
from emulator.core.fakedata import _quicken
from emulator.core.frozen import evolve
from emulator.core.plan import PlannedEvent

ZONES = (UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)))


def _instants(n: int) -> list[datetime]:
    rng = random.Random(11)
    out = [
        datetime(999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),  # strftime writes "999"
        datetime(1000, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    ]
    for _ in range(n):
        at = datetime(1001, 1, 1, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(280_000_000_000), microseconds=rng.randrange(10**6)
        )
        out.append(at.astimezone(rng.choice(ZONES)))
    return out


def test_iso_times_are_strftimes_text():
    for at in _instants(20_000):
        utc = at.astimezone(UTC)
        millis = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
        assert values.iso_millis(at) == millis
        assert values.iso_seconds(at) == utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_ids_and_codes_make_the_draws_the_standard_library_makes():
    for seed in range(300):
        ours, theirs = random.Random(seed), random.Random(seed)
        assert values.uuid4(ours) == str(uuid.UUID(int=theirs.getrandbits(128), version=4))
        for alphabet in (string.ascii_uppercase + string.digits, "123456789", string.digits):
            assert values.code(ours, 9, alphabet) == "".join(
                theirs.choice(alphabet) for _ in range(9)
            )
        assert values.int_id(ours, 2**53 + 1) == theirs.randint(2**53 + 1, 2**63 - 1)
        assert values.randint(ours, 60, 86_400) == theirs.randint(60, 86_400)
        assert ours.random() == theirs.random()  # and the streams are still in step


def test_a_ulid_is_its_crockford_digits():
    crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    for seed in range(300):
        at = datetime(1960 + seed % 100, 1, 1, tzinfo=UTC)  # before 1970 too: a negative time
        value = (int(at.timestamp() * 1000) << 80) | random.Random(seed).getrandbits(80)
        digits = "".join(crockford[(value >> s) & 31] for s in range(125, -1, -5))
        assert values.ulid(random.Random(seed), at) == digits


def test_fakers_weighted_picks_are_unchanged_when_quickened():
    slow, quick = Faker("en_US").factories[0], Faker("en_US").factories[0]
    for provider in quick.get_providers():
        _quicken(provider)
    for seed in range(200):
        slow.seed_instance(seed)
        quick.seed_instance(seed)
        for name in ("first_name", "last_name", "city", "company", "free_email_domain", "state"):
            assert getattr(quick, name)() == getattr(slow, name)(), name
        assert quick.random.random() == slow.random.random()


def test_evolve_makes_what_replace_makes_and_refuses_what_it_refuses():
    event = PlannedEvent("komo", "CouponIssued", "komo:1", {"a": 1}, due=2.0, label="late")
    assert evolve(event, due=5.0, auth="wrong") == replace(event, due=5.0, auth="wrong")
    assert evolve(event, due=5.0).__dict__ == replace(event, due=5.0).__dict__
    assert event.due == 2.0
    for bad in ({"nope": 1}, {"due": 1.0, "nope": 1}):
        with pytest.raises(TypeError, match="nope"):
            evolve(event, **bad)
