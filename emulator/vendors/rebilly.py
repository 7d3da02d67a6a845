"""Rebilly: placeholder until its module is written."""

from __future__ import annotations

SLUG = "rebilly"
EVENT_TYPES = ()


class Rebilly:
    slug = SLUG
    title = "Rebilly"
    event_types = EVENT_TYPES
