"""The contract suite as a library: run one case from Python, or deliver events to an app under test.

The pytest plugin (``contracts.plugin``) is a thin adapter over these two classes::

    harness = Harness(consumer="http://127.0.0.1:9000/hooks", settings=None, probe=store)
    harness.check(case)               # raises ContractFailure (an AssertionError) or CaseSkipped
    emulator = Emulator(consumer="http://127.0.0.1:9000/hooks")
    emulator.send("punchh", "coupon-redemption").status   # one event, delivered as Punchh would
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import yaml

from contracts import bodies
from contracts.cases import Case
from contracts.failures import CaseSkipped
from contracts.probe import as_probe
from contracts.runner import (
    DEFAULT_FUZZ,
    DEFAULT_SETTLE,
    ERROR,
    FAILED,
    SKIPPED,
    Options,
    Result,
    run_case,
)
from contracts.sending import Exchange, Sender
from emulator.core import catalogue
from emulator.core.errors import UsageError
from emulator.core.vendor import encode
from emulator.readers import config
from emulator.readers.yamlread import compose

Consumers = str | Mapping[str, str] | None


def consumer_urls(consumer: Consumers) -> dict[str, str]:
    """``{vendor: URL}`` from a base URL (every vendor at ``URL/<vendor>``) or a mapping."""
    if consumer is None:
        return {}
    if isinstance(consumer, str):
        return {slug: f"{consumer.rstrip('/')}/{slug}" for slug in catalogue.VENDORS}
    return dict(consumer)


def settings_of(settings: Any, urls: Mapping[str, str] | None = None) -> config.Settings:
    """Settings from a Settings, a path to a settings file, a mapping, or None (no auth).

    With ``urls`` (the consumer's, by vendor) the settings need give only auth: each vendor named
    there is aimed at its URL, and a vendor with neither a target nor a URL is left out (there
    is nothing to verify). Every other key is read and checked as ``run`` reads it.
    """
    if settings is None:
        return config.Settings()
    if isinstance(settings, config.Settings):
        return settings
    if isinstance(settings, Mapping):
        raw = copy.deepcopy(dict(settings))
        vendors = raw.get("vendors")
        if urls is not None and isinstance(vendors, Mapping):
            raw["vendors"] = {
                slug: {**entry, "target": entry.get("target") or urls[slug]}
                if isinstance(entry, Mapping) and slug in urls
                else entry
                for slug, entry in vendors.items()
                if slug in urls or not isinstance(entry, Mapping) or "target" in entry
            }
        return config.parse(raw, source="<settings>")
    if urls is None:
        return config.load(settings)
    source = str(settings)
    node = compose(config.read_file(settings), source)
    if node is not None:
        _aim(node, urls)
    return config.parse(node if node is not None else "", source=source)


def _aim(node: yaml.Node, urls: Mapping[str, str]) -> None:
    """``settings_of``'s targets, written into a settings document's node tree (so that every
    other error still names its line)."""
    if not isinstance(node, yaml.MappingNode):
        return  # the settings reader says what was expected
    for key, value in node.value:
        if key.value != "vendors" or not isinstance(value, yaml.MappingNode):
            continue
        kept = []
        for slug, entry in value.value:
            if isinstance(entry, yaml.MappingNode):
                has = any(k.value == "target" for k, _ in entry.value)
                if not has and slug.value not in urls:
                    continue  # no target, no consumer URL: nothing to verify
                if not has:
                    url = yaml.ScalarNode(
                        _STR, urls[slug.value], start_mark=entry.start_mark, end_mark=entry.end_mark
                    )
                    target = yaml.ScalarNode(_STR, "target", start_mark=entry.start_mark)
                    entry.value.append((target, url))
            kept.append((slug, entry))
        value.value = kept


_STR = "tag:yaml.org,2002:str"


class Harness:
    """Runs cases against a consumer with the given settings and probe."""

    def __init__(
        self,
        consumer: Consumers,
        settings: Any = None,
        probe: Any = None,
        *,
        seed: int = 0,
        settle: float = DEFAULT_SETTLE,
        fuzz_count: int = DEFAULT_FUZZ,
    ) -> None:
        self.urls = consumer_urls(consumer)
        self.settings = settings_of(settings, self.urls)
        self.probe = as_probe(probe)
        self.options = Options(seed, settle, fuzz_count, workers=1)

    def target(self, vendor: str) -> config.Target:
        url = self.urls.get(vendor)
        if url is None:
            raise CaseSkipped(f"no consumer URL for {vendor}")
        return replace(self.settings.target(vendor, url))

    def run(self, case: Case, reproduce: Callable[[Case], str]) -> Result:
        try:
            target = self.target(case.vendor)
        except CaseSkipped as skip:
            return Result(case, SKIPPED, skip.reason, "", 0.0, reproduce(case))
        return run_case(case, target, self.probe, self.options, reproduce)

    def check(self, case: Case, reproduce: Callable[[Case], str]) -> str:
        """Run ``case``; return its note, or raise ContractFailure / CaseSkipped."""
        result = self.run(case, reproduce)
        if result.status == SKIPPED:
            raise CaseSkipped(result.title)
        if result.status == FAILED and result.failure is not None:
            raise result.failure
        if result.status == ERROR:
            raise RuntimeError(result.message) from result.failure
        return result.title


class Emulator:
    """Delivers events to an app exactly as each vendor would (body, auth, Digest exchange)."""

    def __init__(self, consumer: Consumers, settings: Any = None, *, seed: int = 0) -> None:
        self.urls = consumer_urls(consumer)
        self.settings = settings_of(settings, self.urls)
        self.seed = seed
        self._sent = 0

    def sample(self, vendor: str, event_type: str, seed: int | None = None) -> dict[str, Any]:
        """A fresh body of ``event_type`` (a new seed each call unless one is given)."""
        if seed is None:
            self._sent += 1
            seed = bodies.case_seed(self.seed, vendor, event_type, str(self._sent))
        url = self.urls.get(vendor)
        extras = bodies.extras_of(self.settings.target(vendor, url)) if url else None
        return catalogue.sample(vendor, event_type, seed=seed, extras=extras)

    def deliver(self, vendor: str, body: Mapping[str, Any] | bytes, **options: Any) -> Exchange:
        """Send one body (a dict, or raw bytes) to the vendor's consumer URL."""
        url = self.urls.get(vendor)
        if url is None:
            raise UsageError(
                f"no consumer URL for {vendor}; known: {', '.join(self.urls) or 'none'}"
            )
        sender = Sender(self.settings.target(vendor, url))
        try:
            raw = body if isinstance(body, bytes) else encode(body)
            return sender.send(raw, **options)
        finally:
            sender.close()

    def send(self, vendor: str, event_type: str, seed: int | None = None) -> Exchange:
        """Build and deliver one event of ``event_type``; the Exchange has status and body."""
        return self.deliver(vendor, self.sample(vendor, event_type, seed))
