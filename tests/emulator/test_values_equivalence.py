"""The quick ways ``emulator.core.values``, ``frozen`` and ``fakedata`` draw and format give exactly
what the standard library's and Faker's slower ways give: same draws from the generator, same text."""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from faker import Faker

from emulator.core import values
from emulator.core.fakedata import PRODUCTS, FakeData, Offer, _quicken
from emulator.core.frozen import evolve, make
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


def test_the_instant_formats_remembered_answer_only_the_same_datetime():
    # The same object again (the cache's case), an equal instant in another zone, and new ones.
    formats = (values.iso_millis, values.iso_seconds, values.epoch_seconds, values.epoch_millis)
    instants = _instants(300)[3:]  # not the extreme years: a zone or a step away overflows them
    for fmt in formats:
        for at in instants:
            other = at.astimezone(ZONES[1])
            for asked in (at, at, other, at + timedelta(microseconds=1500), at):
                assert fmt(asked) == fmt.__wrapped__(asked), (fmt.__name__, asked)
    for at in instants:
        ours, theirs = random.Random(at.microsecond), random.Random(at.microsecond)
        for asked in (at, at, at + timedelta(seconds=1)):
            expected = f"{int(asked.timestamp()) & 0xFFFFFFFF:08x}{theirs.getrandbits(64):016x}"
            assert values.object_id(ours, asked) == expected


def test_choice_makes_the_draws_rng_choice_makes():
    for seed in range(300):
        ours, theirs = random.Random(seed), random.Random(seed)
        for seq in ((5, 10, 15), "ab", tuple(range(17)), [None], range(1000)):
            assert values.choice(ours, seq) == theirs.choice(seq)
        assert ours.random() == theirs.random()

    class Fixed(random.Random):
        def choice(self, seq):
            return seq[-1]

    assert values.choice(Fixed(1), (1, 2, 3)) == 3  # a subclass draws its own way
    with pytest.raises(IndexError):
        values.choice(random.Random(1), ())


def test_offers_are_what_their_draws_make():
    fake = FakeData(3)
    names = (
        "{0}% off your next {2}",
        "${1} off any {2}",
        "Free {2} with any purchase",
        "Buy one {2}, get one free",
    )
    for seed in range(500):
        ours, theirs = random.Random(seed), random.Random(seed)
        percent = theirs.choice((5, 10, 15, 20, 25, 30, 50))
        amount = theirs.choice((1, 2, 3, 5, 10, 15, 20))
        product = theirs.choice(PRODUCTS)
        name = theirs.choice(names).format(percent, amount, product)
        assert fake.offer(ours) == Offer(name, percent, amount, product)
        assert ours.random() == theirs.random()


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


@dataclass(frozen=True)
class Record:
    first: str
    second: int
    third: str | None = None
    fourth: bool = False


def _same(made, expected, hashable=True):
    assert type(made) is type(expected)
    assert made == expected
    assert repr(made) == repr(expected)
    if hashable:
        assert hash(made) == hash(expected)
    if hasattr(expected, "__dict__"):
        assert list(made.__dict__.items()) == list(expected.__dict__.items())  # fields in order


def test_make_makes_what_the_class_makes():
    _same(make(Record, second=2, first="a"), Record(first="a", second=2))
    _same(make(Record, fourth=True, third="c", second=2, first="a"), Record("a", 2, "c", True))
    event = PlannedEvent("komo", "CouponIssued", "komo:1", {"a": 1}, due=2.0)
    _same(make(PlannedEvent, vendor="komo", event_type="CouponIssued", coupon_key="komo:1",
               body={"a": 1}, due=2.0), event, hashable=False)  # fmt: skip
    with pytest.raises(AttributeError):  # still frozen
        make(Record, first="a", second=1).first = "b"
    for bad in ({"first": "a"}, {"first": "a", "second": 1, "nope": 1}):
        with pytest.raises(TypeError, match=r"second|nope"):
            make(Record, **bad)


@dataclass(frozen=True, slots=True)
class Slotted:
    first: str
    second: int = 0


@dataclass(frozen=True)
class Checked:
    first: str
    second: int = 0

    def __post_init__(self):
        if self.second < 0:
            raise ValueError("second must not be negative")
        object.__setattr__(self, "first", self.first.upper())


@dataclass(frozen=True)
class Derived:
    first: str
    count: int = field(init=False, default=7)


@dataclass(frozen=True)
class Listed:
    first: str
    items: list = field(default_factory=list)


@dataclass
class Shouting:
    first: str

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value.upper())


def test_make_leaves_to_the_class_what_a_dict_fill_would_get_wrong():
    assert make(Shouting, first="a").first == "A"  # its __setattr__ ran, as __init__ runs it
    _same(make(Slotted, first="a"), Slotted("a"))
    assert not hasattr(make(Slotted, first="a"), "__dict__")
    assert make(Checked, first="a") == Checked("a")
    assert make(Checked, first="a").first == "A"  # __post_init__ ran
    with pytest.raises(ValueError, match="negative"):
        make(Checked, first="a", second=-1)
    _same(make(Derived, first="a"), Derived("a"))
    with pytest.raises(TypeError):
        make(Derived, first="a", count=1)
    one, two = make(Listed, first="a"), make(Listed, first="a")
    assert one == Listed("a")
    assert one.items is not two.items  # a fresh list each, as __init__ makes
    _same(make(Listed, items=[1], first="a"), Listed("a", [1]), hashable=False)
