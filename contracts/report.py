"""Reports of a verify run: the compliance matrix for the terminal, JUnit XML and JSON."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from contracts import cases
from contracts.runner import ERROR, FAILED, PASSED, SKIPPED, Result
from emulator.reports import matrix as table


def counts(results: Sequence[Result]) -> Counter[str]:
    return Counter(r.status for r in results)


def summary_line(results: Sequence[Result], elapsed: float) -> str:
    """``verify: 152 passed, 0 failed, 5 skipped, 0 errors in 4.1s``: an error is a case the
    harness could not run (its cause is shown), never counted against the consumer."""
    c = counts(results)
    return (
        f"verify: {c[PASSED]} passed, {c[FAILED]} failed, {c[SKIPPED]} skipped, "
        f"{c[ERROR]} errors in {elapsed:.1f}s"
    )


def matrix(results: Sequence[Result], vendors: Sequence[str]) -> str:
    """Case by vendor: pass, FAIL, skip, or - where the case does not apply to the vendor."""
    names, grid = table.grid(
        ((r.case.name, r.case.vendor, r.status) for r in results), cases.names()
    )
    first = max([len("case"), *map(len, names)])
    cells = {(n, v): table.cell(grid.get((n, v), []))[1] for n in names for v in vendors}
    widths = [max(len(v), *(len(cells[(n, v)]) for n in names)) for v in vendors]
    lines = [
        "  ".join(
            [f"{'case':<{first}}", *(f"{v:<{w}}" for v, w in zip(vendors, widths, strict=True))]
        )
    ]
    for name in names:
        row = [f"{cells[(name, v)]:<{w}}" for v, w in zip(vendors, widths, strict=True)]
        lines.append("  ".join([f"{name:<{first}}", *row]).rstrip())
    return "\n".join(lines)


def text(results: Sequence[Result], vendors: Sequence[str], elapsed: float) -> str:
    """The whole terminal report: matrix, every failure in full, why cases were skipped, summary."""
    parts = [matrix(results, vendors)]
    for r in results:
        if r.status in (FAILED, ERROR):
            word = "FAILED" if r.status == FAILED else "ERROR (the harness, not the consumer)"
            parts.append(f"{word} {r.case.vendor} {r.case.id}\n{_indent(r.message)}")
    skipped = Counter((r.case.vendor, r.case.name, r.title) for r in results if r.status == SKIPPED)
    if skipped:
        lines = ["skipped:"]
        for (vendor, name, reason), n in skipped.items():
            times = f" (x{n})" if n > 1 else ""
            lines.append(f"  {vendor} {name}{times}: {reason}")
        parts.append("\n".join(lines))
    parts.append(summary_line(results, elapsed))
    return "\n\n".join(parts) + "\n"


def _indent(message: str) -> str:
    return "\n".join("  " + line if line else line for line in message.splitlines())


def junit(results: Sequence[Result], vendors: Sequence[str], elapsed: float) -> bytes:
    """One testsuite per vendor, one testcase per case; failures, errors and skips marked."""
    root = ET.Element("testsuites", name="coupon-emulator verify", time=f"{elapsed:.3f}")
    for vendor in vendors:
        mine = [r for r in results if r.case.vendor == vendor]
        c = counts(mine)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=vendor,
            tests=str(len(mine)),
            failures=str(c[FAILED]),
            errors=str(c[ERROR]),
            skipped=str(c[SKIPPED]),
            time=f"{sum(r.duration for r in mine):.3f}",
        )
        for r in mine:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"coupon-emulator.{vendor}",
                name=r.case.id,
                time=f"{r.duration:.3f}",
            )
            if r.status == FAILED:
                ET.SubElement(case, "failure", message=r.title).text = r.message
            elif r.status == ERROR:
                ET.SubElement(case, "error", message=r.title).text = r.message
            elif r.status == SKIPPED:
                ET.SubElement(case, "skipped", message=r.title)
            else:
                ET.SubElement(case, "system-out").text = r.title
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def json_report(
    results: Sequence[Result], meta: Mapping[str, Any], elapsed: float
) -> dict[str, Any]:
    c = counts(results)
    return {
        **meta,
        "summary": {
            "passed": c[PASSED],
            "failed": c[FAILED],
            "errors": c[ERROR],
            "skipped": c[SKIPPED],
            "total": len(results),
            "seconds": round(elapsed, 3),
        },
        "results": [
            {
                "vendor": r.case.vendor,
                "case": r.case.name,
                "event_type": r.case.event_type,
                "id": r.case.id,
                "status": r.status,
                "title": r.title,
                "message": r.message,
                "seconds": round(r.duration, 4),
                "reproduce": r.reproduce,
            }
            for r in results
        ],
    }
