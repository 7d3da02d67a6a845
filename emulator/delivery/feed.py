"""A run's plan made in a child process: planning and encoding on one core, delivery on another.

Planning is pure Python and one random stream, so it cannot be split; but it can run beside the
delivery instead of taking turns with it for the interpreter lock. The child is forked while the
parent runs no other thread (a fork copies only the calling thread, and any lock another thread
held would stay locked in the child), takes the plan's lazy iterator as it stands, and sends its
deliveries back in chunks, each with the plan's running digest (``envelopes.fold``) to its end.
The parent stores and delivers them in order exactly as if it had planned them itself, so what is
stored, and what ``resume`` checks, is byte for byte the same. A full pipe holds the child back:
it plans no further ahead than the parent stores.

The child touches nothing of the parent's but the iterator and its end of the pipe, leaves
without running the parent's clean-ups (``os._exit``: never the outbox's SQLite connection), and
ends when the parent closes the pipe, stops it, or dies (its next send fails).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Iterable, Iterator
from typing import Any

from emulator.delivery.envelopes import chunks, fold
from emulator.delivery.records import NewDelivery

FORK_METHOD = "fork"


def usable() -> bool:
    """Whether a child may plan: a fork on Linux, from a process running no other thread."""
    return (
        sys.platform == "linux"
        and FORK_METHOD in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


class Feed:
    """Chunks of a plan's deliveries, each with the running digest, made by a child process.

    Fork at construction; iterate in the parent; ``close`` always (it ends the child).
    """

    def __init__(self, deliveries: Iterable[NewDelivery]) -> None:
        context = multiprocessing.get_context(FORK_METHOD)
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_plan, args=(send, self._receive, deliveries), daemon=True, name="planner"
        )
        self._process.start()
        send.close()

    def __iter__(self) -> Iterator[tuple[list[NewDelivery], str]]:
        receive = self._receive
        while True:
            try:
                message = receive.recv()
            except EOFError:
                raise RuntimeError(
                    f"the planning process ended without finishing the plan "
                    f"(exit code {self._process.exitcode})"
                ) from None
            if message is None:
                return
            if isinstance(message, Failure):
                raise message.exception()
            rows, digest = message
            yield [NewDelivery(*row) for row in rows], digest

    def close(self) -> None:
        """End the child (done or not) and reap it."""
        process = self._process
        if process.is_alive():
            process.kill()  # it holds nothing worth cleaning up; the parent stored what counts
        process.join()
        self._receive.close()


class Failure:
    """What ended the child: the exception itself when it travels, else the nearest of its classes
    that carries its message (a UsageError stays one, for the exit code), else its text."""

    def __init__(self, exc: BaseException) -> None:
        self.text = "".join(traceback.format_exception(exc))
        self.pickled: bytes | None = None
        message = str(exc)
        for candidate in (exc, *(kind(message) for kind in _bases(exc))):
            try:
                pickled = pickle.dumps(candidate)
                # One that needs arguments of its own may not be rebuilt, or not with its message.
                travels = str(pickle.loads(pickled)) == message
            except Exception:
                continue
            if travels:
                self.pickled = pickled
                return

    def exception(self) -> BaseException:
        if self.pickled is not None:
            return pickle.loads(self.pickled)
        return RuntimeError(f"the planning process failed:\n{self.text}")


def _bases(exc: BaseException) -> Iterator[type[BaseException]]:
    for kind in type(exc).__mro__[1:]:
        if issubclass(kind, Exception) and kind is not Exception:
            yield kind


def _plan(send: Any, receive: Any, deliveries: Iterable[NewDelivery]) -> None:
    receive.close()
    # Ctrl-C reaches the whole process group: the parent stops the run and then this child.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Nothing to say on the parent's streams (a reader waiting for them to close would wait for
    # this child too); failures travel through the pipe.
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (1, 2):
        os.dup2(null, fd)
    # The inherited heap is never garbage: the collector leaves it alone, and still collects
    # what planning makes (a long plan's child lives as long as the run).
    gc.freeze()
    try:
        digest = hashlib.sha256()
        for chunk in chunks(deliveries):
            for d in chunk:
                fold(digest, d)
            rows = [
                (
                    d.vendor,
                    d.event_type,
                    d.coupon_key,
                    d.dedupe_keys,
                    d.body,
                    d.due_at,
                    d.label,
                    d.events,
                )
                for d in chunk
            ]
            send.send((rows, digest.hexdigest()))
        send.send(None)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the parent is gone or stopped reading: nothing to tell
    except BaseException as exc:
        with contextlib.suppress(OSError):
            send.send(Failure(exc))
    finally:
        send.close()
        os._exit(0)  # no clean-up of the parent's objects (its outbox) from this copy
