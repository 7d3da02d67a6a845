"""The compliance matrix, case by vendor: which results fall in each cell and what the cell says."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

PASSED, FAILED, SKIPPED, ERROR = "passed", "failed", "skipped", "error"
# A cell's kind, which the HTML colours: the worst status in it wins.
PASS, FAIL, ERR, SKIP, NONE = "pass", "fail", "error", "skip", "none"


def cell(statuses: Sequence[str]) -> tuple[str, str]:
    """``(kind, text)`` of a cell holding ``statuses``: ``FAIL 1/4``, ``pass, skip``, ``-``..."""
    if not statuses:
        return NONE, "-"
    c = Counter(statuses)
    for status, kind, word in ((FAILED, FAIL, "FAIL"), (ERROR, ERR, "ERROR")):
        if c[status]:
            text = f"{word} {c[status]}/{len(statuses)}" if len(statuses) > 1 else word
            return kind, text
    if c[SKIPPED] == len(statuses):
        return SKIP, "skip"
    if c[SKIPPED]:
        return PASS, f"pass {c[PASSED]}, skip {c[SKIPPED]}"
    return PASS, f"pass {len(statuses)}" if len(statuses) > 1 else "pass"


def grid(
    results: Iterable[tuple[str, str, str]], order: Sequence[str] = ()
) -> tuple[list[str], dict[tuple[str, str], list[str]]]:
    """Case names in ``order`` (then first seen) and ``{(case, vendor): statuses}`` from
    ``(case, vendor, status)`` triples."""
    cells: dict[tuple[str, str], list[str]] = {}
    seen: dict[str, None] = {}
    for name, vendor, status in results:
        seen.setdefault(name)
        cells.setdefault((name, vendor), []).append(status)
    rank = {name: i for i, name in enumerate(order)}
    names = sorted(seen, key=lambda n: rank.get(n, len(rank)))
    return names, cells
