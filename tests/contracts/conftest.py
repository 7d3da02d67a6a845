"""Shared pieces of the contract-suite tests: consumer settings with auth for every vendor, parsed."""

from __future__ import annotations

import pytest

from emulator.readers import config

# AUTH_SETTINGS and the settings_file fixture that writes them are in tests/conftest.py: the
# emulator's tests verify against them too.


@pytest.fixture(scope="session")
def settings(settings_file) -> config.Settings:
    return config.load(settings_file)
