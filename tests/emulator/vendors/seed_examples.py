"""Documented examples, copied verbatim from the vendors' pages, and the named repairs they need.

Each repair fixes one defect of the published text and nothing else, so a test that validates a
repaired example proves our schema accepts what the vendor publishes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).parent / "examples"

Repair = Callable[[str], str]


def strip_line_comments(text: str) -> str:
    """Drop ``// ...`` lines (Komo's examples annotate groups of fields this way)."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def drop_trailing_commas(text: str) -> str:
    """Remove a comma that directly precedes a closing brace or bracket."""
    return re.sub(r",(\s*[}\]])", r"\1", text)


def unescape_brackets(text: str) -> str:
    r"""Undo the Markdown escaping of ``\[`` and ``\]`` in examples printed inside tables."""
    return text.replace("\\[", "[").replace("\\]", "]")


def insert_missing_comma(text: str) -> str:
    """Add the comma missing between two members, as in ``"couponCode":"ABC-123" "callbackUrls"``."""
    return re.sub(r'("|\d|true|false|null)(\s+)(")', _comma, text)


def _comma(match: re.Match[str]) -> str:
    return f"{match.group(1)},{match.group(2)}{match.group(3)}"


def placeholder(name: str, value: Any) -> Repair:
    """Replace the bare placeholder ``name`` (not valid JSON) with a value of its documented type."""

    def repair(text: str) -> str:
        return re.sub(rf"(?<![\w\"]){re.escape(name)}(?![\w\"])", json.dumps(value), text)

    repair.__name__ = f"placeholder({name})"
    return repair


def load(vendor: str, file: str, *repairs: Repair) -> Any:
    """The example ``examples/<vendor>/<file>`` with ``repairs`` applied in order, parsed."""
    text = (EXAMPLES / vendor / file).read_text(encoding="utf-8")
    for repair in repairs:
        text = repair(text)
    return json.loads(text)


def raw(vendor: str, file: str) -> str:
    return (EXAMPLES / vendor / file).read_text(encoding="utf-8")


def strip_bullets(text: str) -> str:
    """Drop the ``•`` bullet Rebilly's rendered request samples print before each member."""
    return re.sub(r"^(\s*)•\s?", r"\1", text, flags=re.MULTILINE)
