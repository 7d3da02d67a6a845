"""The consumer core: what a correct webhook consumer of every vendor does, with no web framework.

API (stable; the reference consumer and the emulator's built-in sink both mount it)::

    from contracts.consumer import Consumer, MemoryStore

    store = MemoryStore()                       # thread-safe state; any object of the Store protocol
    core = Consumer(settings, store)            # settings: emulator.readers.config.Settings, or None (no auth)
    answer = core.handle(vendor, method, url, headers, body)   # -> Answer(status, payload, headers)
    core.probe_applied(vendor, key)             # -> Answer 200 {"count": n}            (probe protocol)
    core.probe_coupon(vendor, coupon_id)        # -> Answer 200 {"status", "revision"} or 404
    store.applied(vendor, key) -> int; store.coupon(vendor, coupon_id) -> Current | None; store.clear()

``handle`` takes the request as received: ``url`` is the full URL with the raw request target (path
and query exactly as sent: an HMAC signature covers them), ``headers`` any mapping (looked up
case-insensitively), ``body`` the raw bytes. It does, in order:

1. an unknown vendor: 404;
2. authentication per the vendor's settings, with ``emulator.core.auth``'s ``verify`` (the one the
   emulator signs with): a failure is 401 and nothing is read or applied; Digest answers a request
   without valid credentials with a 401 challenge, accepts only nonces it issued, and each nonce
   count once (a replayed Authorization is refused);
3. ``GET``: the verification GET of vendors that send one (``verification_get``) and a health
   ping (any vendor): 200;
4. a body that is not a JSON object: 400, never a 5xx;
5. each event the body carries, read by the vendor's own ``observe``: an unknown type, or one
   without a dedupe key, is acknowledged and ignored; a dedupe key seen before is acknowledged and
   not applied again; an event older than the one its coupon holds (by the vendor's order key,
   ``Observation.order``: a revision, a timestamp) is recorded but does not win;
6. 200 with counts, for every vendor (some count only some 2xx codes as delivered: their
   profile's ``success``).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from emulator.core import auth as authn
from emulator.core import catalogue
from emulator.core.vendor import Observation

APPLIED, DUPLICATE, STALE = "applied", "duplicate", "stale"
DELIVERY_METHODS = ("POST", "PUT", "PATCH")
# Digest nonces this consumer issued and still accepts; older ones get a fresh challenge.
MAX_NONCES = 1024


@dataclass(frozen=True)
class Current:
    """The event a consumer holds as current for one coupon: what the probe reports."""

    status: str | None
    revision: int | None
    order: float | None
    key: str


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, a JSON payload (None: empty body) and extra headers."""

    status: int
    payload: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def body(self) -> bytes:
        return b"" if self.payload is None else json.dumps(self.payload).encode()


class Store(Protocol):
    """A consumer's state: which events it applied and which event each coupon holds as current."""

    def record(self, vendor: str, observation: Observation) -> str:
        """Apply one identified event atomically; ``applied``, ``duplicate`` or ``stale``."""
        ...

    def applied(self, vendor: str, key: str) -> int:
        """Times the event with dedupe key ``key`` was applied (0 if never)."""
        ...

    def coupon(self, vendor: str, coupon_id: str) -> Current | None: ...

    def clear(self) -> None: ...


class MemoryStore:
    """The Store in memory, one lock around every change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], int] = {}
        self._coupons: dict[tuple[str, str], Current] = {}

    def record(self, vendor: str, observation: Observation) -> str:
        if observation.key is None:
            raise ValueError("only events with a dedupe key can be recorded")
        with self._lock:
            key = (vendor, observation.key)
            if key in self._counts:
                return DUPLICATE
            self._counts[key] = 1
            if observation.coupon_id is None:
                return APPLIED
            held = self._coupons.get((vendor, observation.coupon_id))
            if held is not None and _older(observation.order, held.order):
                return STALE
            self._coupons[(vendor, observation.coupon_id)] = Current(
                observation.status, observation.revision, observation.order, observation.key
            )
            return APPLIED

    def applied(self, vendor: str, key: str) -> int:
        with self._lock:
            return self._counts.get((vendor, key), 0)

    def coupon(self, vendor: str, coupon_id: str) -> Current | None:
        with self._lock:
            return self._coupons.get((vendor, coupon_id))

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self._coupons.clear()


def _older(order: float | None, held: float | None) -> bool:
    # Equal orders (two events in the same second, the same revision) let the later arrival win.
    return order is not None and held is not None and order < held


class Consumer:
    """A correct consumer of every vendor in the catalogue; thread-safe."""

    def __init__(self, settings: Any = None, store: Store | None = None) -> None:
        self.settings = settings
        self.store: Store = store if store is not None else MemoryStore()
        self._lock = threading.Lock()
        self._nonces: OrderedDict[str, set[str]] = OrderedDict()  # nonce -> counts used
        self._opaque = secrets.token_hex(8)

    def authenticator(self, vendor: str) -> authn.Authenticator:
        """The vendor's configured authenticator; no settings for it means no auth."""
        vendors = getattr(self.settings, "vendors", None) or {}
        target = vendors.get(vendor)
        return target.auth if target is not None else authn.NoAuth()

    # --- the webhook endpoint -------------------------------------------------------------------

    def handle(
        self, vendor: str, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        if vendor not in catalogue.VENDORS:
            valid = ", ".join(catalogue.VENDORS)
            return Answer(404, {"error": f"unknown vendor {vendor!r}; valid: {valid}"})
        method = method.upper()
        refused = self._authenticate(vendor, method, url, headers, body)
        if refused is not None:
            return refused
        if method == "GET":
            return Answer(200, {"ok": True, "vendor": vendor})
        if method not in DELIVERY_METHODS:
            return Answer(
                405, {"error": f"{method} is not a delivery method"}, {"Allow": "GET, POST"}
            )
        try:
            parsed = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            return Answer(400, {"error": f"the body is not valid JSON: {exc}"})
        if not isinstance(parsed, dict):
            return Answer(400, {"error": f"expected a JSON object, got {type(parsed).__name__}"})
        counts = {APPLIED: 0, DUPLICATE: 0, STALE: 0, "ignored": 0}
        for observation in self.observe(vendor, parsed):
            if observation.event_type is None or observation.key is None:
                counts["ignored"] += 1  # a type we do not know (yet): acknowledge, do nothing
                continue
            counts[self.store.record(vendor, observation)] += 1
        return Answer(200, counts)

    def observe(self, vendor: str, body: Mapping[str, Any]) -> tuple[Observation, ...]:
        """The events of a body, as the vendor's own module reads them."""
        return catalogue.vendor(vendor).observe(body)

    def _authenticate(
        self, vendor: str, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Answer | None:
        """None when the request may proceed, else the 401 that refuses it."""
        auth = self.authenticator(vendor)
        if isinstance(auth, authn.Digest):
            return self._digest(auth, method, url, headers)
        ok, reason = auth.verify(method, url, body, headers)
        if ok:
            return None
        challenge = {"WWW-Authenticate": 'Basic realm="webhooks"'} if auth.type == "basic" else {}
        return Answer(401, {"error": reason}, challenge)

    def _digest(
        self, auth: authn.Digest, method: str, url: str, headers: Mapping[str, str]
    ) -> Answer | None:
        value = authn.header(headers, "Authorization")
        params: dict[str, str] = {}
        if value is not None and value.strip().lower().startswith("digest"):
            try:
                params = authn.parse_challenges(value.strip())[0][1]
            except (authn.DigestError, IndexError):
                params = {}
        nonce = params.get("nonce")
        with self._lock:
            issued = nonce is not None and nonce in self._nonces
        if value is not None and issued:
            ok, reason = authn.verify_digest(
                value, method, authn.request_target(url), auth.username, auth.password,
                realm=auth.realm, nonce=nonce, opaque=self._opaque,
            )  # fmt: skip
            if ok and self._first_use(nonce, params.get("nc", "")):
                return None
            if ok:
                reason = "a nonce count used before: a replayed Authorization"
        else:
            reason = "Digest credentials needed" if value is None else "unknown or expired nonce"
        return Answer(401, {"error": reason}, auth.challenge(self._new_nonce(), self._opaque))

    def _first_use(self, nonce: str, nc: str) -> bool:
        """Whether this nonce count is new for the nonce (RFC 7616: a replay reuses one)."""
        with self._lock:
            used = self._nonces.get(nonce)
            if used is None or nc.lower() in used:
                return False
            used.add(nc.lower())
            return True

    def _new_nonce(self) -> str:
        nonce = secrets.token_hex(16)
        with self._lock:
            self._nonces[nonce] = set()
            while len(self._nonces) > MAX_NONCES:
                self._nonces.popitem(last=False)
        return nonce

    # --- the probe ------------------------------------------------------------------------------

    def probe_applied(self, vendor: str | None, key: str | None) -> Answer:
        if not vendor or key is None:
            return Answer(400, {"error": "pass vendor=V and key=K"})
        return Answer(200, {"count": self.store.applied(vendor, key)})

    def probe_coupon(self, vendor: str | None, coupon_id: str | None) -> Answer:
        if not vendor or coupon_id is None:
            return Answer(400, {"error": "pass vendor=V and id=ID"})
        held = self.store.coupon(vendor, coupon_id)
        if held is None:
            return Answer(404, {"error": f"no {vendor} coupon {coupon_id!r} seen"})
        return Answer(200, {"status": held.status, "revision": held.revision})
