"""Delivery settings: where each vendor delivers, with which auth, retries, timeout and batching.

The YAML is composed with PyYAML's SafeLoader and read node by node, so that every error names the
file, line, column and key path. ``${VAR}`` and ``${VAR:-default}`` are expanded in every string
value (``$${`` is a literal ``${``). Punchh's ``sign: path|full-url`` lives in its auth spec,
next to the secret it concerns.
"""

from __future__ import annotations

import copy
import os
import ssl
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import yaml

from emulator.core import auth as authn
from emulator.core.errors import ConfigError, UsageError
from emulator.core.vendor import (
    DEFAULT_LINKS_BASE,
    CircuitBreaker,
    DeliveryProfile,
    RetryRule,
    match_rule,
    succeeded,
)
from emulator.readers.yamlread import compose, read_text, url_problem
from emulator.readers.yamlread import expand as expand  # re-exported: config.expand is public

TOP_KEYS = ("vendors", "time_scale", "links_base", "ordering")
TARGET_KEYS = (
    "target", "method", "auth", "headers", "retry", "timeout", "batch_size",
    "verification_get", "timestamp_unit", "success", "tls", "circuit_breaker",
    "redact_headers",
)  # fmt: skip
TLS_KEYS = ("ca_bundle", "client_cert", "client_key", "insecure")
ORDERINGS = ("none", "per-coupon")


@dataclass(frozen=True)
class Tls:
    """How an https target is trusted and whom we show ourselves as: a CA bundle (PEM) instead of
    the system's, a client certificate for mutual TLS, or ``insecure`` (no verification at all,
    for self-signed development consumers only)."""

    ca_bundle: str | None = None
    client_cert: str | None = None
    client_key: str | None = None  # None: the key is in client_cert's file
    insecure: bool = False


@dataclass(frozen=True)
class Target:
    """Everything the dispatcher needs to deliver one vendor's events to one consumer URL."""

    vendor: str
    url: str
    method: str
    auth: authn.Authenticator
    headers: Mapping[str, str]
    retry: tuple[RetryRule, ...]  # empty: never retried
    timeout: float
    batch_size: int
    verification_get: bool
    timestamp_unit: str | None  # one of the profile's timestamp_units; None if it has none
    success: tuple[int, ...] | None  # None: any 2xx
    tls: Tls | None = None  # None: the system's trust store, no client certificate
    circuit_breaker: CircuitBreaker | None = None  # the vendor's breaker, when turned on
    # Custom headers whose values are secret though their names do not say so (``X-Env``).
    redact_headers: tuple[str, ...] = ()

    @classmethod
    def for_url(cls, vendor: str, url: str, profile: DeliveryProfile | None = None) -> Target:
        """The vendor's defaults aimed at ``url`` (``send --target URL`` without a config)."""
        problem = url_problem(url)
        if problem:
            raise UsageError(f"target URL for {vendor}: {problem}")
        return target_defaults(vendor, url, profile or vendor_profile(vendor))

    @property
    def secrets(self) -> tuple[str, ...]:
        """The auth's secrets and the values of secret custom headers: never shown in clear."""
        return (*self.auth.secrets, *authn.header_secrets(self.headers, self.redact_headers))

    def request_headers(self, body: bytes, method: str | None = None) -> dict[str, str]:
        """The static headers, then the auth headers for this body (auth wins on a clash)."""
        method = method or self.method
        return {**self.headers, **self.auth.headers(method, self.url, body)}

    def rule_for(self, kind: str, status: int | None = None) -> RetryRule | None:
        """The retry rule for a failure, with DeliveryProfile's precedence; None: not retried."""
        return match_rule(self.retry, kind, status)

    def is_success(self, status: int) -> bool:
        return succeeded(self.success, status)


@dataclass(frozen=True)
class Settings:
    """A whole settings file: the configured targets and the run-wide knobs."""

    vendors: Mapping[str, Target] = field(default_factory=lambda: MappingProxyType({}))
    time_scale: float = 1.0  # every vendor delay and retry interval is multiplied by this
    links_base: str = DEFAULT_LINKS_BASE
    ordering: str = "none"
    source: str | None = None

    def target(self, vendor: str, url: str | None = None) -> Target:
        """The configured target of ``vendor``; ``url`` (a ``--target`` flag) replaces its URL."""
        configured = self.vendors.get(vendor)
        if configured is None:
            if url is None:
                where = self.source or "a --config file"
                raise UsageError(
                    f"no target for {vendor}: pass --target URL or set vendors.{vendor}.target "
                    f"in {where}"
                )
            return Target.for_url(vendor, url)
        if url is None:
            return configured
        problem = url_problem(url)
        if problem:
            raise UsageError(f"target URL for {vendor}: {problem}")
        return replace(configured, url=url)


def merge(base: Mapping[str, Any], *layers: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as written, merged weakest first: a later layer replaces a top-level key, and a
    vendor's whole entry (not single keys inside it). Nothing is expanded or checked here."""
    raw: dict[str, Any] = copy.deepcopy(dict(base))
    for layer in layers:
        for key, value in layer.items():
            if (
                key == "vendors"
                and isinstance(value, Mapping)
                and isinstance(raw.get(key), Mapping)
            ):
                raw[key] = {**raw[key], **copy.deepcopy(dict(value))}
            else:
                raw[key] = copy.deepcopy(value)
    return raw


def retarget(raw: dict[str, Any], targets: Mapping[str, str]) -> None:
    """Aim vendors at other URLs, in place, keeping the rest of each entry (its auth, its retries)."""
    vendors = raw.setdefault("vendors", {})
    for slug, url in targets.items():
        entry = vendors.get(slug)
        vendors[slug] = {**(entry if isinstance(entry, Mapping) else {}), "target": url}


def load(
    path: str | os.PathLike[str],
    *,
    env: Mapping[str, str] | None = None,
    profiles: Mapping[str, DeliveryProfile] | None = None,
) -> Settings:
    """Read a settings file; ConfigError (exit 2) names file, line, column and key path."""
    return parse(read_file(path), source=str(path), env=env, profiles=profiles)


def read_file(path: str | os.PathLike[str]) -> str:
    """A settings file's text, no more than the size limit; ConfigError (exit 2) when it can't be."""
    source = str(path)
    try:
        return read_text(source, source)
    except FileNotFoundError:
        raise ConfigError("settings file not found", source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the settings file: {exc}", source=source) from exc


def parse(
    data: str | bytes | Mapping[str, Any] | yaml.Node,
    *,
    source: str | None = None,
    env: Mapping[str, str] | None = None,
    profiles: Mapping[str, DeliveryProfile] | None = None,
    extra_keys: Collection[str] = (),
) -> Settings:
    """Settings from YAML text, an already loaded mapping (no line numbers) or a composed node.

    ``env`` defaults to ``os.environ``; ``profiles`` to the catalogue's. ``extra_keys`` are top-level
    keys left to the caller (a scenario file's own sections).
    """
    if isinstance(data, yaml.Node):
        node = data
    elif isinstance(data, str | bytes):
        node = compose(data, source)
    else:
        try:
            node = yaml.representer.SafeRepresenter(sort_keys=False).represent_data(data)
        except yaml.YAMLError as exc:
            raise ConfigError(f"cannot read these settings: {exc}", source=source) from None
    if node is None:
        raise ConfigError(
            "the settings are empty; expected a mapping with 'vendors:'", source=source
        )
    from emulator.readers.settings_reader import SettingsReader  # it builds this module's models

    reader = SettingsReader(source, os.environ if env is None else env, profiles)
    return reader.settings(node, extra_keys)


def vendor_profile(vendor: str) -> DeliveryProfile:
    from emulator.core import catalogue

    profile = getattr(catalogue.vendor(vendor), "profile", None)
    if profile is None:
        raise UsageError(f"vendor {vendor} has no delivery profile yet")
    return profile


def target_defaults(vendor: str, url: str, profile: DeliveryProfile) -> Target:
    return Target(
        vendor=vendor,
        url=url,
        method=profile.method,
        auth=authn.NoAuth(),
        headers=MappingProxyType({}),
        retry=profile.retry,
        timeout=float(profile.timeout),
        batch_size=1,
        verification_get=profile.verification_get,
        timestamp_unit=profile.timestamp_units[0] if profile.timestamp_units else None,
        success=profile.success,
    )


def tls_context(tls: Tls | None) -> ssl.SSLContext:
    """The client TLS context of a target's ``tls`` settings (built once per dispatcher)."""
    context = ssl.create_default_context(cafile=tls.ca_bundle if tls else None)
    if tls is not None and tls.client_cert:
        context.load_cert_chain(tls.client_cert, tls.client_key)
    if tls is not None and tls.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
