"""Where a load run's plan comes from: a file, a seed and overrides in; settings and events out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from emulator.config import Settings
from emulator.delivery import eventlist
from emulator.delivery.commands import merged_settings
from emulator.errors import ConfigError
from emulator.plan import PlannedEvent, builder_extras, simple_plan
from emulator.values import EPOCH

# Every process of a cluster plans on its own, so the plan may not depend on the clock: bodies are
# dated from this fixed instant (the same one `sample` uses), whatever the day of the run.
PLAN_START = EPOCH


class PlanSource(NamedTuple):
    name: str
    seed: int
    settings_raw: Mapping[str, Any]  # as written, merged with --config and --target
    settings: Settings
    events: Iterator[PlannedEvent]  # lazy: planning happens as it is consumed


def load_plan(
    path: str,
    seed: int | None = None,
    config_path: str | None = None,
    targets: Sequence[str] = (),
) -> PlanSource:
    """The plan of ``path``, deterministic in ``seed`` (default: the file's own, else 0).

    ``path`` is a scenario (``flows:``) or a plain event list (``events:``). Settings merge as for
    ``run``: the file's own section, then ``config_path``, then ``--target V=URL`` flags. Bad input
    raises UsageError (exit 2) before anything is planned.
    """
    from emulator import scenario, scenario_commands

    if scenario_commands.read(path).kind == "scenario":
        loaded = scenario_commands.load(path)
        settings, raw = merged_settings(loaded.raw_settings, config_path, list(targets), None, path)
        _require_targets(settings, loaded.vendors, path)
        chosen = loaded.scenario.seed if seed is None else seed
        planned = scenario.plan(
            loaded.scenario,
            seed=chosen,
            start=loaded.scenario.start or PLAN_START,
            links_base=settings.links_base,
            extras=builder_extras(settings),
        )
        return PlanSource(loaded.scenario.name, chosen, raw, settings, planned)
    events = eventlist.load(path)
    settings, raw = merged_settings(events.settings, config_path, list(targets), None, path)
    _require_targets(settings, (slug for slug, *_ in events.items), path)
    chosen = events.seed if seed is None else seed
    planned = simple_plan(
        events.items, chosen, PLAN_START, settings.links_base, builder_extras(settings)
    )
    return PlanSource(events.name, chosen, raw, settings, planned)


def _require_targets(settings: Settings, vendors: Iterable[str], path: str) -> None:
    for slug in vendors:
        if slug not in settings.vendors:
            raise ConfigError(
                f"the plan uses {slug} but no {slug} target is set; add vendors.{slug}.target "
                f"or pass --target {slug}=URL",
                source=path,
            )
