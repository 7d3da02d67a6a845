"""Realistic, seeded values (people, sites, offers, locations, menu items) drawn from Faker.

Faker costs tens of microseconds a field, so entries are made lazily and memoised: entry ``i`` of a
pool depends only on the seed, the pool's name and ``i``, never on what was asked before nor on the
day it is made. Callers pick entries with their own random generator, so one body costs a few
dictionary look-ups once warm.
"""

from __future__ import annotations

import math
import random
import zlib
from bisect import bisect
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache, cached_property
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from emulator.core.values import EPOCH, choice, randint

if TYPE_CHECKING:
    from faker.generator import Generator

POOL_SIZE = 4096
# People are 18 to 80 years old on this date. A pool entry is made once, without any event time, so
# birthdays count from a fixed date (Faker's date_of_birth counts from today, which made a seed's
# bytes change overnight); at a later event time the same guest is simply older.
AGES_AS_OF = EPOCH.date()
MIN_AGE, MAX_AGE = 18, 80

# What coupons are for; Faker has no menu, so the dishes are ours.
PRODUCTS = (
    "coffee",
    "latte",
    "pizza",
    "burrito",
    "smoothie",
    "burger",
    "salad bowl",
    "bagel",
    "sandwich",
    "ice cream",
    "milkshake",
    "taco box",
    "noodle bowl",
    "croissant",
    "juice",
)
# (item name, menu family, major group, price in dollars)
MENU = (
    ("Classic Burger", "Burgers", "Food", 8.99),
    ("Cheeseburger", "Burgers", "Food", 9.49),
    ("Chicken Sandwich", "Sandwiches", "Food", 8.49),
    ("Caesar Salad", "Salads", "Food", 7.99),
    ("Margherita Pizza", "Pizza", "Food", 11.99),
    ("Pepperoni Pizza", "Pizza", "Food", 12.99),
    ("French Fries", "Sides", "Food", 3.49),
    ("Onion Rings", "Sides", "Food", 3.99),
    ("Chicken Wings", "Appetizers", "Food", 9.99),
    ("Garden Wrap", "Wraps", "Food", 7.49),
    ("Iced Tea", "Cold Drinks", "Beverage", 2.49),
    ("Cola", "Cold Drinks", "Beverage", 1.99),
    ("Latte", "Hot Drinks", "Beverage", 4.29),
    ("Cappuccino", "Hot Drinks", "Beverage", 4.09),
    ("Chocolate Shake", "Shakes", "Dessert", 5.49),
    ("Brownie", "Bakery", "Dessert", 2.99),
    ("Entree", "Entrees", "Food", 13.50),
)
REDEMPTION_ERRORS = (
    "Already redeemed",
    "Coupon expired",
    "Coupon not valid at this location",
    "Coupon not yet active",
    "Minimum spend not met",
    "Invalid coupon code",
)


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    email: str
    phone: str
    birthday: str
    gender: str
    city: str
    postcode: str


@dataclass(frozen=True)
class Offer:
    name: str
    percent: int
    amount: int
    product: str


@dataclass(frozen=True)
class MenuItem:
    name: str
    family: str
    major_group: str
    price: float


class FakeData:
    """Seeded pools of realistic values; ``FakeData(seed)`` always yields the same entries."""

    def __init__(self, seed: int, locale: str = "en_US", size: int = POOL_SIZE) -> None:
        self.seed = seed
        self.locale = locale
        self.size = size
        self._pools: dict[str, list] = {}

    @cached_property
    def _faker(self) -> Generator:
        # Imported when a pool first needs it: importing Faker scans every locale it ships (about
        # 90 ms), which a command or a plan that never draws a person or a place need not pay.
        from faker import Faker

        # The locale's generator itself: the proxy in front of it costs a lookup per call.
        generator = Faker(self.locale).factories[0]
        for provider in generator.get_providers():
            _quicken(provider)
        return generator

    def _entry(self, pool: str, index: int, make):
        entries = self._pools.get(pool)
        if entries is None:
            entries = self._pools[pool] = [None] * self.size
        value = entries[index]
        if value is None:
            faker = self._faker
            faker.seed_instance(zlib.crc32(f"{self.seed}:{pool}:{index}".encode()))
            value = entries[index] = make(faker)
        return value

    def _pick(self, rng: random.Random, pool: str, make):
        return self._entry(pool, randint(rng, 0, self.size - 1), make)  # rng.randrange(size)

    def person(self, rng: random.Random) -> Person:
        return self._pick(rng, "person", _make_person)

    def company(self, rng: random.Random) -> str:
        return self._pick(rng, "company", lambda f: f.company())

    def site_name(self, rng: random.Random) -> str:
        return self._pick(rng, "site", _make_site_name)

    def location(self, rng: random.Random) -> str:
        return self._pick(rng, "location", _make_location)

    def sentence(self, rng: random.Random) -> str:
        return self._pick(rng, "sentence", lambda f: f.sentence(nb_words=8))

    def offer(self, rng: random.Random) -> Offer:
        percent = choice(rng, (5, 10, 15, 20, 25, 30, 50))
        amount = choice(rng, (1, 2, 3, 5, 10, 15, 20))
        product = choice(rng, PRODUCTS)
        return _offer(percent, amount, product, randint(rng, 0, 3))  # rng.choice of the names

    def menu_item(self, rng: random.Random) -> MenuItem:
        return choice(rng, _MENU_ITEMS)

    def redemption_error(self, rng: random.Random) -> str:
        return choice(rng, REDEMPTION_ERRORS)


_OFFER_NAMES = (
    "{0}% off your next {2}",
    "${1} off any {2}",
    "Free {2} with any purchase",
    "Buy one {2}, get one free",
)
_MENU_ITEMS = tuple(MenuItem(*row) for row in MENU)  # frozen: one of each serves every coupon


@cache  # frozen and a function of the draws alone: a few thousand offers serve every coupon
def _offer(percent: int, amount: int, product: str, form: int) -> Offer:
    name = _OFFER_NAMES[form].format(percent, amount, product)
    return Offer(name=name, percent=percent, amount=amount, product=product)


def _make_person(f: Generator) -> Person:
    first, last = f.first_name(), f.last_name()
    domain = f.free_email_domain()
    return Person(
        first_name=first,
        last_name=last,
        email=f"{first}.{last}{f.random_int(1, 99)}@{domain}".lower().replace(" ", ""),
        phone=_digits(f, 10),
        birthday=_birthday(f).isoformat(),
        gender=f.random_element(("male", "female", "non-binary")),
        city=f.city(),
        postcode=f.postcode(),
    )


def _digits(f: Generator, count: int) -> str:
    """``f.numerify("#" * count)``: Faker draws ``random.randint(0, 9)`` a ``#``, as here, then
    looks for its other placeholders; a third of a person's cost went to its regular expressions."""
    rng = f.random
    return "".join([str(randint(rng, 0, 9)) for _ in range(count)])


def _birthday(f: Generator) -> date:
    """A date of birth for an age of MIN_AGE to MAX_AGE on AGES_AS_OF.

    Faker's date_of_birth with AGES_AS_OF for today: the same bounds (up to the day before the
    MAX_AGE + 1st birthday) and the same single draw, so the fields drawn after it are unchanged.
    """
    oldest = AGES_AS_OF.replace(year=AGES_AS_OF.year - MAX_AGE - 1)
    youngest = AGES_AS_OF.replace(year=AGES_AS_OF.year - MIN_AGE)
    born = f.date_time_ad(start_datetime=oldest, end_datetime=youngest).date()
    return born if born != oldest else born + timedelta(days=1)


def _make_site_name(f: Generator) -> str:
    word = f.last_name()
    return f.random_element((f"{word} Rewards", f"{word} Coffee Club", f"{word} Deals Hub"))


def _make_location(f: Generator) -> str:
    return f"{f.last_name()} {f.random_element(('Store', 'Shop', 'Kitchen', 'Cafe'))} #{f.random_int(1, 999)}"


def _quicken(provider: Any) -> None:
    """Faker's ``random_elements`` for one element, with the same draws and the same result.

    Faker re-reads a weighted table's weights and sums them on every call (thousands of names, a
    pool entry draws a dozen): here the running sums are made once per table, then one
    ``random()`` picks an entry exactly as ``random.choices(keys, weights, k=1)`` does. Anything
    else (several elements, unique samples, unweighted sets) goes to Faker's own method.
    """
    slow = provider.random_elements
    generator = provider.generator
    weighting = provider.__use_weighting__
    tables: dict[int, tuple[Any, tuple, list[float], float, int]] = {}

    def random_elements(elements=("a", "b", "c"), length=None, unique=False, use_weighting=None):
        if length == 1 and not unique:
            kind = type(elements)
            if kind is OrderedDict and (weighting if use_weighting is None else use_weighting):
                table = tables.get(id(elements))
                if table is None or table[0] is not elements:
                    keys = tuple(elements.keys())
                    sums = list(accumulate(elements.values()))
                    total = sums[-1] + 0.0 if sums else 0.0
                    # random.choices refuses a zero or infinite total: Faker's method says so.
                    usable = total > 0.0 and math.isfinite(total)
                    table = (elements, keys, sums, total if usable else 0.0, len(keys) - 1)
                    tables[id(elements)] = table
                _, keys, sums, total, hi = table
                if total:
                    return [keys[bisect(sums, generator.random.random() * total, 0, hi)]]
            elif kind is tuple or kind is list or kind is str:
                return [generator.random.choice(elements)]
        return slow(elements, length, unique, use_weighting)

    provider.random_elements = random_elements
