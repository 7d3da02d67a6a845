"""What each case does: send, compare the answer, ask the probe. One function per kind of case.

A check returns a one-line note on success, raises a ``ContractFailure`` when the consumer breaks
the case's rule, and ``CaseSkipped`` when it cannot decide (no probe, no auth configured). Bodies
come from the vendors' builders (``contracts.bodies``), sends from ``contracts.sending``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts import bodies, fuzz
from contracts.failures import CaseSkipped, NoAnswer, WrongAnswer, WrongState
from contracts.probe import Probe, poll
from contracts.sending import Exchange, Sender
from emulator.core import auth as authn
from emulator.core import catalogue
from emulator.core.vendor import Observation, encode
from emulator.readers.config import Target

NO_PROBE = "needs --probe (the consumer's state): see 'Probe protocol' in the README"


@dataclass
class Run:
    """One case running against one vendor's consumer URL."""

    vendor: str
    event_type: str | None
    target: Target
    probe: Probe | None
    seed: int
    settle: float = 2.0
    fuzz_count: int = 12
    sender: Sender = field(init=False)
    extras: dict[str, Any] = field(init=False)  # what the builders read from the settings

    def __post_init__(self) -> None:
        self.sender = Sender(self.target)
        self.extras = bodies.extras_of(self.target)

    @property
    def module(self) -> Any:
        return catalogue.vendor(self.vendor)

    def send(self, body: bytes, **options: Any) -> Exchange:
        return self.sender.send(body, **options)

    def close(self) -> None:
        self.sender.close()

    # --- expectations ---------------------------------------------------------------------------

    def success_text(self) -> str:
        if self.target.success is not None:
            codes = " or ".join(map(str, self.target.success))
            return f"{codes} ({self.vendor} counts only these as delivered)"
        return f"a 2xx answer ({self.vendor} counts any 2xx as delivered)"

    def expect_success(self, ex: Exchange, what: str) -> None:
        if ex.status is None:
            raise NoAnswer(f"no answer to {what}", message(ex, self.success_text()))
        if not self.target.is_success(ex.status):
            raise WrongAnswer(f"answered {ex.status} to {what}", message(ex, self.success_text()))

    def expect_refused(self, ex: Exchange, what: str, expected: str) -> None:
        if ex.status is None:
            raise NoAnswer(f"no answer to {what}", message(ex, expected))
        if not 400 <= ex.status < 500:
            verb = "accepted" if self.target.is_success(ex.status) else f"answered {ex.status} to"
            raise WrongAnswer(f"{verb} {what}", message(ex, expected))

    def require_probe(self, evidence: str) -> Probe:
        if self.probe is None:
            raise CaseSkipped(f"{evidence}; the rest {NO_PROBE}")
        return self.probe

    def expect_taken(
        self, body: Mapping[str, Any], ex: Exchange, sent: str, applied: str | None = None
    ) -> str:
        """The verdict of a request that must be accepted (``sent`` names it) and, when a probe
        can tell, applied exactly once (``applied`` names it there; ``sent`` if not given)."""
        self.expect_success(ex, sent)
        if self.probe is None:
            return f"answered {ex.status} (no probe: whether it was applied is not checked)"
        self.expect_applied(body, ex, sent if applied is None else applied)
        return f"answered {ex.status}; applied once"

    def expect_applied(self, body: Mapping[str, Any], ex: Exchange, what: str) -> None:
        """Every event of ``body`` applied exactly once, and each coupon holding its last event."""
        probe = self.require_probe("accepted")
        observations = self.module.observe(body)
        for obs in observations:
            count = poll(
                lambda o=obs: probe.applied(self.vendor, o.key), lambda c: c >= 1, self.settle
            )
            if count != 1:
                times = "never" if count == 0 else f"{count} times"
                raise WrongState(
                    f"applied {times}: {what}",
                    message(
                        ex,
                        f"the probe to report event {obs.key!r} applied once",
                        f"probe says applied {count}",
                    ),
                )
        last = {obs.coupon_id: obs for obs in observations if obs.coupon_id is not None}
        for obs in last.values():
            self.expect_current(obs, ex, what)

    def expect_current(self, obs: Observation, ex: Exchange, what: str) -> None:
        probe = self.require_probe("accepted")
        wanted = {"status": obs.status, "revision": obs.revision}
        held = poll(
            lambda: probe.coupon(self.vendor, obs.coupon_id),
            lambda h: h is not None and _held(h) == wanted,
            self.settle,
        )
        if held is None or _held(held) != wanted:
            got = (
                "probe knows no such coupon (404)" if held is None else f"probe holds {_held(held)}"
            )
            raise WrongState(
                f"wrong current state after {what}",
                message(ex, f"coupon {obs.coupon_id!r} to hold {wanted}", got),
            )


def _held(answer: Any) -> dict[str, Any]:
    """A probe's coupon answer: the protocol's mapping, or an object with the same attributes
    (a Python probe may hand back its own record, e.g. ``contracts.consumer.Current``)."""
    if isinstance(answer, Mapping):
        return {"status": answer.get("status"), "revision": answer.get("revision")}
    return {
        "status": getattr(answer, "status", None),
        "revision": getattr(answer, "revision", None),
    }


def message(ex: Exchange, expected: str, got: str | None = None) -> str:
    return f"  sent:     {ex.sent()}\n  got:      {got or ex.got()}\n  expected: {expected}"


# --- per event type ----------------------------------------------------------------------------

VARIANTS = {
    "accepts": "its full body",
    "accepts-minimal": "only the fields its schema requires",
    "accepts-nulls": "null in every field its schema lets be null",
    "ignores-unknown-fields": f"an undocumented field {bodies.UNKNOWN_FIELD!r} in every object",
}


def accepts(run: Run, variant: str) -> str:
    et = catalogue.event_type(run.vendor, run.event_type or "")
    body = bodies.full(et, run.seed, run.extras)
    if variant == "accepts-minimal":
        body = bodies.minimal(et, body)
    elif variant == "accepts-nulls":
        body = bodies.nulls(et, body)
    elif variant == "ignores-unknown-fields":
        body = bodies.with_unknown_fields(body)
    what = f"a valid {et.name} with {VARIANTS[variant]}"
    return run.expect_taken(body, run.send(encode(body)), what)


# --- per vendor --------------------------------------------------------------------------------


def first_body(run: Run) -> dict[str, Any]:
    return bodies.full(run.module.event_types[0], run.seed, run.extras)


def acks_unknown_event_type(run: Run) -> str:
    body = bodies.with_unknown_type(run.vendor, first_body(run), run.seed)
    ex = run.send(encode(body))
    run.expect_success(
        ex, f"an event type {run.vendor} does not send yet (acknowledge and ignore it)"
    )
    return f"answered {ex.status}"


def idempotent_duplicate(run: Run) -> str:
    body = first_body(run)
    raw = encode(body)
    run.expect_success(run.send(raw), "the first delivery of an event")
    ex = run.send(raw)
    run.expect_success(ex, "a redelivery of the same event (vendors deliver at least once)")
    run.require_probe("both deliveries acknowledged")
    run.expect_applied(body, ex, "an event delivered twice")
    return "acknowledged twice, applied once"


def rejects_missing_auth(run: Run) -> str:
    return _rejects(run, authn.NoAuth(), "a request without credentials")


def rejects_bad_auth(run: Run) -> str:
    wrong = authn.wrong_credentials(run.target.auth, random.Random(run.seed))
    return _rejects(run, wrong, "a request with wrong credentials")


def _rejects(run: Run, auth: authn.Authenticator, what: str) -> str:
    configured = run.target.auth.type
    if configured == "none":
        raise CaseSkipped(
            f"no auth configured for {run.vendor}: pass --config with vendors.{run.vendor}.auth "
            f"(the consumer's settings) to check that {what} is refused"
        )
    body = first_body(run)
    ex = run.send(encode(body), auth=auth)
    expected = f"401 (or another 4xx) for {configured} auth, and nothing applied"
    run.expect_refused(ex, what, expected)
    challenge = authn.header(ex.response_headers, "WWW-Authenticate") or ""
    if (
        configured == "digest"
        and auth.type == "none"
        and not challenge.lower().startswith("digest")
    ):
        raise WrongAnswer(
            "refused without a Digest challenge",
            message(
                ex, "401 with 'WWW-Authenticate: Digest ...': a Digest sender needs the challenge"
            ),
        )
    probe = run.require_probe(f"refused with {ex.status}")
    for obs in run.module.observe(body):
        count = probe.applied(run.vendor, obs.key)
        if count:
            raise WrongState(
                f"applied {what} it refused",
                message(
                    ex,
                    "nothing applied from a refused request",
                    f"{ex.got()}; probe says applied {count}",
                ),
            )
    return f"refused with {ex.status}; nothing applied"


def rejects_malformed_json(run: Run) -> str:
    ex = run.send(bodies.malformed(first_body(run)))
    expected = (
        "a 4xx (400): vendors retry a 5xx, so a 5xx makes the broken body come back for hours"
    )
    run.expect_refused(ex, "a body that is not valid JSON (cut in half)", expected)
    return f"answered {ex.status}"


SIZES = ("typical", "near-size-limit")


def responds_within_timeout(run: Run, size: str = "typical") -> str:
    body = first_body(run)
    raw = encode(body)
    what = "a valid event"
    if size == "near-size-limit":  # the same event, padded to just under the largest body sent
        limit = run.module.profile.body_limit
        raw = bodies.padded(run.module.event_types[0], body, limit - 1024)
        what = f"a valid event of {len(raw)} bytes ({run.vendor} sends bodies up to {limit})"
    ex = run.send(raw)
    limit = run.target.timeout
    expected = f"{run.success_text()} within {limit:g}s, the vendor's timeout"
    if ex.status is None and "within" in (ex.error or ""):
        raise NoAnswer(f"no answer within {limit:g}s to {what}", message(ex, expected))
    run.expect_success(ex, what)
    if ex.elapsed > limit:
        raise WrongAnswer(f"answered after {ex.elapsed:.2f}s", message(ex, expected))
    return (
        f"answered {ex.status} in {ex.elapsed * 1000:.0f} ms (limit {limit:g}s, {len(raw)} bytes)"
    )


def fuzz_no_5xx(run: Run) -> str:
    sent = fuzz.bodies(run.vendor, run.fuzz_count, run.seed)
    statuses: dict[str, int] = {}
    bad: list[Exchange] = []
    for raw in sent:
        ex = run.send(raw)
        label = str(ex.status) if ex.status is not None else "no answer"
        statuses[label] = statuses.get(label, 0) + 1
        if ex.status is None or ex.status >= 500:
            bad.append(ex)
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
    if bad:
        raise WrongAnswer(
            f"answered {len(bad)} of {len(sent)} schema-valid bodies with a 5xx or not at all",
            message(
                bad[0],
                f"never a 5xx for a body valid under the {run.vendor} schemas (answers: {summary})",
            ),
        )
    return f"{len(sent)} schema-valid bodies, answers {summary}"
