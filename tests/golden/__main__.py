"""``python -m tests.golden``: rewrite every golden file from the real CLI's output."""

from __future__ import annotations

from emulator.core import catalogue
from tests.golden import FOLDER, regenerate

if __name__ == "__main__":
    stale = regenerate()
    print(f"wrote {len(catalogue.event_types())} golden files under {FOLDER}")
    for p in stale:
        print(f"removed {p} (no such event type)")
