"""Where a load run's plan comes from: a file, a seed and overrides in; settings and events out."""

from __future__ import annotations

from collections.abc import Sequence

from emulator.core.values import EPOCH
from emulator.readers import loader
from emulator.readers.loader import Plan

PlanSource = Plan  # the name load's modules know it by

__all__ = ["PLAN_START", "PlanSource", "load_plan"]

# Every process of a cluster plans on its own, so the plan may not depend on the clock: bodies are
# dated from this fixed instant (the same one `sample` uses), whatever the day of the run.
PLAN_START = EPOCH


def load_plan(
    path: str,
    seed: int | None = None,
    config_path: str | None = None,
    targets: Sequence[str] = (),
    share: tuple[int, int] | None = None,
) -> Plan:
    """The plan of ``path`` as ``run`` reads it (``emulator.readers.loader``), dated from
    ``PLAN_START``; ``share=(index, count)``: only that share's coupons, planned lazily."""
    layers = loader.layers(config_path, targets)
    return loader.plan(path, layers, seed=seed, start=PLAN_START, share=share)
