"""Requests a scenario sends broken on purpose (``emulator.core.inject``): how they are signed and judged.

The delivery's label says what it is, so a resumed run treats it the same way. A wrong-auth
request is signed with the target's auth type and a wrong secret; a missing-auth one carries no
auth headers (and answers no Digest challenge). A correct consumer refuses both, and malformed
JSON, with a 4xx: that outcome counts as delivered, anything else as failed, and none is retried.
An oversized request is the same event padded: taking it (2xx) or refusing it (4xx) are both right.
Against a target without auth, the auth cases are plain copies, judged like any delivery.
"""

from __future__ import annotations

import random
from typing import Any

from emulator.core.auth import wrong_credentials
from emulator.core.inject import MUST_REFUSE
from emulator.core.policy import DELIVERED, FAILED, Verdict


def tokens(label: str) -> frozenset[str]:
    return frozenset(label.split(",")) if label else frozenset()


def auth_mode(label: str) -> str | None:
    """``"wrong"`` or ``"missing"`` when the label asks to break this request's auth."""
    found = tokens(label)
    if "missing_auth" in found:
        return "missing"
    if "wrong_auth" in found:
        return "wrong"
    return None


def wrong(auth: Any, rng: random.Random | None = None) -> Any:
    """The same authenticator with a wrong secret (same type, same headers, a random value):
    ``emulator.core.auth.wrong_credentials``, the one way wrong credentials are made."""
    return wrong_credentials(auth, rng or random.Random())


def expectation(label: str, auth_type: str) -> str | None:
    """``"refuse"``, ``"refuse-or-take"`` or None (a plain delivery) for a delivery's label."""
    found = tokens(label)
    refused = found & MUST_REFUSE
    if auth_type == "none":
        refused -= {"wrong_auth", "missing_auth"}
    if refused:
        return "refuse"
    if "oversized" in found:
        return "refuse-or-take"
    return None


def judge(expect: str, status: int | None, kind: str | None, counts: Any) -> Verdict:
    """The verdict on a request that was broken on purpose: never retried."""
    if status is not None and 400 <= status < 500:
        return Verdict(DELIVERED, None, counts, f"refused as expected: answered {status}")
    if status is not None and 200 <= status < 300 and expect == "refuse-or-take":
        return Verdict(DELIVERED, None, counts, f"answered {status}")
    if status is not None and 200 <= status < 300:
        why = "the consumer accepted a request it must refuse (wrong or missing auth, or bad JSON)"
        return Verdict(FAILED, None, counts, f"answered {status}: {why}")
    got = f"answered {status}" if status is not None else f"no answer ({kind or 'connection'})"
    return Verdict(FAILED, None, counts, f"{got}: expected a 4xx refusal; not retried")
