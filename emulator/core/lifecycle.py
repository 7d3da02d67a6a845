"""Coupon state machines per vendor: which events may happen to a coupon next, strictly.

The vendor modules' ``apply`` is lenient (it makes up a missing redemption); these machines are
the strict layer above it. A scenario step a machine does not allow, such as a redemption before
issuance or enabling an enabled coupon, is a validation error naming the allowed next steps.
Readings of the seeds and VENDORS.md that are our choice are marked as such below.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from emulator.vendors import fabric, komo, punchh, rebilly

State = Hashable


class TransitionError(ValueError):
    """An event the coupon's state does not allow; the message lists what may happen instead."""

    def __init__(self, machine: Machine, state: State, event: str) -> None:
        self.state, self.event = state, event
        self.allowed = machine.allowed(state)
        where = (
            f"{machine.vendor} does not allow {event} when the coupon is {machine.describe(state)}"
        )
        if self.allowed:
            message = f"{where}; valid next steps: {', '.join(self.allowed)}"
        else:
            message = f"{where}, and nothing may follow; remove this step"
        super().__init__(message)


@dataclass(frozen=True)
class Machine:
    """One vendor's coupon life: an initial state, a transition function and state names."""

    vendor: str
    initial: State
    events: tuple[str, ...]
    transition: Callable[[State, str], State | None]
    describe: Callable[[State], str]
    # States are few and hashable: each transition is worked out once (planning asks millions).
    _known: dict[tuple[State, str], State | None] = field(
        default_factory=dict, compare=False, repr=False
    )

    def next(self, state: State, event: str) -> State | None:
        """The state after ``event``, or None when the state does not allow it."""
        key = (state, event)
        try:
            return self._known[key]
        except KeyError:
            after = self._known[key] = self.transition(state, event)
            return after

    def allowed(self, state: State) -> tuple[str, ...]:
        return tuple(e for e in self.events if self.next(state, e) is not None)

    def step(self, state: State, event: str) -> State:
        after = self.next(state, event)
        if after is None:
            raise TransitionError(self, state, event)
        return after

    def walk(self, events: Iterable[str], state: State | None = None) -> State:
        """The state after ``events`` from ``state`` (default: a new coupon); TransitionError."""
        state = self.initial if state is None else state
        for event in events:
            state = self.step(state, event)
        return state


# --- komo ------------------------------------------------------------------------------------
# Issued once; viewed any number of times; a redemption succeeds once. An error may follow
# anything after issuance (Komo's own example error is "Already redeemed"), and a failed
# redemption may be tried again.

_KOMO_REDEEMABLE = {
    komo.VIEWED: "viewed",
    komo.REDEEMED: "redeemed",
    komo.FAILED: "redemption-failed",
}
_KOMO: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "new": {komo.ISSUED: "issued"},
        "issued": _KOMO_REDEEMABLE,
        "viewed": _KOMO_REDEEMABLE,
        "redemption-failed": _KOMO_REDEEMABLE,
        "redeemed": {komo.VIEWED: "redeemed", komo.FAILED: "redeemed"},
    }
)


def _komo_next(state: State, event: str) -> State | None:
    return _KOMO[state].get(event)


# --- fabric ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FabricState:
    """A fabric coupon's flags: enable/disable and activate/deactivate are independent."""

    created: bool = False
    deleted: bool = False
    enabled: bool = True
    active: bool = False  # a created coupon is scheduled until it is activated
    code: bool = False
    redemption: str | None = None  # the open redemption: "coupon" or "promotion"

    def __str__(self) -> str:
        if not self.created:
            return "new (not created yet)"
        if self.deleted:
            return "deleted"
        parts = [
            "enabled" if self.enabled else "disabled",
            "active" if self.active else "scheduled (not active)",
            "with a code" if self.code else "without a code",
        ]
        if self.redemption:
            parts.append(f"with an open {self.redemption} redemption")
        return ", ".join(parts)


_C, _CODE = "offers:coupon:", "offers:couponCode:"
_REDEMPTION = {"offers:redemption:coupon:": "coupon", "offers:redemption:promotion:": "promotion"}


def _fabric_next(s: State, event: str) -> State | None:
    assert isinstance(s, FabricState)
    if not s.created:
        return replace(s, created=True) if event == f"{_C}created" else None
    if s.deleted:
        return None
    prefix, _, action = event.rpartition(":")
    prefix += ":"
    if prefix == _C:
        if action == "updated":
            return s
        if action == "deleted":
            return replace(s, deleted=True)
        if action in ("enabled", "disabled"):  # only a disabled coupon can be enabled, and back
            wanted = action == "enabled"
            return replace(s, enabled=wanted) if s.enabled != wanted else None
        if action in ("activated", "deactivated"):
            wanted = action == "activated"
            return replace(s, active=wanted) if s.active != wanted else None
        return None
    if prefix == _CODE:
        if action == "created":
            return None if s.code else replace(s, code=True)
        return s if action == "updated" and s.code else None
    kind = _REDEMPTION.get(prefix)
    if kind is None:
        return None
    if action == "created":  # shoppers cannot use a disabled coupon (our reading)
        return replace(s, redemption=kind) if s.enabled else None
    if s.redemption != kind:
        return None
    return s if action == "updated" else replace(s, redemption=None)


# --- rebilly ---------------------------------------------------------------------------------
# (status, redemption): status draft/issued/expired, the current redemption none, applied,
# redeemed or closed (removed or canceled). A redemption is applied before it is redeemed; an
# expired coupon takes no new redemptions until its expiration moves (our reading).

_RB_COUPON = {rebilly.MODIFIED, rebilly.EXPIRATION_MODIFIED, rebilly.EXPIRED}


def _rebilly_next(state: State, event: str) -> State | None:
    status, redemption = state  # type: ignore[misc]
    if status == "draft":
        return ("issued", redemption) if event == rebilly.ISSUED else None
    if event == rebilly.APPLICATION_REMOVED:
        return (status, "closed") if redemption == "applied" else None
    if event == rebilly.REDEMPTION_CANCELED:
        return (status, "closed") if redemption == "redeemed" else None
    if status == "expired":
        return ("issued", redemption) if event == rebilly.EXPIRATION_MODIFIED else None
    if event in _RB_COUPON:
        return ("expired" if event == rebilly.EXPIRED else status, redemption)
    if event == rebilly.APPLIED:
        return None if redemption == "applied" else (status, "applied")
    if event == rebilly.REDEEMED:
        return (status, "redeemed") if redemption == "applied" else None
    return None


def _rebilly_describe(state: State) -> str:
    status, redemption = state  # type: ignore[misc]
    names = {"draft": "a draft (not issued yet)", "issued": "issued", "expired": "expired"}
    text = names[status]
    if redemption == "applied":
        text += ", with an application not yet redeemed"
    elif redemption == "redeemed":
        text += ", with a redeemed redemption"
    return text


# --- punchh ----------------------------------------------------------------------------------
# Issued (unlock or discount) once, then honored by a redemption or voided; both are final.

_PUNCHH: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "new": {punchh.UNLOCK: "issued", punchh.DISCOUNT: "issued"},
        "issued": {punchh.REDEMPTION: "honored", punchh.VOID: "void"},
        "honored": {},
        "void": {},
    }
)


def _punchh_next(state: State, event: str) -> State | None:
    return _PUNCHH[state].get(event)


def _names(module) -> tuple[str, ...]:
    return tuple(et.name for et in module.EVENT_TYPES)


MACHINES: Mapping[str, Machine] = MappingProxyType(
    {
        "komo": Machine("komo", "new", _names(komo), _komo_next, str),
        "fabric": Machine("fabric", FabricState(), _names(fabric), _fabric_next, str),
        "rebilly": Machine(
            "rebilly", ("draft", "none"), _names(rebilly), _rebilly_next, _rebilly_describe
        ),
        "punchh": Machine("punchh", "new", _names(punchh), _punchh_next, str),
    }
)


def machine(slug: str) -> Machine:
    """The state machine of vendor ``slug`` (KeyError for a vendor without one)."""
    return MACHINES[slug]
