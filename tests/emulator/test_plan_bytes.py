"""Planned bytes are pinned: every vendor's plans, for several seeds and starts, hash to digests
taken before planning was made faster, so a speed-up that changes one random draw or one byte of
one body fails here (the golden files pin one sample per type; these pin whole plans).

After an intended change of the bytes, print the new digests with
``python -m tests.emulator.test_plan_bytes`` (from the repository root) and review why they moved.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import pytest

from emulator.core import catalogue
from emulator.core.plan import PlannedEvent, simple_plan
from emulator.core.scenario import plan
from emulator.core.values import EPOCH
from emulator.core.vendor import encode
from emulator.readers.loader import load_scenario

ROOT = Path(__file__).resolve().parents[2]
EVENTS = 120  # per event type and seed
SCENARIO_EVENTS = 2000  # per shipped scenario
# A start with microseconds and a run-wide millisecond unit, beside the plain defaults.
ODD_START = datetime.fromisoformat("2027-11-30T23:59:58.987654+00:00")
CASES = {
    "seed-1": {"seed": 1, "start": EPOCH, "every": 1.0, "extras": None},
    "seed-97-odd-start": {"seed": 97, "start": ODD_START, "every": 0.37, "extras": None},
    "seed-5-ms": {"seed": 5, "start": EPOCH, "every": 61.5, "extras": {"timestamp_unit": "ms"}},
}
SCENARIOS = sorted(p.name for p in (ROOT / "scenarios").glob("*.yaml"))

# Computed on the commit before the planning speed-up; see the module docstring. The fabric event
# lists (1,800 events) moved when an event list's blocks got streams of their own (BLOCK in
# emulator/core/plan.py): their first 1,000 events are as before.
PINNED = {
    'events:komo:seed-1': '2b22e4416387f6e3a8b298535e5957a9ca25545e27a8f23f88d1c4865b9d8756',
    'events:komo:seed-97-odd-start': 'a8cdf2054259dff5631b6e01d35e561179c95b978e848f1f3cc2dec48b486dcd',
    'events:komo:seed-5-ms': 'a25bfa34dd601b65054d970df1616a553613d94973bd0d73f47fa4e6fb1db663',
    'events:fabric:seed-1': '7a55caeb5990113794b5ee356f0d9b1d58ebd99f5b3ef5d563ac9754165c3fcc',
    'events:fabric:seed-97-odd-start': 'bc843ecc09d6ffdc2cb2134935eac4f543d8d4c407ea68cd66a8897171327168',
    'events:fabric:seed-5-ms': 'e9b9f9f7601ea792438439313fa187e8efbe299062c09d9c02e10c28038fe380',
    'events:rebilly:seed-1': 'ce3c7568c5a4027ce1e2c08fb16b95516999d3f3ff6884cab604b93d78b52213',
    'events:rebilly:seed-97-odd-start': '18188ffaab43443c57f5227865f0312052a3b29a5100d8c2b8b674806317def1',
    'events:rebilly:seed-5-ms': '9b0956d8781d7b703d840f247eb3e9e88228ea1d941ec316a6f89d64a120019b',
    'events:punchh:seed-1': 'cb485630bcc9af6c70c644b53c4ce88159b20d672320019150aa651c1bd024c6',
    'events:punchh:seed-97-odd-start': '564bb14b76145a1e0304ec3f0698678c0b41f8713bf35aea1b238a577df3d38d',
    'events:punchh:seed-5-ms': '2155da96927d5fe07c8c2fe5e95d688b5eeadbb037f5eb74bde573f5f74c725f',
    'scenario:fabric-edge-cases.yaml': 'a7b184eb68b25a5e48f712cdf35c12db129413c4c65208a8dcd5c12b471e72ec',
    'scenario:fabric-edge-cases.yaml:seed-99': '9e46dbdf2f15952d662057722134f88835456142a176d885aff1b10702a3141b',
    'scenario:fabric.yaml': 'b668aa6a9741d2d9aaa70a87d0d4c2edb9e89a6fb9934d50c26689ae67897634',
    'scenario:fabric.yaml:seed-99': '846cfdaf15efb9e7a79d26cdc8c0683a7a0dd396899c7ad138a078408889ea73',
    'scenario:komo-edge-cases.yaml': 'ec80f93b68fe4ec4cec0439db13d65f05bc733f14515334e4440f9d0aa7b8a9c',
    'scenario:komo-edge-cases.yaml:seed-99': '8a858737e226504ba94ad5591b58507dc2d3a800d29509b6b8d44558ee0e0181',
    'scenario:komo.yaml': '902ab73db7b6aaeb38ebfc998898b6d5be80e821fcc8554482b8a64fb6483ab1',
    'scenario:komo.yaml:seed-99': '21a1534aacd5bf9e1f6e2b5f5ba924c14debadd0123cd719564296b514bd2159',
    'scenario:load.yaml': '4ffce03e62db9a5b257a60395e9a9a470aaaa9966be4722d9440d4bcdedbb96e',
    'scenario:load.yaml:seed-99': 'bb02527d5eb4f736e2423ebcf87aa26d208f7e971fe802c8040a89846c56ead4',
    'scenario:punchh-edge-cases.yaml': '5a32f673a4eb2d5e163ded6578c4fddad170af823f8906a2cf8e4c7ed90143c9',
    'scenario:punchh-edge-cases.yaml:seed-99': '3b6fe465e9dd6704c134d53204fe807145b0a8dfa27f9437da66ae5d3b786e5e',
    'scenario:punchh.yaml': '331cab541ec9b0703de52d54c4d63c074aebe93cb2142e4b31b0f3aaf5f995ec',
    'scenario:punchh.yaml:seed-99': 'c7d9232d8dc932bb9d5f7b177d75a8bf375130cbe38035c44d845ee8c86f0895',
    'scenario:quickstart.yaml': 'ca044013e0e3e4cfb309c5e4b09af8ddd6c89def79a42bb97fff4411d5e644b6',
    'scenario:quickstart.yaml:seed-99': 'ce95ffef246b770834d775431d92e55d096505d0323d80eff177518d6bb12b1e',
    'scenario:rebilly-edge-cases.yaml': '318d3dcd040447da54843d004fac9feb609a11f6cc28301d7ee6f5656932f42e',
    'scenario:rebilly-edge-cases.yaml:seed-99': '3871c2e1ddd204b78c42156dc5a0c880a0dd75719f175c1973d45818a1591db0',
    'scenario:rebilly.yaml': '675b5355fc5fa207e4a55a69ebb704b61cbaf7f501951044cefd775de126b840',
    'scenario:rebilly.yaml:seed-99': 'eb9a48f3f57d25e1108e0779de9755b24a93b5e3e3f728f2fad43296e59a0e43',
}  # fmt: skip


def digest(events: Iterable[PlannedEvent]) -> str:
    """One hash of everything a planned event carries: names, key, due, label, auth and bytes."""
    h = hashlib.sha256()
    for e in events:
        head = f"{e.vendor}\0{e.event_type}\0{e.coupon_key}\0{e.due!r}\0{e.label}\0{e.auth}\0"
        h.update(head.encode())
        h.update(e.raw_body if e.raw_body is not None else b"-")
        h.update(b"\0")
        h.update(encode(e.body))
        h.update(b"\n")
    return h.hexdigest()


def event_list_digest(slug: str, case: str) -> str:
    c = CASES[case]
    items = [(slug, et.name, EVENTS, c["every"]) for et in catalogue.event_types(slug)]
    return digest(
        simple_plan(items, c["seed"], c["start"], links_base="http://x.test:1/", extras=c["extras"])
    )


def scenario_digest(name: str, seed: int | None) -> str:
    loaded = load_scenario(str(ROOT / "scenarios" / name), env={})
    return digest(itertools.islice(plan(loaded.scenario, seed=seed), SCENARIO_EVENTS))


def computed() -> dict[str, str]:
    out = {}
    for slug in catalogue.VENDORS:
        for case in CASES:
            out[f"events:{slug}:{case}"] = event_list_digest(slug, case)
    for name in SCENARIOS:
        out[f"scenario:{name}"] = scenario_digest(name, None)
        out[f"scenario:{name}:seed-99"] = scenario_digest(name, 99)
    return out


@pytest.mark.parametrize("slug", catalogue.VENDORS)
@pytest.mark.parametrize("case", CASES)
def test_an_event_list_plans_the_pinned_bytes(slug, case):
    key = f"events:{slug}:{case}"
    assert key in PINNED, f"no pinned digest for {key}"
    assert event_list_digest(slug, case) == PINNED[key]


@pytest.mark.parametrize("seed", [None, 99])
@pytest.mark.parametrize("name", SCENARIOS)
def test_a_shipped_scenario_plans_the_pinned_bytes(name, seed):
    key = f"scenario:{name}" + ("" if seed is None else f":seed-{seed}")
    assert key in PINNED, f"no pinned digest for {key}"
    assert scenario_digest(name, seed) == PINNED[key]


if __name__ == "__main__":
    for key, value in computed().items():
        print(f"    {key!r}: {value!r},")
