"""Shared helpers for delivery tests: settings from a dict, a run to completion, request bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from emulator.core.plan import simple_plan
from emulator.delivery.clock import SYSTEM, Clock
from emulator.delivery.outbox import Outbox
from emulator.delivery.runner import run_plan
from emulator.readers import config


@pytest.fixture
def outbox(tmp_path):
    with Outbox(tmp_path / "outbox.db") as box:
        yield box


@pytest.fixture
def deliver(outbox):
    """Deliver ``count`` events of one type with the given settings; return the run result."""

    def run(
        raw: dict,
        vendor: str,
        event: str,
        count: int = 1,
        seed: int = 1,
        workers: int = 4,
        clock: Clock = SYSTEM,
    ):
        settings = config.parse(raw, source="test")
        planned = simple_plan([(vendor, event, count, 0.0)], seed, datetime.now(UTC))
        return run_plan(outbox, settings, raw, planned, workers=workers, clock=clock)

    return run


@pytest.fixture
def rows(outbox):
    """Every delivery of a run, with its attempts, as the outbox logged them."""
    return lambda result: outbox.deliveries(result.run_id)


def bodies(server) -> list[dict]:
    """The JSON bodies of every POST the server received, in order."""
    return [json.loads(req.get_data()) for req, _ in server.log if req.method == "POST"]
