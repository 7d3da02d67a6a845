"""Holds deliveries until they are due, retries included, and keeps per-coupon order when asked."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable

from emulator.delivery.records import Delivery


class Scheduler:
    """A heap of deliveries by due time, filled by the producing thread, drained by the dispatcher.

    With ``per_coupon`` set, only the oldest unfinished delivery of each coupon is eligible; the
    next one waits until it is delivered, failed or exhausted (retries included), as a consumer
    that relies on order would need. Without it, nothing is promised, as with the real vendors.

    The dispatcher polls (it has sockets to watch meanwhile); only a producer that runs too far
    ahead waits, on ``_room``, so memory stays bounded however long the plan.
    """

    def __init__(
        self,
        per_coupon: bool | Callable[[Delivery], bool] = False,
        max_outstanding: int = 20_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.per_coupon = per_coupon
        self.max_outstanding = max_outstanding
        self.clock = clock
        self._heap: list[tuple[float, int, Delivery]] = []
        self._seq = itertools.count()
        self._chains: dict[tuple[int, str], deque[Delivery]] = {}
        self._outstanding = 0
        self._closed = False
        self._stopped = False
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)

    @property
    def outstanding(self) -> int:
        return self._outstanding

    def submit(self, delivery: Delivery) -> None:
        """Add a new delivery; blocks while too many are unfinished, so memory stays bounded."""
        with self._lock:
            while self._outstanding >= self.max_outstanding and not self._stopped:
                self._room.wait()
            self._outstanding += 1
            if self._ordered(delivery):
                key = (delivery.run_id, delivery.coupon_key)
                chain = self._chains.get(key)
                if chain is not None:
                    chain.append(delivery)
                    return
                self._chains[key] = deque()
            self._push(delivery)

    def retry(self, delivery: Delivery) -> None:
        """Put a delivery back, due at its (new) ``due_at``."""
        with self._lock:
            self._push(delivery)

    def finished(self, delivery: Delivery) -> None:
        """A delivery reached a final state; release the next of its coupon."""
        with self._lock:
            self._outstanding -= 1
            if self._ordered(delivery):
                key = (delivery.run_id, delivery.coupon_key)
                chain = self._chains.get(key)
                if chain:
                    self._push(chain.popleft())
                else:
                    self._chains.pop(key, None)
            if self._outstanding == self.max_outstanding - 1:
                self._room.notify()

    def close(self) -> None:
        """No more submissions: workers leave once everything is final."""
        with self._lock:
            self._closed = True

    def stop(self) -> None:
        """Leave now, whatever is left (it stays pending in the outbox for ``resume``)."""
        with self._lock:
            self._stopped = True
            self._room.notify_all()

    def poll(self) -> Delivery | None:
        """The next delivery that is due now, without waiting; None if there is none."""
        with self._lock:
            if self._heap and self._heap[0][0] <= self.clock():
                return heapq.heappop(self._heap)[2]
            return None

    def next_due_in(self) -> float | None:
        """Seconds until the earliest held delivery is due (negative: overdue); None if none."""
        with self._lock:
            return self._heap[0][0] - self.clock() if self._heap else None

    def drained(self) -> bool:
        """Closed to submissions and every delivery final (or told to stop)."""
        with self._lock:
            return self._stopped or (self._closed and self._outstanding == 0)

    def _ordered(self, delivery: Delivery) -> bool:
        return self.per_coupon(delivery) if callable(self.per_coupon) else self.per_coupon

    def _push(self, delivery: Delivery) -> None:
        heapq.heappush(self._heap, (delivery.due_at, next(self._seq), delivery))
