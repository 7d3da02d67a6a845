"""What happens after an attempt: delivered, retried after a delay, failed, or exhausted.

Pure: the verdict depends only on the target's rules, the outcome of the attempt and how many
retries each rule has already spent on this delivery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from emulator.core.vendor import RetryRule, match_rule

# A delivery's states, as the outbox stores them.
PENDING, DELIVERED, FAILED, EXHAUSTED = "pending", "delivered", "failed", "exhausted"
FINAL = (DELIVERED, FAILED, EXHAUSTED)
# An attempt row's outcome when its request is sent again at once, within the same try (a Digest
# challenge answered, a kept-alive connection found closed before any byte of the answer).
RESENT = "resent"


@dataclass(frozen=True)
class Verdict:
    """``status`` is the delivery's new state; ``delay`` (vendor seconds) is set when it is retried."""

    status: str
    delay: float | None
    retry_counts: Mapping[str, int]
    reason: str


def judge(
    rules: Sequence[RetryRule],
    is_success: Callable[[int], bool],
    status: int | None,
    error_kind: str | None,
    retry_counts: Mapping[str, int],
) -> Verdict:
    """Decide a delivery's fate from one attempt's outcome.

    Each rule keeps its own count, so a 429 ladder and a 5xx ladder advance independently, as
    Punchh documents them. ``error_kind`` is ``"timeout"`` or ``"connection"`` when no status came.
    """
    if status is not None and is_success(status):
        return Verdict(DELIVERED, None, retry_counts, f"answered {status}")
    kind = error_kind or "connection"
    reason = f"answered {status}" if status is not None else f"no answer ({kind})"
    rule = match_rule(rules, kind, status)
    if rule is None or not rule.delays:
        return Verdict(FAILED, None, retry_counts, f"{reason}: not retried")
    key = "|".join(rule.on)
    spent = retry_counts.get(key, 0)
    if spent >= len(rule.delays):
        return Verdict(
            EXHAUSTED, None, retry_counts, f"{reason}: {len(rule.delays)} retries exhausted"
        )
    counts = {**retry_counts, key: spent + 1}
    delay = rule.delays[spent]
    return Verdict(
        PENDING, delay, counts, f"{reason}: retry {spent + 1} of {len(rule.delays)} in {delay:g}s"
    )
