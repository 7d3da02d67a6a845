"""The settings format, read node by node on top of the shared YAML primitives: every value checked
where it stands, every error with file, line, column and key path (``emulator.readers.config.parse``
is the entry point)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import yaml

from emulator.core import auth as authn
from emulator.core.errors import UsageError
from emulator.core.vendor import DeliveryProfile, RetryRule
from emulator.readers import bounds
from emulator.readers.config import (
    ORDERINGS,
    TARGET_KEYS,
    TLS_KEYS,
    TOP_KEYS,
    Settings,
    Target,
    Tls,
    target_defaults,
    tls_context,
    vendor_profile,
)
from emulator.readers.yamlread import WHOLE as _WHOLE
from emulator.readers.yamlread import YamlReader
from emulator.readers.yamlread import join as _join
from emulator.readers.yamlread import shape as _shape
from emulator.readers.yamlread import suggest as _suggest
from emulator.readers.yamlread import type_name as _type_name

# Keys that only some vendors accept: (does this vendor accept it?, why not).
_VENDOR_ONLY: dict[str, tuple[Callable[[str, DeliveryProfile], bool], str]] = {
    "batch_size": (lambda slug, p: p.batching, "sends one event per request"),
    "verification_get": (lambda slug, p: p.verification_get, "sends no verification GET"),
    "timestamp_unit": (lambda slug, p: bool(p.timestamp_units), "sends no epoch timestamps"),
    "circuit_breaker": (lambda slug, p: p.circuit_breaker is not None, "documents no breaker"),
}
_KIND = re.compile(r"^(?:[1-5]xx|[1-5][0-9][0-9]|timeout|connection)$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
# The engine frames every request itself; one of these in ``headers:`` would frame it twice.
ENGINE_HEADERS = ("Host", "Content-Length", "Transfer-Encoding", "Connection")


class SettingsReader(YamlReader):
    """The settings format on top of the shared node-walking primitives."""

    def __init__(
        self,
        source: str | None,
        env: Mapping[str, str],
        profiles: Mapping[str, DeliveryProfile] | None,
    ) -> None:
        super().__init__(source, env, "settings")
        self.profiles = profiles

    # --- the format ---------------------------------------------------------------------------

    def settings(self, node: yaml.Node, extra_keys: Collection[str]) -> Settings:
        self.safe(node)
        items = self.mapping(node, "", f"a mapping with keys {', '.join(TOP_KEYS)}")
        self.known(items, "", (*TOP_KEYS, *extra_keys))
        settings = Settings(source=self.source)
        if "time_scale" in items:
            scale = self.number(items["time_scale"][1], "time_scale", minimum=0, what="a factor")
            settings = replace(settings, time_scale=scale)
        if "links_base" in items:
            settings = replace(settings, links_base=self.url(items["links_base"][1], "links_base"))
        if "ordering" in items:
            ordering = self.choice(items["ordering"][1], "ordering", ORDERINGS, "ordering")
            settings = replace(settings, ordering=ordering)
        targets: dict[str, Target] = {}
        if "vendors" in items:
            from emulator.core import catalogue

            slugs = tuple(catalogue.VENDORS)
            vendors = self.mapping(
                items["vendors"][1], "vendors", "a mapping of vendor slug to target"
            )
            for slug, (key, value) in vendors.items():
                path = f"vendors.{slug}"
                if slug not in slugs:
                    message = f"unknown vendor {slug!r}; valid vendors: {', '.join(slugs)}"
                    raise self.fail(key, path, message + _suggest(slug, slugs))
                targets[slug] = self.target(slug, key, value, path)
        return replace(settings, vendors=MappingProxyType(targets))

    def profile(self, slug: str, key: yaml.Node, path: str) -> DeliveryProfile:
        try:
            if self.profiles is not None:
                return self.profiles[slug]
            return vendor_profile(slug)
        except (KeyError, UsageError):
            raise self.fail(key, path, f"vendor {slug} has no delivery profile yet") from None

    def target(self, slug: str, key: yaml.Node, node: yaml.Node, path: str) -> Target:
        profile = self.profile(slug, key, path)
        items = self.mapping(node, path, "a mapping with at least 'target: URL'")
        self.known(items, path, TARGET_KEYS)
        if "target" not in items:
            raise self.fail(
                node, f"{path}.target", "required: the consumer URL (http:// or https://)"
            )
        if "auth" not in items and "none" not in profile.auth_types:
            valid = ", ".join(profile.auth_types)
            raise self.fail(node, f"{path}.auth", f"{slug} needs auth; valid types: {valid}")
        target = target_defaults(slug, self.url(items["target"][1], f"{path}.target"), profile)
        changes: dict[str, Any] = {}
        for name, (key_node, value) in items.items():
            here = f"{path}.{name}"
            if name in _VENDOR_ONLY and not _VENDOR_ONLY[name][0](slug, profile):
                having = [v for v, p in self.all_profiles().items() if _VENDOR_ONLY[name][0](v, p)]
                why = f"{slug} {_VENDOR_ONLY[name][1]}; {name} applies only to "
                raise self.fail(key_node, here, why + (", ".join(having) or "no vendor"))
            if name == "method":
                method = self.text(value, here).upper()
                if method not in profile.methods:
                    valid = ", ".join(profile.methods)
                    raise self.fail(value, here, f"{slug} does not send {method}; valid: {valid}")
                changes[name] = method
            elif name == "auth":
                changes[name] = self.auth(slug, value, here, profile)
            elif name == "retry":
                changes[name] = self.retry(value, here, profile)
            elif name == "timeout":
                timeout = self.number(value, here, minimum=0, exclusive=True)
                changes[name] = bounds.seconds(self, value, here, timeout)
            elif name == "batch_size":
                changes[name] = int(self.number(value, here, minimum=1, what=_WHOLE))
            elif name == "verification_get":
                changes[name] = self.boolean(value, here)
            elif name == "timestamp_unit":
                units = profile.timestamp_units
                changes[name] = self.choice(value, here, units, "timestamp unit")
            elif name == "success":
                changes[name] = self.success(value, here)
            elif name == "tls":
                changes[name] = self.tls(value, here, target.url)
            elif name == "circuit_breaker":
                changes[name] = profile.circuit_breaker if self.boolean(value, here) else None
            elif name == "redact_headers":
                changes[name] = self.redact_headers(value, here)
        target = replace(target, **changes)
        if "headers" in items:
            headers = self.headers(items["headers"][1], f"{path}.headers", target.auth)
            target = replace(target, headers=headers)
        return target

    def all_profiles(self) -> dict[str, DeliveryProfile]:
        """Every vendor's profile that exists yet (vendor modules may still lack one)."""
        from emulator.core import catalogue

        found = {}
        for slug in catalogue.VENDORS:
            try:
                found[slug] = self.profiles[slug] if self.profiles else vendor_profile(slug)
            except (KeyError, UsageError):
                continue
        return found

    def auth(
        self, slug: str, node: yaml.Node, path: str, profile: DeliveryProfile
    ) -> authn.Authenticator:
        items = self.mapping(node, path, f"a mapping with a type ({', '.join(profile.auth_types)})")
        spec = {
            name: self.scalar(value, _join(path, name))[0] for name, (_, value) in items.items()
        }
        try:
            return authn.from_spec(
                spec, allowed=profile.auth_types, vendor=slug, defaults=profile.auth_defaults
            )
        except authn.AuthSpecError as exc:
            key_node, value_node = items.get(exc.key, (node, node))
            at = key_node if exc.problem == "unknown" else value_node
            raise self.fail(at, _join(path, exc.key), exc.message) from None

    def redact_headers(self, node: yaml.Node, path: str) -> tuple[str, ...]:
        """Header names whose values are redacted wherever headers are stored or shown."""
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, path, "expected a list of header names, e.g. [X-Env]")
        names = []
        for i, item in enumerate(node.value):
            name = self.text(item, f"{path}[{i}]", "a header name")
            if not _HEADER_NAME.match(name):
                raise self.fail(item, f"{path}[{i}]", "not a valid header name")
            names.append(name)
        return tuple(names)

    def headers(self, node: yaml.Node, path: str, auth: authn.Authenticator) -> Mapping[str, str]:
        items = self.mapping(node, path, "a mapping of header name to value")
        owned = {name.lower() for name in auth.headers("POST", "http://x/", b"")}
        if isinstance(auth, authn.Digest):
            owned.add("authorization")
        out: dict[str, str] = {}
        for name, (key, value) in items.items():
            here = _join(path, name)
            if not _HEADER_NAME.match(name):
                raise self.fail(
                    key, here, "not a valid header name (letters, digits and -_.!#$%&'*+^`|~)"
                )
            if name.lower() in owned:
                raise self.fail(
                    key, here, f"auth type {auth.type} sets {name}; remove it from headers"
                )
            if name.lower() in {h.lower() for h in ENGINE_HEADERS}:
                raise self.fail(
                    key, here, f"the engine sets {name} itself, from the request it sends; remove "
                    f"it from headers (set by the engine: {', '.join(ENGINE_HEADERS)})",
                )  # fmt: skip
            text = self.text(value, here, "a string (quote numbers and booleans)")
            if "\r" in text or "\n" in text:
                raise self.fail(value, here, "a header value cannot contain a line break")
            if bad := next((c for c in text if ord(c) > 0xFF), None):
                raise self.fail(
                    value, here, f"{bad!r} cannot be sent: HTTP/1.1 header values are ISO-8859-1 "
                    "(latin-1) text; use ASCII, or percent-encode it as the consumer expects",
                )  # fmt: skip
            out[name] = text
        return MappingProxyType(out)

    def tls(self, node: yaml.Node, path: str, url: str) -> Tls:
        items = self.mapping(node, path, f"a mapping with keys {', '.join(TLS_KEYS)}")
        self.known(items, path, TLS_KEYS)
        if not url.startswith("https://"):
            raise self.fail(node, path, f"tls applies to https:// targets; the target is {url}")
        files: dict[str, str] = {}
        for name in ("ca_bundle", "client_cert", "client_key"):
            if name in items:
                value = items[name][1]
                files[name] = self.text(value, _join(path, name), "a path to a PEM file")
                if not os.path.isfile(files[name]):
                    raise self.fail(value, _join(path, name), f"no such file: {files[name]}")
        insecure = "insecure" in items and self.boolean(items["insecure"][1], f"{path}.insecure")
        if "client_key" in files and "client_cert" not in files:
            raise self.fail(node, f"{path}.client_cert", "required with client_key: the PEM "
                            "certificate that goes with the key")  # fmt: skip
        if insecure and "ca_bundle" in files:
            raise self.fail(
                items["insecure"][1], f"{path}.insecure",
                "insecure turns certificate checks off, so ca_bundle would be ignored; keep one",
            )  # fmt: skip
        tls = Tls(insecure=insecure, **files)
        try:
            tls_context(tls)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            raise self.fail(node, path, f"cannot use these TLS files: {exc}") from None
        return tls

    def retry(self, node: yaml.Node, path: str, profile: DeliveryProfile) -> tuple[RetryRule, ...]:
        shapes = (
            "'vendor', 'none', {delays: [seconds...], on: [kinds...]} or a list of {on, delays}"
        )
        if isinstance(node, yaml.ScalarNode):
            word = self.text(node, path, shapes)
            if word in ("vendor", "none"):
                return profile.retry if word == "vendor" else ()
            raise self.fail(node, path, f"expected {shapes}, got {word!r}")
        if isinstance(node, yaml.SequenceNode):
            return tuple(self.rule(item, f"{path}[{i}]", None) for i, item in enumerate(node.value))
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, path, f"expected {shapes}, got {_type_name(node)}")
        # One schedule replacing the vendor's: it covers the kinds the vendor retries unless `on`
        # says otherwise, and the kinds the vendor never retries stay final.
        retried = tuple(dict.fromkeys(k for r in profile.retry if r.delays for k in r.on))
        rule = self.rule(node, path, retried)
        if not rule.delays and not any(k.value == "on" for k, _ in node.value):
            return ()  # {delays: []}: never retried, like `none`
        return (rule, *(r for r in profile.retry if not r.delays))

    def rule(self, node: yaml.Node, path: str, default_on: tuple[str, ...] | None) -> RetryRule:
        items = self.mapping(node, path, "a mapping with keys delays, on")
        self.known(items, path, ("delays", "on"))
        if "delays" not in items:
            raise self.fail(
                node, f"{path}.delays", "required: a list of seconds, e.g. [10, 60, 300]"
            )
        if "on" not in items and default_on is None:
            raise self.fail(
                node, f"{path}.on", "required in a list of rules: e.g. [5xx, 429, timeout]"
            )
        delays = tuple(
            bounds.seconds(
                self, d, f"{path}.delays[{i}]", self.number(d, f"{path}.delays[{i}]", minimum=0)
            )
            for i, d in enumerate(self.sequence(items["delays"][1], f"{path}.delays"))
        )
        if "on" not in items:
            return RetryRule(on=default_on or (), delays=delays)
        kinds = []
        for i, k in enumerate(self.sequence(items["on"][1], f"{path}.on")):
            value, _ = self.scalar(k, f"{path}.on[{i}]")
            kind = (
                str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
            )
            if not _KIND.match(kind):
                message = "expected a status (429), a class (5xx), timeout or connection"
                raise self.fail(k, f"{path}.on[{i}]", f"{message}, got {_shape(k, value)}")
            kinds.append(kind)
        return RetryRule(on=tuple(kinds), delays=delays)

    def success(self, node: yaml.Node, path: str) -> tuple[int, ...] | None:
        expected = "'2xx' or a list of status codes, e.g. [200, 202]"
        if isinstance(node, yaml.ScalarNode):
            value, _ = self.scalar(node, path)
            if value == "2xx":
                return None
            raise self.fail(node, path, f"expected {expected}, got {_shape(node, value)}")
        codes = []
        for i, item in enumerate(self.sequence(node, path)):
            value, _ = self.scalar(item, f"{path}[{i}]")
            if isinstance(value, bool) or not isinstance(value, int) or not 100 <= value <= 599:
                raise self.fail(
                    item,
                    f"{path}[{i}]",
                    f"expected a status code 100-599, got {_shape(item, value)}",
                )
            codes.append(value)
        if not codes:
            raise self.fail(node, path, f"expected {expected}, got an empty list")
        return tuple(codes)
