"""Punchh's coupon ``payload``: the coupon, its redeemable, menu lines and guest, in wire shape.

Keys follow Punchh's examples, which list them alphabetically; fields Punchh has no value for are
sent as ``null``, never left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.core.values import iso_seconds

if TYPE_CHECKING:
    from datetime import datetime

    from emulator.vendors.punchh.model import MenuLine, PunchhCoupon, PunchhUser, Redeemable


def money(amount: float) -> float:
    """Two decimals, and a whole amount as an integer: Punchh shows ``3`` and ``2.5``, never ``3.0``."""
    rounded = round(amount, 2)
    return int(rounded) if rounded == int(rounded) else rounded


def payload(coupon: PunchhCoupon) -> dict[str, Any]:
    """The ``payload`` object announcing ``coupon`` in its current state."""
    unlock = coupon.coupon_type == "unlock"
    # An unlock coupon names no menu items until it is redeemed; a discount coupon shows its
    # qualifying items from issuance on (both as in Punchh's issuance examples).
    items = [] if unlock and coupon.processed_at is None else coupon.menu_items
    revenue_code, revenue_id = coupon.revenue or (None, None)
    return {
        "app_device_id": None,
        "applicable_flat_discount": 0 if unlock else money(coupon.flat_discount),
        "applicable_percentage_discount": 0 if unlock else money(coupon.percentage_discount),
        "bar_code": coupon.bar_code,
        "campaign_name": coupon.campaign_name,
        "code": coupon.code,
        "coupon_campaign_id": coupon.coupon_campaign_id,
        "coupon_id": coupon.coupon_id,
        "coupon_type": coupon.coupon_type,
        "created_at": iso_seconds(coupon.created_at),
        "discount": coupon.discount,  # null until redeemed, in both issuance examples
        "email": coupon.user.person.email,
        "employee_id": coupon.employee_id,
        "expiry_at": _iso(coupon.expiry_at),
        "gift_count": None,
        "location_id": coupon.location_id,
        "processed_at": _iso(coupon.processed_at),
        "receipt_amount": coupon.receipt_amount,
        "receipt_datetime": _iso(coupon.receipt_datetime),
        "receipt_subtotal_amount": coupon.receipt_subtotal_amount,
        "redeemable": _redeemable(coupon.redeemable) if unlock else None,
        "redeemed_menu_items": [_menu_item(line) for line in items],
        "revenue_code": revenue_code,
        "revenue_id": revenue_id,
        "status": coupon.status,
        "transaction_no": coupon.transaction_no,
        "updated_at": iso_seconds(coupon.updated_at),
        "user": _user(coupon.user),
        "user_coupon_redemption_id": coupon.user_coupon_redemption_id,
        "user_id": coupon.user.user_id,
    }


def _iso(at: datetime | None) -> str | None:
    return None if at is None else iso_seconds(at)


def _redeemable(r: Redeemable) -> dict[str, Any]:
    return {
        "applicable_as_loyalty_redemption": r.loyalty_redemption,
        "created_at": iso_seconds(r.created_at),
        "description": f"Free {r.name}",
        "discount_amount": r.discount_amount,
        "discount_channel": "all",
        "expire_redemption_code_with_reward_end_date": False,
        "expiry_date": None,
        "meta_data": "",
        "name": r.name,
        "points_required_to_redeem": r.points_required,
        "redeemable_id": r.redeemable_id,
        "redeemable_image_url": r.image_url,
        "redeemable_properties": None,
        "redemption_expiry": r.redemption_expiry,
        "status": "activated",
        "updated_at": iso_seconds(r.updated_at),
    }


def _menu_item(line: MenuLine) -> dict[str, Any]:
    return {
        "item_amount": line.item_amount,
        "item_name": line.item_name,
        "item_qty": line.item_qty,
        "menu_family": line.menu_family,
        "menu_item_id": line.menu_item_id,
        "menu_item_type": line.menu_item_type,
        "menu_major_group": line.menu_major_group,
        "serial_number": line.serial_number,
    }


def _user(u: PunchhUser) -> dict[str, Any]:
    p = u.person
    last_visit = iso_seconds(u.last_activity_at) if u.visits else None
    return {
        "account_balance": {
            "banked_currency": 0,
            "current_membership_level_name": u.membership_level,
            "last_visit": last_visit,
            "loyalty_points": u.points,
            "net_balance": u.points,
            "net_debits": 0,
            "pending_points": 0,
            "total_credits": u.points,
            "total_debits": 0,
            "total_lifetime_points": u.points,
            "total_point_credits": u.points,
            "total_redeemable_visits": None,
            "total_visits": u.visits,
            "unbanked_points": 0,
            "unredeemed_cards": None,
            "user_id": u.user_id,
        },
        "anniversary": None,
        "avatar_remote_url": None,
        "birthday": p.birthday,
        "email": p.email,
        "external_source": "",
        "external_source_id": u.external_source_id,
        "first_name": p.first_name,
        "gender": u.gender,
        "guest_type": "Loyalty",
        "last_activity_at": iso_seconds(u.last_activity_at),
        "last_name": p.last_name,
        "marketing_email_subscription": u.marketing_email,
        "marketing_pn_subscription": u.marketing_pn,
        "phone": u.phone,
        "preferred_locale": u.preferred_locale,
        "secondary_email": None,
        "signup_channel": u.signup_channel,
        "sms_subscription": u.sms,
        "unsubscribe_reason": None,
        "unsubscribed": False,
        "user_id": u.user_id,
        "user_status": "active",
    }
