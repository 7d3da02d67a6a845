"""A Punchh coupon as the emulator holds it: business, campaign, guest, terms and, once used, the
receipt of its redemption."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from emulator.core import values
from emulator.core.fakedata import Person
from emulator.vendors.punchh.payload import money


@dataclass(frozen=True)
class PunchhUser:
    """The guest holding the coupon: the payload's ``user`` object and its ``account_balance``."""

    user_id: int
    person: Person
    gender: str | None
    phone: str | None
    preferred_locale: str | None
    signup_channel: str
    external_source_id: str | None
    last_activity_at: datetime
    membership_level: str
    points: int
    visits: int
    marketing_email: bool
    marketing_pn: bool
    sms: bool


@dataclass(frozen=True)
class Redeemable:
    """What an unlock coupon unlocks (the payload's ``redeemable`` object)."""

    redeemable_id: int
    name: str
    discount_amount: float
    points_required: int | None
    redemption_expiry: int | None
    loyalty_redemption: bool
    image_url: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class MenuLine:
    """One line of ``redeemed_menu_items``; Punchh sends the POS codes as strings."""

    item_name: str
    item_qty: int
    item_amount: float
    menu_family: str
    menu_item_id: str
    menu_major_group: str
    serial_number: str
    menu_item_type: str = "M"


@dataclass(frozen=True)
class PunchhCoupon:
    """One coupon as Punchh knows it: business, campaign, guest, terms and, once used, the receipt."""

    business_id: int
    business_uuid: str
    business_slug: str
    coupon_id: int
    code: str
    coupon_campaign_id: int
    campaign_label: str
    coupon_type: str  # "unlock" or "discount"; the issuance event fixes it
    redeemable: Redeemable  # sent for unlock coupons only
    flat_discount: float  # discount coupons: an amount off, or (when 0)
    percentage_discount: float  # a percentage off
    valid_days: int
    menu_items: tuple[MenuLine, ...]
    user: PunchhUser
    status: str = "new"
    created_at: datetime = values.EPOCH
    updated_at: datetime = values.EPOCH
    # Set by a redemption.
    user_coupon_redemption_id: int | None = None
    discount: float | None = None
    processed_at: datetime | None = None
    receipt_amount: float | None = None
    receipt_datetime: datetime | None = None
    receipt_subtotal_amount: float | None = None
    transaction_no: str | None = None
    location_id: int | None = None
    employee_id: str | None = None
    bar_code: str | None = None
    revenue: tuple[str, str] | None = None  # (revenue_code, revenue_id)

    @property
    def campaign_name(self) -> str:
        if self.coupon_type == "unlock":
            return f"{self.campaign_label} - {self.redeemable.name}"
        if self.flat_discount:
            return f"{self.campaign_label} - ${money(self.flat_discount)} OFF"
        return f"{self.campaign_label} - {money(self.percentage_discount)}% OFF"

    @property
    def expiry_at(self) -> datetime | None:
        """Discount coupons end at 07:59:59Z (end of a US Pacific day), as Punchh's example shows."""
        if self.coupon_type != "discount":
            return None
        end = self.created_at + timedelta(days=self.valid_days)
        return end.replace(hour=7, minute=59, second=59, microsecond=0)
