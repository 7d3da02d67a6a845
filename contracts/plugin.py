"""pytest plugin ``coupon_contracts``: the contract cases as parametrised tests, and an emulator fixture.

Registered through the ``pytest11`` entry point, so installing coupon-emulator enables it. A thin
adapter: the work is done by ``contracts.harness``. Configure by overriding fixtures in your
``conftest.py``; each defaults to an environment variable:

    coupon_consumer  COUPON_CONSUMER   base URL (every vendor at URL/<vendor>) or {vendor: URL}
    coupon_settings  COUPON_CONFIG     delivery settings (the auth each vendor signs with)
    coupon_probe     COUPON_PROBE      probe base URL, or an object/callable answering the probe
    coupon_seed      COUPON_SEED       seed of every body sent (default: a new one per session)
    (harness)        COUPON_SETTLE, COUPON_FUZZ   as verify's --settle and --fuzz
    (collection)     COUPON_VENDORS    comma-separated vendors whose cases are generated (default all)

Tests::

    def test_contract(coupon_case, coupon_verify):    # one test per case of the catalogue
        coupon_verify(coupon_case)

    def test_my_app(coupon_emulator):                  # deliver events as the vendors would
        assert coupon_emulator.send("punchh", "coupon-redemption").status == 200
"""

from __future__ import annotations

import os
import secrets
import shlex
from typing import Any

import pytest


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "coupon_case" not in metafunc.fixturenames:
        return
    from contracts import cases

    wanted = [v.strip() for v in os.environ.get("COUPON_VENDORS", "").split(",") if v.strip()]
    catalogue = cases.build(wanted or None)
    metafunc.parametrize("coupon_case", catalogue, ids=[f"{c.vendor}-{c.id}" for c in catalogue])


@pytest.fixture(scope="session")
def coupon_consumer() -> Any:
    """Where the consumer under test listens: a base URL or ``{vendor: URL}``; None skips."""
    return os.environ.get("COUPON_CONSUMER") or None


@pytest.fixture(scope="session")
def coupon_settings() -> Any:
    """Delivery settings: a file path, a mapping, an ``emulator.readers.config.Settings``, or None."""
    return os.environ.get("COUPON_CONFIG") or None


@pytest.fixture(scope="session")
def coupon_probe() -> Any:
    """The probe: a base URL, an object with ``applied`` and ``coupon``, a callable, or None."""
    return os.environ.get("COUPON_PROBE") or None


@pytest.fixture(scope="session")
def coupon_seed() -> int:
    given = os.environ.get("COUPON_SEED")
    return int(given) if given else secrets.randbelow(10**6)


@pytest.fixture(scope="session")
def coupon_harness(
    coupon_consumer: Any, coupon_settings: Any, coupon_probe: Any, coupon_seed: int
) -> Any:
    from contracts.defaults import DEFAULT_FUZZ, DEFAULT_SETTLE
    from contracts.harness import Harness
    from emulator.core.errors import UsageError

    settle = float(os.environ.get("COUPON_SETTLE") or DEFAULT_SETTLE)
    fuzz = int(os.environ.get("COUPON_FUZZ") or DEFAULT_FUZZ)
    try:  # the consumer's URLs are the targets: the settings need give only auth
        return Harness(
            coupon_consumer,
            coupon_settings,
            coupon_probe,
            seed=coupon_seed,
            settle=settle,
            fuzz_count=fuzz,
        )
    except UsageError as exc:  # one clear line per test, not a traceback
        pytest.fail(f"coupon_settings: {exc}", pytrace=False)


@pytest.fixture
def coupon_verify(coupon_harness: Any, coupon_seed: int, request: pytest.FixtureRequest) -> Any:
    """Run one case: passes, skips (with the reason) or fails with a ``Reproduce with:`` line."""
    from contracts.failures import CaseSkipped, ContractFailure

    command = f"COUPON_SEED={coupon_seed} python -m pytest {shlex.quote(request.node.nodeid)}"

    def verify(case: Any) -> str:
        __tracebackhide__ = True  # the failure message says it all; our frames would not
        if coupon_harness.urls == {}:
            pytest.skip("no consumer: override the coupon_consumer fixture or set COUPON_CONSUMER")
        try:
            return coupon_harness.check(case, lambda _: command)
        except CaseSkipped as skip:
            pytest.skip(skip.reason)
        except ContractFailure as failure:
            raise failure.with_traceback(None) from None

    return verify


@pytest.fixture
def coupon_emulator(coupon_consumer: Any, coupon_settings: Any, coupon_seed: int) -> Any:
    """Delivers events to the consumer exactly as each vendor would: ``send``, ``deliver``."""
    from contracts.harness import Emulator

    return Emulator(coupon_consumer, coupon_settings, seed=coupon_seed)
