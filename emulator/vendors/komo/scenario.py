"""What a scenario may set on a Komo coupon: the fields a flow fixes, the fields its shared users,
offers and sites give, and how a shared user's person shows in the captured attributes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from emulator.core.fakedata import Person
from emulator.core.vendor import FixedField

if TYPE_CHECKING:
    from emulator.vendors.komo import KomoCoupon

FIXED_FIELDS: Mapping[str, FixedField] = {
    "coupon_id": FixedField("uuid", unique=True, help="the coupon's uuid"),
    "coupon_code": FixedField("code", help="a string (may use {n}) or a number"),
    "offer_id": FixedField("uuid"),
    "offer_name": FixedField("text"),
    "site_id": FixedField("uuid"),
    "site_name": FixedField("text"),
    "coupon_location": FixedField("text"),
}
SHARED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "users": ("user_session_id", "user_profile_id", "attributes"),
    "offers": ("offer_id", "offer_name"),
    "sites": ("site_id", "site_name"),
}
# How the captured attributes that come from the person are named (see ``Komo.new_coupon``).
_PERSON = {
    "First name": "first_name",
    "Last name": "last_name",
    "Email": "email",
    "Date of birth": "birthday",
    "Postcode": "postcode",
    "Preferred store": "city",
}


def as_person(coupon: KomoCoupon, person: Person) -> KomoCoupon:
    """``coupon`` whose captured attributes that describe a person describe ``person``."""
    attributes = tuple(
        (k, getattr(person, _PERSON[k]) if k in _PERSON else v) for k, v in coupon.attributes
    )
    return replace(coupon, attributes=attributes)
