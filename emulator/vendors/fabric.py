"""Fabric: placeholder until its module is written."""

from __future__ import annotations

SLUG = "fabric"
EVENT_TYPES = ()


class Fabric:
    slug = SLUG
    title = "Fabric"
    event_types = EVENT_TYPES
