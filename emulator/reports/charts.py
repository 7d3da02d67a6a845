"""Charts of a delivery run as inline SVG: attempts over time by vendor and outcome, the latency
histogram, attempts per delivery.

Pure functions from points to SVG text. Colours are SVG presentation attributes, never ``style``
attributes, so the charts draw under the dashboard's Content-Security-Policy. Every series is a
``<g class="series" data-series="...">`` and every bar carries its numbers in a ``<title>``, so a
page (and a test) can read what a chart shows.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

# An attempt's outcome as charts and badges name it: "pending" on an attempt means a retry was
# scheduled after it, so it is shown as "retrying".
OUTCOMES = ("delivered", "retrying", "resent", "verified", "pending", "failed", "exhausted")
OUTCOME_COLOURS = {
    "delivered": "#2f9e5b",
    "retrying": "#e0a526",
    "resent": "#c7b26f",
    "verified": "#6f8fc7",
    "pending": "#b9bfcc",
    "failed": "#d64545",
    "exhausted": "#8e1f1f",
}
SERIES_COLOURS = ("#3867d6", "#20a39e", "#d9822b", "#8854d0", "#c2185b", "#5d6d7e")
WIDTH = 720
LEFT, RIGHT, TOP = 84, 12, 26
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


@dataclass(frozen=True)
class Point:
    """One logged request: its vendor, when it started (epoch seconds), outcome and duration."""

    vendor: str
    at: float
    outcome: str
    duration_ms: float


def attempt_outcome(stored: str) -> str:
    """The outcome an attempt row stores, as shown: a failed try with a retry scheduled is
    ``retrying``."""
    return "retrying" if stored == "pending" else stored


def series_colour(index: int) -> str:
    return SERIES_COLOURS[index % len(SERIES_COLOURS)]


def timeline(points: Sequence[Point], bins: int = 48) -> str:
    """Requests over time, one row (series) per vendor, each time slot a bar stacked by outcome."""
    if not points:
        return _empty("timeline", "Requests over time")
    vendors = list(dict.fromkeys(p.vendor for p in points))
    t0 = min(p.at for p in points)
    span = max(max(p.at for p in points) - t0, 1e-3)
    counts: dict[tuple[str, int, str], int] = Counter(
        (p.vendor, min(int((p.at - t0) / span * bins), bins - 1), p.outcome) for p in points
    )
    totals = Counter({(v, b): 0 for v in vendors for b in range(bins)})
    for (vendor, slot, _), n in counts.items():
        totals[(vendor, slot)] += n
    peak = max(totals.values()) or 1
    row, plot = 46, WIDTH - LEFT - RIGHT
    height = TOP + row * len(vendors) + 34
    slot_w = plot / bins
    parts = [_open("timeline", height, f"Requests over time ({len(points)} requests)")]
    for i, vendor in enumerate(vendors):
        base = TOP + row * (i + 1) - 6
        parts.append(f'<g class="series" data-series="{escape(vendor)}">')
        parts.append(
            f'<text x="{LEFT - 8}" y="{base - row / 2 + 8:.1f}" text-anchor="end" {FONT}>'
            f"{escape(vendor)}</text>"
        )
        parts.append(
            f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" stroke="#d6dae3"/>'
        )
        for slot in range(bins):
            y = float(base)
            for outcome in OUTCOMES:
                n = counts.get((vendor, slot, outcome), 0)
                if not n:
                    continue
                h = n / peak * (row - 12)
                y -= h
                when = f"{slot * span / bins:.2f}-{(slot + 1) * span / bins:.2f}s"
                parts.append(
                    f'<rect x="{LEFT + slot * slot_w + 0.5:.1f}" y="{y:.1f}" '
                    f'width="{max(slot_w - 1, 1):.1f}" height="{h:.1f}" '
                    f'fill="{OUTCOME_COLOURS.get(outcome, "#999")}" data-outcome="{outcome}">'
                    f"<title>{escape(vendor)} {when}: {n} {outcome}</title></rect>"
                )
        parts.append("</g>")
    axis_y = TOP + row * len(vendors) + 8
    parts.append(_time_axis(axis_y, span))
    present = [o for o in OUTCOMES if any(k[2] == o for k in counts)]
    parts.append(_legend([(o, OUTCOME_COLOURS[o]) for o in present], height - 6))
    parts.append("</svg>")
    return "".join(parts)


def latency(points: Sequence[Point], bins: int = 24) -> str:
    """How long requests took: a histogram of durations, bars stacked by vendor (one series each).
    The range ends at the 99th percentile; slower requests count in the last bar."""
    durations = sorted(p.duration_ms for p in points)
    if not durations:
        return _empty("latency", "Latency")
    vendors = list(dict.fromkeys(p.vendor for p in points))
    top = max(durations[min(len(durations) - 1, math.ceil(len(durations) * 0.99) - 1)], 1e-3)
    width = top / bins
    counts = Counter((p.vendor, min(int(p.duration_ms / width), bins - 1)) for p in points)
    plot_h, plot_w = 150, WIDTH - LEFT - RIGHT
    height = TOP + plot_h + 48
    base = TOP + plot_h
    bar_w = plot_w / bins
    median = durations[len(durations) // 2]
    title = f"Latency ({len(durations)} requests, median {median:.1f} ms, p99 {top:.1f} ms)"
    parts = [_open("latency", height, title)]
    series = [
        (vendor, series_colour(i), {b: n for (v, b), n in counts.items() if v == vendor})
        for i, vendor in enumerate(vendors)
    ]

    def bar_title(vendor: str, b: int, n: int) -> str:
        last = "+" if b == bins - 1 else ""
        return f"{escape(vendor)} {b * width:.1f}-{(b + 1) * width:.1f}{last} ms: {n}"

    parts += _stacked_bars(series, bins, plot_h, bar_w, 0.5, bar_title)
    for frac in (0, 0.25, 0.5, 0.75, 1):
        x = LEFT + frac * plot_w
        parts.append(
            f'<text x="{x:.1f}" y="{base + 14}" text-anchor="{_anchor(frac)}" {FONT}>'
            f"{frac * top:.1f} ms</text>"
        )
    parts.append(_legend([(v, series_colour(i)) for i, v in enumerate(vendors)], height - 6))
    parts.append("</svg>")
    return "".join(parts)


def attempts_per_delivery(tally: Mapping[tuple[int, str], int]) -> str:
    """How many attempts each delivery took: ``{(attempts, status): deliveries}`` drawn as one bar
    per count, stacked by the deliveries' status (one series per status)."""
    tally = Counter({k: n for k, n in tally.items() if n})
    if not tally:
        return _empty("retries", "Attempts per delivery")
    most = max(n for n, _ in tally)
    statuses = [
        s for s in ("delivered", "pending", "failed", "exhausted") if any(k[1] == s for k in tally)
    ]
    statuses += sorted({s for _, s in tally} - set(statuses))
    plot_h, plot_w = 120, WIDTH - LEFT - RIGHT
    height = TOP + plot_h + 48
    base = TOP + plot_h
    slots = most + 1
    bar_w = min(plot_w / slots, 60)
    total = sum(tally.values())
    retried = sum(k for (n, _), k in tally.items() if n > 1)
    parts = [_open("retries", height, f"Attempts per delivery ({retried} of {total} retried)")]
    series = [
        (
            status,
            OUTCOME_COLOURS.get(status, "#999"),
            {n: k for (n, s), k in tally.items() if s == status},
        )
        for status in statuses
    ]
    parts += _stacked_bars(
        series, slots, plot_h, bar_w, 2,
        lambda status, n, k: f"{k} {escape(status)} with {n} attempts",
    )  # fmt: skip
    for n in range(slots):
        parts.append(
            f'<text x="{LEFT + (n + 0.5) * bar_w:.1f}" y="{base + 14}" text-anchor="middle" {FONT}>'
            f"{n}</text>"
        )
    parts.append(_legend([(s, OUTCOME_COLOURS.get(s, "#999")) for s in statuses], height - 6))
    parts.append("</svg>")
    return "".join(parts)


def _stacked_bars(
    series: Sequence[tuple[str, str, Mapping[int, int]]],
    slots: int,
    plot_h: float,
    bar_w: float,
    pad: float,
    title: Callable[[str, int, int], str],
) -> list[str]:
    """Bars stacked per slot, one ``<g class="series">`` per (name, colour, {slot: count}), drawn
    bottom up in the order given, scaled so the tallest stack fills the plot; then the base line
    and that stack's count. ``title(name, slot, count)`` is each bar's tooltip (already escaped)."""
    base = TOP + plot_h
    totals: Counter[int] = Counter()
    for _, _, counts in series:
        totals.update(counts)
    peak = max(totals.values())
    parts: list[str] = []
    stacked: Counter[int] = Counter()
    for name, colour, counts in series:
        parts.append(f'<g class="series" data-series="{escape(name)}">')
        for slot in range(slots):
            n = counts.get(slot, 0)
            if not n:
                continue
            h = n / peak * (plot_h - 8)
            y = base - stacked[slot] - h
            stacked[slot] += h
            parts.append(
                f'<rect x="{LEFT + slot * bar_w + pad:.1f}" y="{y:.1f}" '
                f'width="{max(bar_w - 2 * pad, 1):.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{title(name, slot, n)}</title></rect>"
            )
        parts.append("</g>")
    parts.append(f'<line x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" stroke="#999"/>')
    parts.append(f'<text x="{LEFT - 8}" y="{TOP + 10}" text-anchor="end" {FONT}>{peak}</text>')
    return parts


def _open(name: str, height: float, title: str) -> str:
    return (
        f'<svg class="chart" data-chart="{name}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" height="{height:.0f}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<text x="{LEFT}" y="16" font-weight="600" {FONT}>{escape(title)}</text>'
    )


def _empty(name: str, title: str) -> str:
    return _open(name, 40, f"{title}: no requests yet") + "</svg>"


def _time_axis(y: float, span: float) -> str:
    plot = WIDTH - LEFT - RIGHT
    ticks = []
    for frac in (0, 0.25, 0.5, 0.75, 1):
        ticks.append(
            f'<text x="{LEFT + frac * plot:.1f}" y="{y + 6}" text-anchor="{_anchor(frac)}" {FONT}>'
            f"{_seconds(frac * span)}</text>"
        )
    return "".join(ticks)


def _anchor(frac: float) -> str:
    return "end" if frac == 1 else "middle"


def _seconds(s: float) -> str:
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


def _legend(items: Sequence[tuple[str, str]], y: float) -> str:
    parts, x = ['<g class="legend">'], float(LEFT)
    for label, colour in items:
        parts.append(
            f'<rect x="{x:.1f}" y="{y - 9}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14:.1f}" y="{y}" {FONT}>{escape(label)}</text>'
        )
        x += 24 + 7 * len(label)
    parts.append("</g>")
    return "".join(parts)


def status_bar(counts: Mapping[str, int], width: int = 160) -> str:
    """A run's deliveries as one bar split by status, failures in red at the left: a run with
    failures never shows as one clean colour."""
    order = ("failed", "exhausted", "pending", "delivered")
    total = sum(counts.get(s, 0) for s in order)
    words = ", ".join(f"{counts.get(s, 0)} {s}" for s in order if counts.get(s, 0))
    parts = [
        f'<svg class="bar" xmlns="http://www.w3.org/2000/svg" width="{width}" height="12" '
        f'viewBox="0 0 {width} 12" role="img" aria-label="{escape(words or "no deliveries")}">'
        f"<title>{escape(words or 'no deliveries')}</title>"
        f'<rect width="{width}" height="12" rx="2" fill="#eceef3"/>'
    ]
    x = 0.0
    for status in order:
        n = counts.get(status, 0)
        if not n or not total:
            continue
        w = max(n / total * width, 2.0)
        parts.append(
            f'<rect x="{x:.1f}" width="{w:.1f}" height="12" '
            f'fill="{OUTCOME_COLOURS[status]}" data-status="{status}"/>'
        )
        x += w
    parts.append("</svg>")
    return "".join(parts)
