"""The case catalogue, derived from the emulator's: every vendor, every event type, every edge case.

Per event type: ``accepts``, ``accepts-minimal``, ``accepts-nulls``, ``ignores-unknown-fields``.
Per vendor: ``acks-unknown-event-type``, ``unknown-type-applies-nothing``, ``idempotent-duplicate``,
``idempotent-concurrent``, ``rejects-missing-auth``, ``rejects-bad-auth``,
``header-names-any-case``, ``rejects-malformed-json``, ``accepts-non-ascii``,
``responds-within-timeout[typical|near-size-limit]``, ``fuzz-no-5xx``.
Where the vendor documents the rule, each read from the vendor's own facts:
``precedence-out-of-order`` (an order key decides), the vendor's ``stories`` (more rules about one
coupon's events), ``batch-all-applied[1|3|configured|100]`` (batching), ``success-code`` (a success
list narrower than 2xx), ``answers-get-verification`` (a verification GET),
``signature-covers-raw-bytes`` and ``signature-covers-query`` (an auth type that signs the body),
``rejects-replayed-digest`` (Digest), ``large-ids-survive`` (integer ids) and
``accepts-arbitrary-keys`` (keys of the sender's choosing). A new vendor or event type gets its
cases from the catalogue and its delivery profile, with no change here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, partial

from contracts import bodies, checks, obligations
from emulator.core import auth as authn
from emulator.core import catalogue
from emulator.core.errors import UsageError


@dataclass(frozen=True)
class Case:
    """One case for one vendor (and event type, or variant, for the parametrised cases)."""

    vendor: str
    name: str
    event_type: str | None
    summary: str
    check: Callable[[checks.Run], str]
    needs_probe: bool = False
    needs_auth: bool = False
    variant: str | None = None  # a parametrisation that is not an event type: a batch size, ...

    @property
    def id(self) -> str:
        """``accepts[CouponIssued]``, ``batch-all-applied[100]`` or ``fuzz-no-5xx``: what
        ``--case`` takes."""
        param = self.event_type or self.variant
        return f"{self.name}[{param}]" if param else self.name


PER_TYPE = (
    ("accepts", "answers success to the full body (applied once, with a probe)"),
    ("accepts-minimal", "answers success when only required fields are present"),
    ("accepts-nulls", "answers success when every nullable field is null"),
    ("ignores-unknown-fields", "answers success when undocumented fields are added everywhere"),
)

Check = Callable[[checks.Run], str]
# (name, summary, check, needs probe, needs auth, variants)
Row = tuple[str, str, Check, bool, bool, Sequence[str]]


def _per_vendor() -> Sequence[Row]:
    o = obligations
    return (
        ("acks-unknown-event-type", "acknowledges an event type it does not know, with success",
         checks.acks_unknown_event_type, False, False, ()),
        ("unknown-type-applies-nothing", "applies nothing of an event type it does not know, "
         "however familiar the rest of the body looks", o.unknown_type_applies_nothing, True,
         False, ()),
        ("idempotent-duplicate", "applies a redelivered event once", checks.idempotent_duplicate,
         True, False, ()),
        ("idempotent-concurrent", "applies once the same event delivered twice at the same time "
         "on two connections", o.idempotent_concurrent, True, False, ()),
        ("rejects-missing-auth", "refuses a request without credentials, applying nothing",
         checks.rejects_missing_auth, True, True, ()),
        ("rejects-bad-auth", "refuses a request with wrong credentials, applying nothing",
         checks.rejects_bad_auth, True, True, ()),
        ("header-names-any-case", "reads header names in any casing (RFC 9110)",
         o.header_names_any_case, False, True, ()),
        ("rejects-malformed-json", "answers a 4xx, never a 5xx, to a body that is not JSON",
         checks.rejects_malformed_json, False, False, ()),
        ("accepts-non-ascii", "answers success to non-ASCII text (UTF-8) in string fields",
         o.accepts_non_ascii, False, False, ()),
        ("responds-within-timeout", "answers success within the vendor's timeout, a body near "
         "the largest the vendor sends included", checks.responds_within_timeout, False, False,
         checks.SIZES),
        ("fuzz-no-5xx", "never answers a 5xx to schema-valid generated bodies",
         checks.fuzz_no_5xx, False, False, ()),
    )  # fmt: skip


def _specific(slug: str) -> list[Row]:
    """The cases for rules this vendor documents; each rule read from the vendor's own facts."""
    vendor = catalogue.vendor(slug)
    profile = vendor.profile
    o = obligations
    found: list[Row] = []
    if vendor.precedence is not None:
        found.append(("precedence-out-of-order", "does not let an older event arriving late win",
                      o.precedence_out_of_order, True, False, ()))  # fmt: skip
    for name, told in vendor.stories.items():
        found.append((name, told.summary, partial(o.story, name=name), True, False, ()))
    if profile.batching:
        found.append(("batch-all-applied", "applies every event of an envelope, at every batch "
                      "size", o.batch_all_applied, True, False, o.BATCH_SIZES))  # fmt: skip
    if profile.success is not None:
        codes = " or ".join(map(str, profile.success))
        found.append(("success-code", f"answers {codes} (the only codes {slug} counts as "
                      "delivered)", o.success_code, False, False, ()))  # fmt: skip
    if profile.verification_get:
        found.append(("answers-get-verification", "answers 200 to the verification GET",
                      o.answers_get_verification, False, False, ()))  # fmt: skip
    if any(authn.signs_body(kind) for kind in profile.auth_types):
        found.append(
            (
                "signature-covers-raw-bytes",
                "checks the signature over the bytes as sent, whatever their formatting",
                o.signature_covers_raw_bytes,
                False,
                True,
                (),
            )
        )
        found.append(("signature-covers-query", "checks the signature over path and query",
                      o.signature_covers_query, False, True, ()))  # fmt: skip
    if "digest" in profile.auth_types:
        found.append(("rejects-replayed-digest", "refuses a replayed Digest Authorization (same "
                      "nonce and count)", o.rejects_replayed_digest, True, True, ()))  # fmt: skip
    if _integer_ids(slug):
        found.append(("large-ids-survive", "keeps integer ids above 2**53 exact",
                      o.large_ids, True, False, ()))  # fmt: skip
    if vendor.open_keys is not None:
        found.append(
            (
                "accepts-arbitrary-keys",
                "answers success to attribute keys and values of the sender's choosing",
                o.accepts_arbitrary_keys,
                False,
                False,
                (),
            )
        )
    return found


@cache
def _integer_ids(slug: str) -> bool:
    return bodies.has_integer_ids(slug)


def _expand(slug: str, rows: Iterable[Row]) -> list[Case]:
    cases = []
    for name, summary, check, probe, auth, variants in rows:
        if not variants:
            cases.append(Case(slug, name, None, summary, check, probe, auth))
        for variant in variants:
            one = partial(check, **{_PARAM[name]: variant})
            cases.append(Case(slug, name, None, summary, one, probe, auth, variant))
    return cases


_PARAM = {"responds-within-timeout": "size", "batch-all-applied": "size"}


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
        cases += _expand(slug, _per_vendor())
        cases += _expand(slug, _specific(slug))
    return cases


def general() -> list[str]:
    """The names of the cases every vendor has, in matrix order."""
    return [name for name, _ in PER_TYPE] + [row[0] for row in _per_vendor()]


def names() -> list[str]:
    """Every case name, in matrix order: per type, per vendor, then the vendor-specific ones."""
    found = dict.fromkeys(c.name for c in build())
    first = general()
    return first + [n for n in found if n not in first]


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
