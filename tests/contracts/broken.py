"""Deliberately broken consumers, one per rule: the reference core with one defect each.

Each defect is what real consumers get wrong; ``DEFECTS`` names the vendor to run it against and
the cases that must catch it. An ``exact`` defect fails those cases and passes every other case
of its vendor; the others break delivery as a whole (every case shows them, the named case
explains them) or are caught by chance elsewhere too (punchh's own bodies carry an id above 2**53
now and then).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from contracts.consumer import APPLIED, DUPLICATE, STALE, Answer, Consumer, Current, MemoryStore
from emulator.core import auth as authn
from emulator.core import catalogue
from emulator.core.vendor import Observation
from emulator.readers import schemas
from tests.contracts.defects import DEFECTS, Defect

__all__ = ["DEFECTS", "BrokenConsumer", "Defect"]

# The settings in test_broken give komo a 0.3 s timeout; a body near 1 MiB takes twice that.
SECONDS_PER_MIB = 0.6
RACE_SECONDS = 0.2  # the work between "not seen yet" and "recorded"


def _two_digit_text(value: float | None) -> str:
    return "" if value is None else str(int(value))


class CarelessStore(MemoryStore):
    """The reference store, forgetting one rule: dedupe, precedence, or comparing as numbers;
    or deduping on a coarser key than the vendor's (``coarse``)."""

    def __init__(
        self,
        dedupe: bool = True,
        precedence: bool = True,
        as_text: bool = False,
        coarse: Any = None,
    ) -> None:
        super().__init__()
        self.dedupe, self.precedence, self.as_text, self.coarse = (
            dedupe,
            precedence,
            as_text,
            coarse,
        )
        self._coarse_seen: set[tuple[str, str]] = set()

    def record(self, vendor: str, obs: Observation) -> str:
        with self._lock:
            key = (vendor, obs.key)
            if self.dedupe and key in self._counts:
                return DUPLICATE
            coarse = self.coarse(vendor, obs) if self.coarse else None
            if coarse is not None:
                if (vendor, coarse) in self._coarse_seen:
                    return DUPLICATE
                self._coarse_seen.add((vendor, coarse))
            self._counts[key] = self._counts.get(key, 0) + 1
            if obs.coupon_id is None:
                return APPLIED
            held = self._coupons.get((vendor, obs.coupon_id))
            older = held is not None and None not in (obs.order, held.order)
            if older and self.as_text:
                older = _two_digit_text(obs.order) < _two_digit_text(held.order)
            elif older:
                older = obs.order < held.order  # type: ignore[operator]
            if self.precedence and older:
                return STALE
            self._coupons[(vendor, obs.coupon_id)] = Current(
                obs.status, obs.revision, obs.order, obs.key or ""
            )
            return APPLIED


def _without_revision(vendor: str, obs: Observation) -> str | None:
    # rebilly coupon events: eventType:couponId:revision -> eventType:couponId
    return obs.key.rsplit(":", 1)[0] if obs.key and obs.key.count(":") == 2 else None


def _coupon_only(vendor: str, obs: Observation) -> str | None:
    return f"coupon:{obs.coupon_id}" if obs.coupon_id is not None else None


class BrokenConsumer(Consumer):
    """The reference core with one defect (a key of ``DEFECTS``)."""

    def __init__(self, defect: str, settings: Any = None) -> None:
        coarse = {"dedupe-without-revision": _without_revision, "dedupe-on-coupon": _coupon_only}
        store = CarelessStore(
            dedupe=defect != "applies-duplicates",
            precedence=defect not in ("old-revision-wins", "old-timestamp-wins"),
            as_text=defect == "revision-as-text",
            coarse=coarse.get(defect),
        )
        super().__init__(settings, store)
        self.defect = defect
        self._race_seen: set[tuple[str, str]] = set()
        self._local = threading.local()

    def handle(
        self, vendor: str, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        # Authenticated once per request (a Digest nonce count is good once), then remembered.
        self._local.decided = None
        try:
            return self._handle(vendor, method, url, headers, body)
        finally:
            self._local.decided = None

    def _handle(
        self, vendor: str, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        d = self.defect
        if d == "slow-on-large-bodies":
            threading.Event().wait(SECONDS_PER_MIB * len(body) / 2**20)
        if d == "no-get-verification" and method == "GET":
            return Answer(405, {"error": "POST only"})
        if d == "ascii-only" and method == "POST" and not body.isascii():
            return Answer(400, {"error": "the body has characters other than ASCII"})
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
                if d == "racy-dedupe":
                    return self._racy(vendor, parsed)
        answer = super().handle(vendor, method, url, headers, body)
        if d == "digest-without-challenge" and answer.status == 401:
            return Answer(401, answer.payload)
        if d == "acks-refused-requests" and answer.status == 401:
            return Answer(200, {"ignored": 1})
        if d == "204-to-punchh" and answer.status == 200 and method == "POST":
            return Answer(204)
        return answer

    def _racy(self, vendor: str, body: dict[str, Any]) -> Answer:
        # Seen? no -> do the work -> record: two deliveries at once both pass the check.
        for obs in self.observe(vendor, body):
            if obs.key is None or obs.event_type is None:
                continue
            if (vendor, obs.key) in self._race_seen:
                continue
            threading.Event().wait(RACE_SECONDS)
            self._race_seen.add((vendor, obs.key))
            store: Any = self.store
            with store._lock:
                store._counts[(vendor, obs.key)] = store._counts.get((vendor, obs.key), 0) + 1
                if obs.coupon_id is not None:
                    store._coupons[(vendor, obs.coupon_id)] = Current(
                        obs.status, obs.revision, obs.order, obs.key
                    )
        return Answer(200, {"applied": 1})

    def _crashes(self, vendor: str, body: dict[str, Any]) -> Answer | None:
        d = self.defect
        try:
            if d == "500-on-missing-optional" and vendor == "rebilly":
                body["_embedded"]["coupon"]["description"].strip()
            if d == "trusts-rebilly-fields" and vendor == "rebilly":
                body["_embedded"]["coupon"]["status"].lower()
            if d == "500-on-nulls" and vendor == "punchh":
                body["payload"]["user"].get("first_name", "guest").title()
            if d == "keys-as-columns" and vendor == "komo":
                for key in body:
                    if len(key) > 63:
                        raise KeyError(f"invalid column name {key[:70]!r}")
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
        decided = getattr(self._local, "decided", None)
        if decided is None:
            decided = self._local.decided = (self._check(vendor, method, url, headers, body),)
        return decided[0]

    def _check(
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
        if d == "case-sensitive-headers" and isinstance(auth, authn.ApiKey):
            if dict(headers).get(auth.header) != auth.value:  # the exact name, as a plain dict
                return Answer(401, {"error": f"{auth.header} is missing or wrong"})
            return None
        if d == "signs-parsed-json" and isinstance(auth, authn.Hmac) and body:
            try:
                written = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False)
            except ValueError:
                return Answer(401, {"error": "cannot check the signature of a broken body"})
            body = written.encode()
        if d == "signs-path-only" and isinstance(auth, authn.Hmac):
            url = urlunsplit(urlsplit(url)._replace(query=""))
        return super()._authenticate(vendor, method, url, headers, body)

    def _first_use(self, nonce: str, nc: str) -> bool:
        if self.defect == "accepts-replayed-digest":
            return True
        return super()._first_use(nonce, nc)

    def observe(self, vendor: str, body: Mapping[str, Any]) -> tuple[Observation, ...]:
        d = self.defect
        if d == "ids-as-floats":
            body = _as_doubles(body)
        found = super().observe(vendor, body)
        if d == "applies-only-first-event":
            return found[:1]
        if d == "applies-first-50-events":
            return found[:50]
        if d == "redemptions-unordered" and "redemptionId" in body:
            return tuple(replace(o, order=None) for o in found)
        if d == "dispatches-on-event-name" and vendor == "fabric":
            name = _by_event_name(body)
            return tuple(replace(o, event_type=o.event_type or name) for o in found)
        return found


def _as_doubles(node: Any) -> Any:
    """What a parser that reads every number as a double makes of a document."""
    if isinstance(node, Mapping):
        return {k: _as_doubles(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_as_doubles(v) for v in node]
    if isinstance(node, int) and not isinstance(node, bool):
        return int(float(node))
    return node


def _by_event_name(body: Mapping[str, Any]) -> str | None:
    """fabric's first event type whose events carry this ``data.eventName``."""
    events = body.get("events")
    name = (
        events[0].get("data", {}).get("eventName") if isinstance(events, list) and events else None
    )
    prefix = {"COUPON": "offers:coupon:", "COUPON-CODE": "offers:couponCode:"}.get(str(name))
    for et in catalogue.event_types("fabric"):
        if prefix and et.name.startswith(prefix):
            return et.name
    return None
