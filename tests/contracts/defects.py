"""The deliberately broken consumers' defects: which vendor each is run against, which cases must
catch it, and how exactly (see ``tests.contracts.broken``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Defect:
    vendor: str
    cases: tuple[str, ...]  # the cases that must fail (the first is the defect's own)
    summary: str
    exact: bool = True  # False: other cases may fail too (see the module docstring)
    may_also: tuple[str, ...] = ()  # cases that may catch it too: fuzz-no-5xx draws such bodies
    raw_headers: bool = False  # served so that header names arrive as sent

    @property
    def case(self) -> str:
        return self.cases[0]


def _d(vendor: str, case: str | tuple[str, ...], summary: str, **options: Any) -> Defect:
    return Defect(vendor, (case,) if isinstance(case, str) else case, summary, **options)


DEFECTS = {
    "accepts-bad-signature": _d(
        "punchh", "rejects-bad-auth", "checks that a signature is there, not that it matches"
    ),
    "accepts-missing-auth": _d(
        "fabric", "rejects-missing-auth", "checks the key only when the header is sent"
    ),
    "acks-refused-requests": _d(
        "komo",
        ("rejects-bad-auth", "rejects-missing-auth"),
        "answers 200 to a request it refuses, so nobody notices",
    ),
    "digest-without-challenge": _d(
        "rebilly",
        "rejects-missing-auth",
        "answers 401 without the challenge a Digest sender needs",
        exact=False,
    ),
    "applies-before-auth": _d(
        "komo",
        ("rejects-bad-auth", "rejects-missing-auth"),
        "applies the event, then refuses the request",
    ),
    "500-on-missing-optional": _d(
        "rebilly",
        "accepts-minimal",
        "reads an optional field without checking it is there",
        may_also=("fuzz-no-5xx",),
    ),
    "500-on-nulls": _d(
        "punchh",
        "accepts-nulls",
        "uses dict.get(key, default), which does not cover an explicit null",
        may_also=("fuzz-no-5xx",),
    ),
    "applies-only-first-event": _d(
        "fabric", "batch-all-applied", "applies events[0] and drops the rest"
    ),
    "applies-first-50-events": _d(
        "fabric", "batch-all-applied", "applies a page of 50 events of an envelope, drops the rest"
    ),
    "applies-duplicates": _d(
        "komo",
        ("idempotent-duplicate", "idempotent-concurrent"),
        "applies a redelivered event again",
    ),
    "racy-dedupe": _d(
        "komo",
        "idempotent-concurrent",
        "checks whether it saw an event, works, then records it: no lock between",
    ),
    "old-revision-wins": _d(
        "rebilly",
        ("precedence-out-of-order", "precedence-revision-sequence", "precedence-redemption-events"),
        "lets the last arrival win whatever its revision",
    ),
    "revision-as-text": _d(
        "rebilly", "precedence-revision-sequence", "compares revisions as text: '9' beats '11'"
    ),
    "redemptions-unordered": _d(
        "rebilly",
        "precedence-redemption-events",
        "reads the revision of coupon events only: a late redemption event always wins",
    ),
    "dedupe-without-revision": _d(
        "rebilly",
        "applies-distinct-events",
        "dedupes on (eventType, couponId): a second revision of an event type is dropped",
    ),
    "old-timestamp-wins": _d(
        "punchh", "precedence-out-of-order", "lets the last arrival win whatever its timestamp"
    ),
    "dedupe-on-coupon": _d(
        "punchh",
        "applies-distinct-events",
        "dedupes on the coupon id, not content_id: a second event about a coupon is dropped",
    ),
    "500-on-unknown-type": _d(
        "komo",
        ("acks-unknown-event-type", "unknown-type-applies-nothing"),
        "fails on an event type it does not know",
    ),
    "dispatches-on-event-name": _d(
        "fabric",
        "unknown-type-applies-nothing",
        "dispatches on data.eventName, not the envelope's type: applies unknown types",
    ),
    "rejects-unknown-fields": _d(
        "fabric", "ignores-unknown-fields", "validates bodies strictly, undocumented fields refused"
    ),
    "204-to-punchh": _d("punchh", "success-code", "answers 204 No Content", exact=False),
    "500-on-malformed-json": _d(
        "rebilly", "rejects-malformed-json", "lets the JSON parse error escape"
    ),
    "slow-on-large-bodies": _d(
        "komo",
        "responds-within-timeout",
        "does per-byte work before answering: a large body takes past the vendor's timeout",
    ),
    "no-get-verification": _d("punchh", "answers-get-verification", "answers 405 to GET"),
    "trusts-rebilly-fields": _d(
        "rebilly", "fuzz-no-5xx", "assumes _embedded is always there (Rebilly marks it optional)"
    ),
    "ascii-only": _d("fabric", "accepts-non-ascii", "refuses bodies that are not ASCII with a 400"),
    "keys-as-columns": _d(
        "komo",
        "accepts-arbitrary-keys",
        "stores each attribute as a column: a key over 63 characters (PostgreSQL's limit) fails",
    ),
    "case-sensitive-headers": _d(
        "fabric",
        "header-names-any-case",
        "looks its key header up by the exact name x-api-key",
        raw_headers=True,
    ),
    "signs-parsed-json": _d(
        "punchh",
        "signature-covers-raw-bytes",
        "checks the HMAC over the body parsed and written back, not the bytes received",
    ),
    "signs-path-only": _d(
        "punchh", "signature-covers-query", "checks the HMAC over the path without the query"
    ),
    "ids-as-floats": _d(
        "punchh",
        "large-ids-survive",
        "parses JSON numbers as doubles, so ids above 2**53 change",
        exact=False,
    ),
    "accepts-replayed-digest": _d(
        "rebilly",
        "rejects-replayed-digest",
        "checks the Digest response but not that its nonce count is new",
    ),
}
