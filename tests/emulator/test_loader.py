"""The one loader: inline text reads like a file, and settings merge in the one documented order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emulator.core.errors import ConfigError
from emulator.readers import loader

OWN = {"time_scale": 0.5, "vendors": {"komo": {"target": "http://own/komo"}}}
SINK = {
    "komo": {"target": "http://sink/komo"},
    "rebilly": {"target": "http://sink/rebilly", "auth": {"type": "none"}},
}


def _komo(layers: loader.Layers, own=OWN) -> tuple[str, float]:
    settings, _ = loader.settings(own, ["komo"], layers, "f.yaml")
    return settings.vendors["komo"].url, settings.time_scale


def test_each_layer_overrides_the_one_below():
    config = {"time_scale": 0.25, "vendors": {"komo": {"target": "http://config/komo"}}}
    assert _komo(loader.Layers()) == ("http://own/komo", 0.5)
    assert _komo(loader.Layers(config=config)) == ("http://config/komo", 0.25)
    flags = loader.Layers(config=config, targets={"komo": "http://flag/komo"}, time_scale=0.1)
    assert _komo(flags) == ("http://flag/komo", 0.1)
    assert _komo(loader.Layers(sink=SINK)) == ("http://own/komo", 0.5)  # the sink fills gaps only


def test_a_vendor_no_layer_configures_goes_to_the_sink_or_is_an_error():
    settings, raw = loader.settings({}, ["rebilly"], loader.Layers(sink=SINK), "f.yaml")
    assert settings.vendors["rebilly"].url == "http://sink/rebilly"
    assert raw["vendors"]["rebilly"]["target"] == "http://sink/rebilly"
    with pytest.raises(ConfigError, match=r"no rebilly target is set.*--target rebilly=URL"):
        loader.settings({}, ["rebilly"], loader.Layers(), "f.yaml")


def test_inline_text_and_a_file_give_the_same_plan(tmp_path):
    text = "seed: 3\nevents:\n  - {vendor: komo, event: CouponIssued, count: 2}\n"
    path = tmp_path / "list.yaml"
    path.write_text(text)
    layers = loader.Layers(targets={"komo": "http://127.0.0.1:9/k"})

    start = datetime(2026, 1, 1, tzinfo=UTC)
    inline = loader.plan(loader.Source.inline(text), layers, start=start)
    on_disk = loader.plan(str(path), layers, start=start)
    assert (inline.name, inline.source) == ("inline", "request:yaml")
    assert [e.body for e in inline.events] == [e.body for e in on_disk.events]
