"""Properties over many seeds and many flows: whatever the reader accepts plans only lives that
the vendor's state machine allows; rebilly revisions rise; punchh timestamps never go back."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from emulator.core import catalogue, inject, lifecycle
from emulator.core.errors import ConfigError
from emulator.core.scenario import plan
from emulator.readers.scenario_checks import applies
from emulator.readers.scenario_reader import parse
from tests.emulator.test_scenario import check_lives

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SMALL = sorted(p for p in SCENARIOS.glob("*.yaml") if p.stem != "load")
SCHEMA = jsonschema.Draft202012Validator(json.loads((SCENARIOS / "schema.json").read_text()))
BOUNDED = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def without_reordering(scenario):
    """The scenario with out_of_order and late taken out of every step."""
    flows = []
    for flow in scenario.flows:
        steps = tuple(
            dataclasses.replace(
                step, inject={k: r for k, r in step.inject.items() if k not in inject.REORDERING}
            )
            for step in flow.steps
        )
        flows.append(dataclasses.replace(flow, steps=steps))
    return dataclasses.replace(scenario, flows=tuple(flows))


@BOUNDED
@given(path=st.sampled_from(SMALL), seed=st.integers(0, 2**63))
def test_shipped_scenarios_plan_valid_lives_for_any_seed(path, seed):
    loaded = parse(path.read_text(), source=str(path), env={})
    events = list(itertools.islice(plan(without_reordering(loaded.scenario), seed=seed), 800))
    assert events
    check_lives(events)


@st.composite
def flows(draw):
    """A flow text built around a random walk of a vendor's machine: steps made optional,
    repeated or widened into a choice at random; some break the machine, and the reader must
    then refuse them."""
    slug = draw(st.sampled_from(list(catalogue.VENDORS)))
    m = lifecycle.machine(slug)
    state, steps = m.initial, []
    for _ in range(draw(st.integers(1, 8))):
        allowed = m.allowed(state)
        if not allowed:
            break
        event = draw(st.sampled_from(allowed))
        step: dict = {"event": event}
        if draw(st.booleans()):
            others = [e for e in allowed if e != event]
            if others:
                step = {"one_of": sorted({event, draw(st.sampled_from(others))})}
        if draw(st.integers(0, 3)) == 0:
            step["probability"] = draw(st.sampled_from([0.3, 0.5, 0.9]))
        if draw(st.integers(0, 3)) == 0:
            step["repeat"] = draw(st.sampled_from(["0..2", "1..3", 2]))
        steps.append(step)
        state = m.next(state, event)
    kinds = set(inject.KINDS) - inject.REORDERING
    kinds = {k for k in kinds if applies(slug, k)}
    rules = draw(
        st.dictionaries(
            st.sampled_from(sorted(kinds)),
            st.sampled_from([0.2, 0.5, 1]),
            max_size=4,
        )
    )
    flow = {"vendor": slug, "coupons": draw(st.integers(1, 6)), "steps": steps}
    if rules:
        flow["inject"] = rules
    return yaml.safe_dump({"flows": [flow]})


@BOUNDED
@given(text=flows(), seed=st.integers(0, 2**32))
def test_any_flow_the_reader_accepts_plans_only_paths_of_the_machine(text, seed):
    try:
        loaded = parse(text, source="generated.yaml", env={})
    except ConfigError as exc:
        refused = str(exc)
        loaded = None
    if loaded is None:  # only the state machine may refuse these flows
        assert "does not allow" in refused or "nothing may follow" in refused
        assume(False)
    assert list(SCHEMA.iter_errors(yaml.safe_load(text))) == []  # the schema agrees
    events = list(plan(loaded.scenario, seed=seed))
    check_lives(events)
    # Every event of the flow's steps may appear; nothing else but the injected extras.
    names = {e for step in loaded.scenario.flows[0].steps for e in step.events}
    extra = {catalogue.vendor(loaded.scenario.flows[0].vendor).unknown_type}
    assert {e.event_type for e in events} <= names | extra


@pytest.mark.parametrize("path", SMALL, ids=lambda p: p.stem)
def test_planning_twice_gives_the_same_events(path):
    loaded = parse(path.read_text(), source=str(path), env={})
    first = list(itertools.islice(plan(loaded.scenario), 500))
    assert first == list(itertools.islice(plan(loaded.scenario), 500))
