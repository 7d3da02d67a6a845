"""Work done on forked processes: each task's messages read back in order through a pipe of its
own, its error raised where it is read (as itself where it can travel), its process ended when
the reading ends, early or not. What plans on several cores (``emulator.readers.planning``, the
run's planning child and its planners in ``emulator.delivery``) forks through here.

A fork copies only the calling thread (any lock another thread held would stay locked in the
child), so a process forks only while it runs no other thread (``usable``). A worker touches
nothing of its parent's but its task and its end of the pipe: it says nothing on the parent's
streams (a reader waiting for them to close would wait for it too), ignores Ctrl-C (which reaches
the whole process group: the parent stops the work), and leaves without running the parent's
clean-ups (``os._exit``: never an outbox's SQLite connection). It ends when its task is done, or
at its next send once its reader is gone. Messages go as ``marshal`` (JSON-like data, bytes and
tuples: several times quicker than ``pickle``), anything else as ``pickle``.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

Task = Callable[[], Iterable[Any]]  # run in the worker: the messages it sends, in order

_DATA, _PICKLED, _FAILED, _END = b"m", b"p", b"f", b"e"  # the first byte of a message


def available() -> bool:
    """Whether workers can be forked here at all: on Linux (macOS and Windows do the work in one
    process). Enough for a task that takes no lock another thread may hold (its own data only)."""
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def usable() -> bool:
    """Whether this process may fork workers that take its other objects as they stand (a plan's
    iterator, a run's settings): on Linux, while it runs no other thread."""
    return available() and threading.active_count() == 1


@contextlib.contextmanager
def workers(tasks: Sequence[Task]) -> Iterator[list[Iterator[Any]]]:
    """Fork a worker per task; the messages of each, as an iterator per task, in task order.

    Leaving the block ends every worker, done or not, and reaps it. Call only when ``available``
    (or ``usable``, as the tasks need).
    """
    pipes = [multiprocessing.Pipe(duplex=False) for _ in tasks]
    pids: list[int] = []
    try:
        for index, task in enumerate(tasks):
            # os.fork, not multiprocessing.Process: a daemon process (the run's planning child)
            # may not have multiprocessing children of its own.
            pid = os.fork()
            if pid == 0:
                _work(task, pipes, index)  # never returns
            pids.append(pid)
        for _, send in pipes:
            send.close()
        yield [_messages(receive) for receive, _ in pipes]
    finally:
        for receive, send in pipes:
            receive.close()
            send.close()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # nothing of a worker's is left to clean up
            with contextlib.suppress(ChildProcessError):  # reaped already
                os.waitpid(pid, 0)


def _messages(receive: Any) -> Iterator[Any]:
    while True:
        try:
            message = receive.recv_bytes()
        except EOFError:
            raise RuntimeError("a worker process ended without finishing its work") from None
        kind, data = message[:1], memoryview(message)[1:]
        if kind == _DATA:
            yield marshal.loads(data)
        elif kind == _PICKLED:
            yield pickle.loads(data)
        elif kind == _FAILED:
            raise pickle.loads(data).exception()
        else:
            assert kind == _END
            return


def _work(task: Task, pipes: Sequence[tuple[Any, Any]], index: int) -> None:
    send = pipes[index][1]
    try:
        # Only this worker's end stays open here, so a reader that is gone breaks its pipe.
        for number, (receive, other) in enumerate(pipes):
            receive.close()
            if number != index:
                other.close()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (1, 2):
            os.dup2(null, fd)
        # The inherited heap is never garbage: the collector leaves it alone, and still collects
        # what the task makes.
        gc.freeze()
        for message in task():
            try:
                data = _DATA + marshal.dumps(message)
            except ValueError:  # a value marshal does not carry
                data = _PICKLED + pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
            send.send_bytes(data)
        send.send_bytes(_END)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the reader is gone or stopped reading: nothing to tell
    except BaseException as exc:
        with contextlib.suppress(OSError):
            send.send_bytes(_FAILED + pickle.dumps(Failure(exc)))
    finally:
        os._exit(0)


class Failure:
    """What ended a worker: the exception itself when it travels, else the nearest of its classes
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
        return RuntimeError(f"a worker process failed:\n{self.text}")


def _bases(exc: BaseException) -> Iterator[type[BaseException]]:
    for kind in type(exc).__mro__[1:]:
        if issubclass(kind, Exception) and kind is not Exception:
            yield kind
