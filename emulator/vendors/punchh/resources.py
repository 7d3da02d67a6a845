"""Punchh's resource, where a redeemable's ``redeemable_image_url`` points: its image."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from functools import cache

from emulator.core.resources import History, ResourceRoute, needle, unseen


@cache
def image(seed: int, size: int = 32) -> bytes:
    """A small solid-colour PNG, its colour taken from ``seed``: a stand-in for a menu picture."""
    rgb = bytes(((seed >> 16) & 0xFF, (seed >> 8) & 0xFF, seed & 0xFF))
    rows = b"".join(b"\x00" + rgb * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def redeemable_image(params: Mapping[str, str], history: History) -> bytes:
    """The image of a redeemable some event that has happened carries."""
    redeemable_id = params["redeemable_id"]
    known = redeemable_id.isascii() and redeemable_id.isdigit() and len(redeemable_id) < 20
    if not known or not any(True for _ in history(needle("redeemable_id", int(redeemable_id)), "")):
        raise unseen("punchh", "redeemable", redeemable_id)
    return image(int(redeemable_id))


ROUTES = (
    ResourceRoute(
        "redeemables/{redeemable_id}/image.png",
        "a Punchh redeemable's image",
        redeemable_image,
        media_type="image/png",
        answer="the redeemable's image",
    ),
)
