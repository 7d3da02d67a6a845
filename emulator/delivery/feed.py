"""A run's plan made in a child process: planning and encoding on other cores, delivery on this one.

Planning is pure Python; it runs beside the delivery instead of taking turns with it for the
interpreter lock. The child is forked (``emulator.readers.forked``) while the parent runs no other
thread, takes the plan's lazy iterator as it stands (an event list's spreads its blocks over more
processes: ``emulator.delivery.planners``), and sends its deliveries back in chunks, each with the
plan's running digest (``envelopes.fold``) to its end. The parent stores and delivers them in
order exactly as if it had planned them itself, so what is stored, and what ``resume`` checks, is
byte for byte the same. A full pipe holds the child back: it plans no further ahead than the
parent stores.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Iterator

from emulator.delivery.envelopes import chunks, fold
from emulator.delivery.records import NewDelivery
from emulator.readers import forked


class Feed:
    """Chunks of a plan's deliveries, each with the running digest, made by a child process.

    Fork at construction; iterate in the parent; ``close`` always (it ends the child).
    """

    def __init__(self, deliveries: Iterable[NewDelivery]) -> None:
        self._stack = contextlib.ExitStack()
        [self._messages] = self._stack.enter_context(forked.workers([lambda: _rows(deliveries)]))

    def __iter__(self) -> Iterator[tuple[list[NewDelivery], str]]:
        for rows, digest in self._messages:
            yield [NewDelivery(*row) for row in rows], digest

    def close(self) -> None:
        """End the child (done or not) and reap it."""
        self._stack.close()


def _rows(deliveries: Iterable[NewDelivery]) -> Iterator[tuple[list[tuple], str]]:
    digest = hashlib.sha256()
    for chunk in chunks(deliveries):
        for d in chunk:
            fold(digest, d)
        yield [d.row() for d in chunk], digest.hexdigest()
