"""Coupon state machines: which events may happen to a coupon next, strictly.

The vendor modules' ``apply`` is lenient (it makes up a missing redemption); these machines are
the strict layer above it. A scenario step a machine does not allow, such as a redemption before
issuance or enabling an enabled coupon, is a validation error naming the allowed next steps.
Each vendor package defines its own machine (``Vendor.machine``, in ``<slug>/lifecycle.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

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


def machine(slug: str) -> Machine:
    """The state machine of vendor ``slug`` (its ``machine``); an unknown slug lists the valid ones."""
    from emulator.core import catalogue  # the catalogue's vendors import Machine from here

    return catalogue.vendor(slug).machine
