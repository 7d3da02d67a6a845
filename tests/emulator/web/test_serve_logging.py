"""``serve`` cuts waitress's logging to what a user needs: each warning once, errors always, no
line per queued task, no start-up chatter."""

from __future__ import annotations

import logging

import pytest

from emulator.cli.serve import quiet_waitress


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname}: {record.getMessage()}")


@pytest.fixture
def waitress_log(monkeypatch):
    logger, queue = logging.getLogger("waitress"), logging.getLogger("waitress.queue")
    monkeypatch.setattr(logger, "filters", [])
    level, queue_level = logger.level, queue.level
    collect = Collect()
    logger.addHandler(collect)
    logger.setLevel(logging.WARNING)  # what serve's basicConfig shows
    try:
        quiet_waitress()
        quiet_waitress()  # twice: still one filter
        yield logger, queue, collect.lines
    finally:
        logger.removeHandler(collect)
        logger.setLevel(level)
        queue.setLevel(queue_level)


def test_each_waitress_warning_is_shown_once_and_errors_always(waitress_log):
    logger, queue, lines = waitress_log
    limit = (
        "total open connections reached the connection limit, no longer accepting new connections"
    )
    for _ in range(3):
        logger.warning(limit)
    logger.warning("Canceling %d pending task(s)", 4)
    logger.warning("Canceling %d pending task(s)", 9)  # the same message with another figure
    logger.error("Socket error")
    logger.error("Socket error")
    logger.info("Serving on http://127.0.0.1:8025")
    queue.warning("Task queue depth is %d", 3)
    assert lines == [
        f"WARNING: {limit}",
        "WARNING: Canceling 4 pending task(s)",
        "ERROR: Socket error",
        "ERROR: Socket error",
    ]
