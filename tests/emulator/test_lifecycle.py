"""The coupon state machines: what each vendor allows next, and what it refuses, by name."""

from __future__ import annotations

from collections import deque

import pytest

from emulator.core import catalogue, lifecycle
from emulator.core.lifecycle import TransitionError, machine


def reachable(m: lifecycle.Machine) -> set[str]:
    """Every event that some path from a new coupon can take."""
    seen, events, queue = {m.initial}, set(), deque([m.initial])
    while queue:
        state = queue.popleft()
        for event in m.allowed(state):
            events.add(event)
            nxt = m.next(state, event)
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return events


@pytest.mark.parametrize("slug", list(catalogue.VENDORS))
def test_every_vendor_has_a_machine_reaching_every_event_type(slug):
    m = machine(slug)
    names = {et.name for et in catalogue.event_types(slug)}
    assert set(m.events) == names
    assert reachable(m) == names


@pytest.mark.parametrize("slug", list(catalogue.VENDORS))
def test_a_new_coupon_can_only_be_issued_or_created(slug):
    allowed = machine(slug).allowed(machine(slug).initial)
    first = {
        "komo": ("CouponIssued",),
        "fabric": ("offers:coupon:created",),
        "rebilly": ("coupon-issued",),
        "punchh": ("coupon-issuance-unlock", "coupon-issuance-discount"),
    }
    assert allowed == first[slug]


def test_komo_is_viewed_any_number_of_times_then_redeemed_once():
    m = machine("komo")
    state = m.walk(["CouponIssued", *["CouponViewed"] * 5, "CouponRedemptionError"])
    state = m.walk(["CouponRedemptionSuccess", "CouponViewed", "CouponRedemptionError"], state)
    assert state == "redeemed"
    with pytest.raises(
        TransitionError, match="valid next steps: CouponViewed, CouponRedemptionError"
    ):
        m.step(state, "CouponRedemptionSuccess")


def test_redeeming_before_issuing_names_what_may_happen_instead():
    with pytest.raises(TransitionError) as info:
        machine("komo").walk(["CouponRedemptionSuccess"])
    assert str(info.value) == (
        "komo does not allow CouponRedemptionSuccess when the coupon is new; "
        "valid next steps: CouponIssued"
    )
    assert info.value.allowed == ("CouponIssued",)


def test_fabric_enables_only_a_disabled_coupon_and_activates_only_an_inactive_one():
    m = machine("fabric")
    created = m.walk(["offers:coupon:created"])
    with pytest.raises(
        TransitionError, match="does not allow offers:coupon:enabled when the coupon is enabled"
    ):
        m.step(created, "offers:coupon:enabled")
    m.walk(["offers:coupon:disabled", "offers:coupon:enabled", "offers:coupon:disabled"], created)
    active = m.walk(["offers:coupon:activated"], created)
    with pytest.raises(TransitionError):
        m.step(active, "offers:coupon:activated")
    with pytest.raises(TransitionError):
        m.step(created, "offers:coupon:deactivated")
    m.walk(["offers:coupon:deactivated", "offers:coupon:activated"], active)


def test_fabric_codes_and_redemptions_need_their_creation_and_deletion_is_final():
    m = machine("fabric")
    created = m.walk(["offers:coupon:created"])
    for event in ("offers:couponCode:updated", "offers:redemption:coupon:updated"):
        with pytest.raises(TransitionError):
            m.step(created, event)
    s = m.walk(
        [
            "offers:couponCode:created", "offers:couponCode:updated",
            "offers:redemption:coupon:created", "offers:redemption:coupon:updated",
            "offers:redemption:coupon:deleted", "offers:redemption:promotion:created",
        ],
        created,
    )  # fmt: skip
    with pytest.raises(TransitionError):  # the coupon redemption is gone
        m.step(s, "offers:redemption:coupon:deleted")
    with pytest.raises(TransitionError):  # one code per coupon
        m.step(s, "offers:couponCode:created")
    disabled = m.step(created, "offers:coupon:disabled")
    with pytest.raises(TransitionError, match="disabled"):
        m.step(disabled, "offers:redemption:coupon:created")
    deleted = m.step(s, "offers:coupon:deleted")
    assert m.allowed(deleted) == ()
    with pytest.raises(TransitionError, match="nothing may follow"):
        m.step(deleted, "offers:coupon:updated")


def test_rebilly_applies_before_redeeming_and_cancels_only_a_redemption():
    m = machine("rebilly")
    issued = m.walk(["coupon-issued", "coupon-modified", "coupon-modified"])
    with pytest.raises(TransitionError, match=r"valid next steps: .*coupon-applied"):
        m.step(issued, "coupon-redeemed")
    applied = m.step(issued, "coupon-applied")
    with pytest.raises(TransitionError):
        m.step(applied, "coupon-redemption-canceled")
    with pytest.raises(TransitionError):
        m.step(applied, "coupon-applied")
    closed = m.walk(["coupon-redeemed", "coupon-redemption-canceled"], applied)
    m.walk(["coupon-applied", "coupon-application-removed"], closed)


def test_rebilly_expired_coupons_take_no_redemption_until_the_expiration_moves():
    m = machine("rebilly")
    expired = m.walk(["coupon-issued", "coupon-expired"])
    assert m.allowed(expired) == ("coupon-expiration-modified",)
    m.walk(["coupon-expiration-modified", "coupon-applied"], expired)
    with pytest.raises(TransitionError, match="a draft"):
        m.walk(["coupon-modified"])


def test_punchh_is_issued_once_then_honored_or_voided_for_good():
    m = machine("punchh")
    for issue in ("coupon-issuance-unlock", "coupon-issuance-discount"):
        for end in ("coupon-redemption", "coupon-void"):
            state = m.walk([issue, end])
            assert m.allowed(state) == ()
    with pytest.raises(TransitionError):
        m.walk(["coupon-issuance-unlock", "coupon-issuance-discount"])


def test_transitions_are_remembered_not_recomputed():
    calls = []

    def transition(state, event):
        calls.append((state, event))
        return state

    m = lifecycle.Machine("x", "s", ("e",), transition, str)
    for _ in range(5):
        m.step("s", "e")
    assert calls == [("s", "e")]
