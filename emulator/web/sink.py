"""The built-in sink: the contract suite's reference consumer, mounted at ``/sink``.

It is every run's default target, so the emulator works with nothing else running; the settings
aimed at it are in ``emulator.readers.sink_settings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from emulator.readers import config
from emulator.readers.sink_settings import PREFIX, entries


def mount(app: Flask, base_url: str, env: Mapping[str, str]) -> Any:
    """Mount the reference consumer at ``/sink``, checking the auth of ``entries``; its core."""
    from contracts.reference_consumer import create_blueprint

    settings = config.parse({"vendors": entries(base_url)}, source="built-in sink", env=env)
    blueprint = create_blueprint(settings, probe=True, name="sink")
    app.register_blueprint(blueprint, url_prefix=PREFIX)
    return blueprint.consumer
