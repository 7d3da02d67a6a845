"""An event list planned on several processes at once, and read back in plan order.

Each block of an event list draws from a random stream of its own, and no batch holds events of
two blocks (``core.plan.BLOCK``): so process ``b % count`` can plan block ``b`` and make its
requests (``envelopes``), and the blocks read back a process at a time, in turn, are the
deliveries one process makes of the plan, byte for byte. What reads them keeps the digest and
feeds the outbox as before (``emulator.delivery.feed``).

The processes are forked on the first delivery asked for, by a process running no other thread
(the planning child of a run), and send each block's deliveries as one message (``marshal``:
their bodies are bytes already). A full pipe holds a planner back. Planners end when their part
is done or when their reader is gone (their next send fails), and never run the clean-ups of the
process they were forked from.
"""

from __future__ import annotations

import contextlib
import marshal
import multiprocessing
import os
import pickle
import signal
from collections.abc import Iterator
from typing import Any

from emulator.core.plan import Parts, Share
from emulator.delivery.envelopes import envelopes
from emulator.delivery.feed import Failure, usable
from emulator.delivery.records import NewDelivery

MAX_PLANNERS = 4  # past this, the one reader of their blocks is what limits


def count(parts: Parts) -> int:
    """How many processes plan ``parts``: one a core this process may use, at most one a block."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_PLANNERS, parts.blocks))


def deliveries(parts: Parts, settings: Any, start: float, processes: int) -> Iterator[NewDelivery]:
    """``envelopes`` of the plan, its blocks planned by ``processes`` forked processes in turn.

    Forks on the first delivery asked for; a process that cannot fork (or ``processes`` 1) plans
    them itself. Closing the iterator early ends the planners.
    """
    if processes < 2 or not usable():
        for block in parts.plan((0, 1)):
            yield from envelopes(block, settings, start)
        return
    pipes = [multiprocessing.Pipe(duplex=False) for _ in range(processes)]
    pids = []
    try:
        for index in range(processes):
            # os.fork, not multiprocessing.Process: the planning child that forks them is a
            # daemon process, which multiprocessing forbids to have children of its own.
            pid = os.fork()
            if pid == 0:
                _plan_part(parts, (index, processes), settings, start, pipes, index)  # no return
            pids.append(pid)
        for _, send in pipes:
            send.close()
        for block in range(parts.blocks):
            yield from (NewDelivery(*row) for row in _receive(pipes[block % processes][0]))
    finally:
        for receive, send in pipes:
            receive.close()
            send.close()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # done or abandoned: nothing of theirs to clean up
            os.waitpid(pid, 0)


def _receive(receive: Any) -> list[tuple]:
    try:
        message = receive.recv_bytes()
    except EOFError:
        raise RuntimeError("a planning process ended without planning its part") from None
    kind, data = message[:1], memoryview(message)[1:]
    rows = marshal.loads(data) if kind == b"m" else pickle.loads(data)  # "p": a Failure
    if isinstance(rows, Failure):
        raise rows.exception()
    return rows


def _plan_part(
    parts: Parts,
    part: Share,
    settings: Any,
    start: float,
    pipes: list[tuple[Any, Any]],
    index: int,
) -> None:
    send = pipes[index][1]
    # Only this planner's end stays open here, so a reader that is gone breaks its pipe.
    for number, (receive, other) in enumerate(pipes):
        receive.close()
        if number != index:
            other.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the run stops the planning, not the Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        for block in parts.plan(part):
            rows = [
                (d.vendor, d.event_type, d.coupon_key, d.dedupe_keys, d.body, d.due_at, d.label,
                 d.events)
                for d in envelopes(block, settings, start)
            ]  # fmt: skip
            send.send_bytes(b"m" + marshal.dumps(rows))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the reader is gone or stopped reading
    except BaseException as exc:
        with contextlib.suppress(OSError):
            send.send_bytes(b"p" + pickle.dumps(Failure(exc)))
    finally:
        send.close()
        os._exit(0)  # none of the forking process's clean-ups from this copy
