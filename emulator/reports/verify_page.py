"""A verify run as HTML: the compliance matrix coloured by outcome, and every failure with its
request, the consumer's answer and its ``Reproduce with:`` line.

Rendered from the verify JSON report (``contracts.report.json_report``), the same data the
``--json`` file and the stored results hold. Everything that came from the consumer is escaped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from emulator.reports import html
from emulator.reports.matrix import ERROR, FAILED, SKIPPED, cell, grid

# The labelled lines of a failure message (contracts.checks.message), shown as a list.
_LABELS = {"sent:": "request", "got:": "answer", "expected:": "expected"}


def vendors_of(report: Mapping[str, Any]) -> list[str]:
    consumers = report.get("consumers") or {}
    found = list(consumers) or []
    for r in report.get("results", []):
        if r["vendor"] not in found:
            found.append(r["vendor"])
    return found


def summary(report: Mapping[str, Any]) -> str:
    s = report.get("summary", {})
    return html.counts(
        [
            ("failed", s.get("failed", 0), "bad" if s.get("failed") else ""),
            ("errors", s.get("errors", 0), "warn" if s.get("errors") else ""),
            ("passed", s.get("passed", 0), "good"),
            ("skipped", s.get("skipped", 0), ""),
        ]
    )


def matrix(report: Mapping[str, Any], order: Sequence[str] = ()) -> str:
    """The case-by-vendor table; each cell's class names its kind (pass, fail, error, skip, none)."""
    vendors = vendors_of(report)
    names, cells = grid(((r["case"], r["vendor"], r["status"]) for r in report["results"]), order)
    head = "".join(f"<th>{escape(v)}</th>" for v in vendors)
    rows = []
    for name in names:
        tds = []
        for vendor in vendors:
            kind, text = cell(cells.get((name, vendor), []))
            tds.append(
                f'<td class="cell {kind}" data-vendor="{escape(vendor)}">{escape(text)}</td>'
            )
        rows.append(f'<tr data-case="{escape(name)}"><th>{escape(name)}</th>{"".join(tds)}</tr>')
    return (
        f'<table class="matrix" id="matrix"><thead><tr><th>case</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def failures(report: Mapping[str, Any]) -> str:
    """Every failed case (and harness error) in full."""
    bad = [r for r in report["results"] if r["status"] in (FAILED, ERROR)]
    if not bad:
        return '<p class="muted" id="no-failures">No failures.</p>'
    return "".join(_failure(r) for r in bad)


def _failure(r: Mapping[str, Any]) -> str:
    error = r["status"] == ERROR
    lines = [ln for ln in r["message"].splitlines() if not ln.startswith("Reproduce with: ")]
    fields = _fields(lines[1:]) if not error else []
    if fields:
        body = (
            "<dl>"
            + "".join(
                f'<dt>{label}</dt><dd><pre class="{label}">{escape(text)}</pre></dd>'
                for label, text in fields
            )
            + "</dl>"
        )
    else:
        body = f'<pre class="message">{escape(chr(10).join(lines))}</pre>'
    word = "error (the harness could not run this case)" if error else "failed"
    reproduce = r.get("reproduce") or ""
    return (
        f'<section class="failure{" error" if error else ""}" data-vendor="{escape(r["vendor"])}" '
        f'data-case="{escape(r["id"])}"><h3>{escape(r["vendor"])} {escape(r["id"])}: {word}</h3>'
        f"<p>{escape(r['title'])}</p>{body}"
        f'<p class="reproduce">Reproduce with: <code>{escape(reproduce)}</code></p></section>'
    )


def _fields(lines: Sequence[str]) -> list[tuple[str, str]]:
    """``sent:``/``got:``/``expected:`` blocks of a failure message, continuation lines kept;
    empty when the message has another shape (then it is shown whole)."""
    fields: list[tuple[str, list[str]]] = []
    for line in lines:
        head, _, rest = line.strip().partition(" ")
        if head in _LABELS and line.startswith("  ") and not line.startswith("   "):
            fields.append((_LABELS[head], [rest.strip()]))
        elif fields:
            fields[-1][1].append(line.strip())
        else:
            return []
    return [(label, "\n".join(text)) for label, text in fields]


def skipped(report: Mapping[str, Any]) -> str:
    reasons = Counter(
        (r["vendor"], r["case"], r["title"]) for r in report["results"] if r["status"] == SKIPPED
    )
    if not reasons:
        return ""
    items = "".join(
        f"<li>{escape(v)} {escape(c)}{f' (x{n})' if n > 1 else ''}: {escape(why)}</li>"
        for (v, c, why), n in reasons.items()
    )
    return f'<h2>Skipped</h2><ul id="skipped">{items}</ul>'


def body(report: Mapping[str, Any], order: Sequence[str] = ()) -> str:
    """The report without its page: summary, matrix, failures, skips."""
    s = report.get("summary", {})
    consumers = report.get("consumers") or {}
    who = ", ".join(f"{escape(v)} {escape(u)}" for v, u in consumers.items())
    meta = (
        f'<p class="muted">seed {escape(str(report.get("seed")))}; probe '
        f"{escape(str(report.get('probe') or 'none'))}; {s.get('total', 0)} cases in "
        f"{s.get('seconds', 0)} s{'; consumers: ' + who if who else ''}</p>"
    )
    return (
        f"{summary(report)}{meta}<h2>Compliance matrix</h2>{matrix(report, order)}"
        f"<h2>Failures</h2>{failures(report)}{skipped(report)}"
    )


def document(report: Mapping[str, Any], order: Sequence[str] = ()) -> str:
    """The whole self-contained page of a verify run."""
    s = report.get("summary", {})
    verdict = "failed" if s.get("failed") else "errors" if s.get("errors") else "passed"
    return html.page(
        f"verify: {verdict}", f"<h1>coupon-emulator verify: {verdict}</h1>{body(report, order)}"
    )
