"""Deliberately broken consumers, one per rule: the reference core with one defect each.

Each defect is what real consumers get wrong; ``DEFECTS`` names the case that must catch it and the
vendor to run it against.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contracts.consumer import APPLIED, DUPLICATE, STALE, Answer, Consumer, Current, MemoryStore
from emulator.core import auth as authn
from emulator.core import catalogue
from emulator.core.vendor import Observation
from emulator.readers import schemas


@dataclass(frozen=True)
class Defect:
    vendor: str
    case: str  # the case that must fail
    summary: str


DEFECTS = {
    "accepts-bad-signature": Defect(
        "punchh", "rejects-bad-auth", "checks that a signature is there, not that it matches"
    ),
    "accepts-missing-auth": Defect(
        "fabric", "rejects-missing-auth", "checks the key only when the header is sent"
    ),
    "acks-refused-requests": Defect(
        "komo", "rejects-bad-auth", "answers 200 to a request it refuses, so nobody notices"
    ),
    "digest-without-challenge": Defect(
        "rebilly", "rejects-missing-auth", "answers 401 without the challenge a Digest sender needs"
    ),
    "applies-before-auth": Defect(
        "komo", "rejects-bad-auth", "applies the event, then refuses the request"
    ),
    "500-on-missing-optional": Defect(
        "rebilly", "accepts-minimal", "reads an optional field without checking it is there"
    ),
    "500-on-nulls": Defect(
        "punchh",
        "accepts-nulls",
        "uses dict.get(key, default), which does not cover an explicit null",
    ),
    "applies-only-first-event": Defect(
        "fabric", "batch-all-applied", "applies events[0] and drops the rest"
    ),
    "applies-duplicates": Defect(
        "komo", "idempotent-duplicate", "applies a redelivered event again"
    ),
    "old-revision-wins": Defect(
        "rebilly", "precedence-out-of-order", "lets the last arrival win whatever its revision"
    ),
    "old-timestamp-wins": Defect(
        "punchh", "precedence-out-of-order", "lets the last arrival win whatever its timestamp"
    ),
    "500-on-unknown-type": Defect(
        "komo", "acks-unknown-event-type", "fails on an event type it does not know"
    ),
    "rejects-unknown-fields": Defect(
        "fabric", "ignores-unknown-fields", "validates bodies strictly, undocumented fields refused"
    ),
    "204-to-punchh": Defect("punchh", "success-code", "answers 204 No Content"),
    "500-on-malformed-json": Defect(
        "rebilly", "rejects-malformed-json", "lets the JSON parse error escape"
    ),
    "slow": Defect("komo", "responds-within-timeout", "answers after the vendor's timeout"),
    "no-get-verification": Defect("punchh", "answers-get-verification", "answers 405 to GET"),
    "trusts-rebilly-fields": Defect(
        "rebilly", "fuzz-no-5xx", "assumes _embedded is always there (Rebilly marks it optional)"
    ),
}

SLOW_SECONDS = 0.6  # the settings in test_broken give komo a 0.3 s timeout


class CarelessStore(MemoryStore):
    """The reference store, but forgetting one rule: dedupe (applies redeliveries again) or
    precedence (lets an older event win)."""

    def __init__(self, dedupe: bool = True, precedence: bool = True) -> None:
        super().__init__()
        self.dedupe, self.precedence = dedupe, precedence

    def record(self, vendor: str, obs: Observation) -> str:
        with self._lock:
            key = (vendor, obs.key)
            if self.dedupe and key in self._counts:
                return DUPLICATE
            self._counts[key] = self._counts.get(key, 0) + 1
            if obs.coupon_id is None:
                return APPLIED
            held = self._coupons.get((vendor, obs.coupon_id))
            older = (
                held is not None and None not in (obs.order, held.order) and obs.order < held.order
            )
            if self.precedence and older:
                return STALE
            self._coupons[(vendor, obs.coupon_id)] = Current(
                obs.status, obs.revision, obs.order, obs.key or ""
            )
            return APPLIED


class BrokenConsumer(Consumer):
    """The reference core with one defect (a key of ``DEFECTS``)."""

    def __init__(self, defect: str, settings: Any = None) -> None:
        store = CarelessStore(
            dedupe=defect != "applies-duplicates",
            precedence=defect not in ("old-revision-wins", "old-timestamp-wins"),
        )
        super().__init__(settings, store)
        self.defect = defect

    def handle(
        self, vendor: str, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        d = self.defect
        if d == "slow":
            threading.Event().wait(SLOW_SECONDS)
        if d == "no-get-verification" and method == "GET":
            return Answer(405, {"error": "POST only"})
        if d == "applies-before-auth" and method == "POST":
            try:
                early = json.loads(body)
            except ValueError:
                early = None
            for obs in self.observe(vendor, early) if isinstance(early, dict) else ():
                if obs.key is not None and obs.event_type is not None:
                    self.store.record(vendor, obs)
        if method == "POST" and self._authenticate(vendor, method, url, headers, body) is None:
            try:
                parsed = json.loads(body)
            except ValueError:
                if d == "500-on-malformed-json":
                    return Answer(500, {"error": "Internal Server Error"})
                parsed = None
            if isinstance(parsed, dict):
                crashed = self._crashes(vendor, parsed)
                if crashed is not None:
                    return crashed
        answer = super().handle(vendor, method, url, headers, body)
        if d == "digest-without-challenge" and answer.status == 401:
            return Answer(401, answer.payload)
        if d == "acks-refused-requests" and answer.status == 401:
            return Answer(200, {"ignored": 1})
        if d == "204-to-punchh" and answer.status == 200 and method == "POST":
            return Answer(204)
        return answer

    def _crashes(self, vendor: str, body: dict[str, Any]) -> Answer | None:
        d = self.defect
        try:
            if d == "500-on-missing-optional" and vendor == "rebilly":
                body["_embedded"]["coupon"]["description"].strip()
            if d == "trusts-rebilly-fields" and vendor == "rebilly":
                body["_embedded"]["coupon"]["status"].lower()
            if d == "500-on-nulls" and vendor == "punchh":
                body["payload"]["user"].get("first_name", "guest").title()
            unknown = any(o.event_type is None for o in self.observe(vendor, body))
            if d == "500-on-unknown-type" and unknown:
                raise LookupError("no handler for this event type")
            if d == "rejects-unknown-fields":
                for obs in self.observe(vendor, body):
                    et = catalogue.event_type(vendor, obs.event_type) if obs.event_type else None
                    if et is not None and schemas.errors(et.schema_path, body):
                        return Answer(400, {"error": "body does not match the schema"})
        except (KeyError, TypeError, AttributeError, LookupError) as exc:
            return Answer(500, {"error": f"{type(exc).__name__}: {exc}"})
        return None

    def _authenticate(
        self, vendor: str, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Answer | None:
        d = self.defect
        auth = self.authenticator(vendor)
        if d == "accepts-bad-signature" and isinstance(auth, authn.Hmac):
            present = authn.header(headers, "Authorization") and authn.header(headers, "x-pch-key")
            return None if present else Answer(401, {"error": "signature missing"})
        missing = isinstance(auth, authn.ApiKey) and authn.header(headers, auth.header) is None
        if d == "accepts-missing-auth" and missing:
            return None
        return super()._authenticate(vendor, method, url, headers, body)

    def observe(self, vendor: str, body: Mapping[str, Any]) -> tuple[Observation, ...]:
        found = super().observe(vendor, body)
        return found[:1] if self.defect == "applies-only-first-event" else found
