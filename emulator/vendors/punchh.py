"""Punchh: placeholder until its module is written."""

from __future__ import annotations

SLUG = "punchh"
EVENT_TYPES = ()


class Punchh:
    slug = SLUG
    title = "Punchh"
    event_types = EVENT_TYPES
