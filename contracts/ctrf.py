"""A verify run in the Common Test Report Format (CTRF, https://ctrf.io), which CI tools read.

One test per case and vendor. Skips stay ``skipped`` with their reason; a case the harness could
not run is ``other`` (``rawStatus`` "error"), never a failure of the consumer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from contracts.report import counts
from contracts.runner import ERROR, FAILED, PASSED, SKIPPED, Result
from emulator import __version__

SPEC_VERSION = "0.0.0"  # the CTRF specification this document follows
_STATUS = {PASSED: "passed", FAILED: "failed", SKIPPED: "skipped", ERROR: "other"}


def test(r: Result) -> dict[str, Any]:
    item: dict[str, Any] = {
        "name": f"{r.case.vendor} {r.case.id}",
        "status": _STATUS[r.status],
        "duration": round(r.duration * 1000),
        "suite": [r.case.vendor, r.case.name],
        "rawStatus": r.status,
        "tags": [r.case.vendor],
        "extra": {"event_type": r.case.event_type, "reproduce": r.reproduce},
    }
    if r.status in (FAILED, ERROR):
        item["message"] = r.title
        item["trace"] = r.message
    elif r.title:  # the skip's reason, or what a passed case observed
        item["message"] = r.title
    return item


def ctrf(
    results: Sequence[Result], meta: Mapping[str, Any], start_ms: int, stop_ms: int
) -> dict[str, Any]:
    """The CTRF document; ``meta`` (seed, consumers, probe) goes in ``results.extra``."""
    c = counts(results)
    return {
        "reportFormat": "CTRF",
        "specVersion": SPEC_VERSION,
        "generatedBy": "coupon-emulator",
        "results": {
            "tool": {"name": "coupon-emulator verify", "version": __version__},
            "summary": {
                "tests": len(results),
                "passed": c[PASSED],
                "failed": c[FAILED],
                "skipped": c[SKIPPED],
                "pending": 0,
                "other": c[ERROR],
                "suites": len({r.case.vendor for r in results}),
                "start": start_ms,
                "stop": stop_ms,
                "duration": stop_ms - start_ms,
            },
            "tests": [test(r) for r in results],
            "extra": dict(meta),
        },
    }
