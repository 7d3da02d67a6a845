"""The case catalogue, derived from the emulator's: every vendor, every event type, every edge case.

Per event type: ``accepts``, ``accepts-minimal``, ``accepts-nulls``, ``ignores-unknown-fields``.
Per vendor: ``acks-unknown-event-type``, ``idempotent-duplicate``, ``rejects-missing-auth``,
``rejects-bad-auth``, ``rejects-malformed-json``, ``responds-within-timeout``, ``fuzz-no-5xx``.
Where the vendor documents the rule: ``precedence-out-of-order`` (an order key decides),
``batch-all-applied`` (batching), ``success-code`` (a success list narrower than 2xx),
``answers-get-verification`` (a verification GET). A new vendor or event type gets its cases
from the catalogue and its delivery profile, with no change here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from contracts import checks
from emulator.core import catalogue
from emulator.core.errors import UsageError


@dataclass(frozen=True)
class Case:
    """One case for one vendor (and event type, for the per-type cases)."""

    vendor: str
    name: str
    event_type: str | None
    summary: str
    check: Callable[[checks.Run], str]
    needs_probe: bool = False
    needs_auth: bool = False

    @property
    def id(self) -> str:
        """``accepts[CouponIssued]`` or ``fuzz-no-5xx``: what ``--case`` takes."""
        return f"{self.name}[{self.event_type}]" if self.event_type else self.name


SPECIFIC = (
    "precedence-out-of-order",
    "batch-all-applied",
    "success-code",
    "answers-get-verification",
)

PER_TYPE = (
    ("accepts", "answers success to the full body (applied once, with a probe)"),
    ("accepts-minimal", "answers success when only required fields are present"),
    ("accepts-nulls", "answers success when every nullable field is null"),
    ("ignores-unknown-fields", "answers success when undocumented fields are added everywhere"),
)


def _per_vendor() -> Sequence[tuple[str, str, Callable[[checks.Run], str], bool, bool]]:
    # (name, summary, check, needs probe, needs auth)
    return (
        ("acks-unknown-event-type", "acknowledges an event type it does not know, with success",
         checks.acks_unknown_event_type, False, False),
        ("idempotent-duplicate", "applies a redelivered event once", checks.idempotent_duplicate,
         True, False),
        ("rejects-missing-auth", "refuses a request without credentials, applying nothing",
         checks.rejects_missing_auth, True, True),
        ("rejects-bad-auth", "refuses a request with wrong credentials, applying nothing",
         checks.rejects_bad_auth, True, True),
        ("rejects-malformed-json", "answers a 4xx, never a 5xx, to a body that is not JSON",
         checks.rejects_malformed_json, False, False),
        ("responds-within-timeout", "answers success within the vendor's timeout",
         checks.responds_within_timeout, False, False),
        ("fuzz-no-5xx", "never answers a 5xx to schema-valid generated bodies",
         checks.fuzz_no_5xx, False, False),
    )  # fmt: skip


def _specific(slug: str) -> list[tuple[str, str, Callable[[checks.Run], str], bool]]:
    """The cases for rules this vendor documents; each rule read from the vendor's own facts."""
    profile = catalogue.vendor(slug).profile
    found: list[tuple[str, str, Callable[[checks.Run], str], bool]] = []
    if catalogue.vendor(slug).precedence is not None:
        found.append(("precedence-out-of-order", "does not let an older event arriving late win",
                      checks.precedence_out_of_order, True))  # fmt: skip
    if profile.batching:
        found.append(("batch-all-applied", "applies every event of a multi-event envelope",
                      checks.batch_all_applied, True))  # fmt: skip
    if profile.success is not None:
        codes = " or ".join(map(str, profile.success))
        found.append(("success-code", f"answers {codes} (the only codes {slug} counts as delivered)",
                      checks.success_code, False))  # fmt: skip
    if profile.verification_get:
        found.append(("answers-get-verification", "answers 200 to the verification GET",
                      checks.answers_get_verification, False))  # fmt: skip
    return found


def build(vendors: Iterable[str] | None = None) -> list[Case]:
    """Every case of the given vendors (default all), in catalogue order."""
    slugs = list(vendors) if vendors is not None else list(catalogue.VENDORS)
    cases: list[Case] = []
    for slug in slugs:
        vendor = catalogue.vendor(slug)
        for name, summary in PER_TYPE:
            for et in vendor.event_types:
                check = partial(checks.accepts, variant=name)
                cases.append(Case(slug, name, et.name, summary, check))
        for name, summary, check, probe, auth in _per_vendor():
            cases.append(Case(slug, name, None, summary, check, probe, auth))
        for name, summary, check, probe in _specific(slug):
            cases.append(Case(slug, name, None, summary, check, probe))
    return cases


def names() -> list[str]:
    """Every case name, in matrix order: per type, per vendor, then the vendor-specific ones."""
    found = dict.fromkeys(c.name for c in build())
    return [n for n in found if n not in SPECIFIC] + [n for n in SPECIFIC if n in found]


def select(cases: Sequence[Case], wanted: Sequence[str]) -> list[Case]:
    """The cases named by ``--case`` filters: a name (every event type) or an exact id."""
    if not wanted:
        return list(cases)
    chosen = [c for c in cases if c.name in wanted or c.id in wanted]
    known = {c.name for c in cases} | {c.id for c in cases}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise UsageError(
            f"--case {unknown[0]!r} matches no case of the selected vendors; case names: "
            f"{', '.join(dict.fromkeys(c.name for c in cases))} (or NAME[EVENT] for one event type)"
        )
    return chosen
