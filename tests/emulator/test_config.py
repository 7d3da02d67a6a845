"""Delivery settings: the format parses to frozen targets, and every bad input says where and why."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from emulator.core.auth import ApiKey, Basic, Bearer, Digest, Hmac, NoAuth
from emulator.core.errors import ConfigError, UsageError
from emulator.core.vendor import DeliveryProfile, RetryRule
from emulator.readers import config
from emulator.readers.config import Settings, Target
from emulator.vendors import komo, punchh

# Test profiles for fabric and rebilly, with timeouts and ladders of their own so that settings are
# seen to follow the profile given; komo's and punchh's are the real ones.
FABRIC = DeliveryProfile(
    auth_types=("none", "api-key"),
    methods=("POST", "GET"),
    batching=True,
    timeout=15,
    retry=(RetryRule(on=("3xx", "4xx", "5xx", "timeout", "connection"), delays=(30, 120, 600)),),
)
REBILLY = DeliveryProfile(
    auth_types=("none", "basic", "digest"),
    methods=("POST", "GET", "PUT", "PATCH", "DELETE"),
    timeout=20,
    retry=(
        RetryRule(on=("5xx", "timeout", "connection"), delays=(60, 300)),
        RetryRule(on=("3xx", "4xx"), delays=()),
    ),
)
PROFILES = {"komo": komo.PROFILE, "fabric": FABRIC, "rebilly": REBILLY, "punchh": punchh.PROFILE}
ENV = {"PUNCHH_URL": "http://127.0.0.1:9000/hooks/punchh?src=emu", "PUNCHH_SECRET": "s3cr3t"}


def parse(text: str, env: dict[str, str] | None = None) -> Settings:
    return config.parse(
        textwrap.dedent(text).lstrip("\n"),
        source="settings.yaml",
        env=ENV if env is None else env,
        profiles=PROFILES,
    )


FULL = """
vendors:
  punchh:
    target: ${PUNCHH_URL}
    auth: {type: hmac-sha256, client: acme_pos, secret: "${PUNCHH_SECRET}", sign: full-url}
    retry: vendor
    timeout: 10
    verification_get: false
    timestamp_unit: ms
  fabric:
    target: http://127.0.0.1:9000/hooks/fabric
    method: get
    auth: {type: api-key, header: x-api-key, value: k3y}
    batch_size: 25
    retry: {delays: [1, 2.5]}
  rebilly:
    target: https://consumer.test/hooks/rebilly
    method: PUT
    auth: {type: digest, username: u, password: p}
    headers: {X-Env: ci, X-Build: "42"}
    retry: none
  komo:
    target: http://127.0.0.1:9000/hooks/komo
    auth:
      type: bearer
      token: ${KOMO_TOKEN:-dev-token}
    retry:
      - {on: [5xx, 429], delays: [5]}
      - {on: [4xx], delays: []}
    success: [200, 204]
time_scale: 0.001
links_base: http://emulator.test:8025
ordering: per-coupon
"""


def test_a_full_file_with_all_four_vendors_parses_to_the_expected_dataclasses(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text(textwrap.dedent(FULL), encoding="utf-8")
    settings = config.load(path, env=ENV, profiles=PROFILES)
    assert settings == Settings(
        vendors={
            "punchh": Target(
                vendor="punchh",
                url="http://127.0.0.1:9000/hooks/punchh?src=emu",
                method="POST",
                auth=Hmac("acme_pos", "s3cr3t", type="hmac-sha256", sign="full-url"),
                headers={},
                retry=punchh.PROFILE.retry,
                timeout=10.0,
                batch_size=1,
                verification_get=False,
                timestamp_unit="ms",
                success=(200, 202),
            ),
            "fabric": Target(
                vendor="fabric",
                url="http://127.0.0.1:9000/hooks/fabric",
                method="GET",
                auth=ApiKey("k3y", header="x-api-key"),
                headers={},
                retry=(
                    RetryRule(on=("3xx", "4xx", "5xx", "timeout", "connection"), delays=(1, 2.5)),
                ),
                timeout=15.0,
                batch_size=25,
                verification_get=False,
                timestamp_unit=None,
                success=None,
            ),
            "rebilly": Target(
                vendor="rebilly",
                url="https://consumer.test/hooks/rebilly",
                method="PUT",
                auth=Digest("u", "p"),
                headers={"X-Env": "ci", "X-Build": "42"},
                retry=(),
                timeout=20.0,
                batch_size=1,
                verification_get=False,
                timestamp_unit=None,
                success=None,
            ),
            "komo": Target(
                vendor="komo",
                url="http://127.0.0.1:9000/hooks/komo",
                method="POST",
                auth=Bearer("dev-token"),
                headers={},
                retry=(
                    RetryRule(on=("5xx", "429"), delays=(5,)),
                    RetryRule(on=("4xx",), delays=()),
                ),
                timeout=15.0,
                batch_size=1,
                verification_get=False,
                timestamp_unit=None,
                success=(200, 204),
            ),
        },
        time_scale=0.001,
        links_base="http://emulator.test:8025",
        ordering="per-coupon",
        source=str(path),
    )


def test_defaults_come_from_the_vendor_profile():
    settings = parse("vendors:\n  punchh: {target: 'http://c.test/p'}\n")
    assert settings.vendors["punchh"] == Target.for_url("punchh", "http://c.test/p", punchh.PROFILE)
    target = settings.vendors["punchh"]
    assert (target.auth, target.retry, target.timeout) == (NoAuth(), punchh.PROFILE.retry, 15.0)
    assert (target.verification_get, target.timestamp_unit, target.success) == (
        True,
        "s",
        (200, 202),
    )
    assert (settings.time_scale, settings.ordering) == (1.0, "none")
    assert settings.links_base == "http://127.0.0.1:8025"


def test_komo_uses_the_real_catalogue_profile_by_default():
    settings = config.parse("vendors: {komo: {target: 'http://c.test/k'}}", env={})
    assert settings.vendors["komo"].retry == komo.PROFILE.retry


def test_punchh_basic_and_bearer_default_to_lowercase_scheme_words():
    settings = parse("""
        vendors:
          punchh:
            target: http://c.test/p
            auth: {type: basic, username: u, password: p}
    """)
    assert settings.vendors["punchh"].auth == Basic("u", "p", scheme="basic")
    assert settings.vendors["punchh"].request_headers(b"{}")["Authorization"].startswith("basic ")
    bearer = parse("vendors: {punchh: {target: 'http://c.test/p', auth: {type: bearer, token: t}}}")
    assert bearer.vendors["punchh"].auth == Bearer("t", scheme="bearer")
    other = parse(
        "vendors: {rebilly: {target: 'http://c.test/r', auth: {type: basic, username: u, password: p}}}"
    )
    assert other.vendors["rebilly"].auth == Basic("u", "p", scheme="Basic")


# --- retry forms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("retry", "expected"),
    [
        ("vendor", punchh.PROFILE.retry),
        ("none", ()),
        ("{delays: []}", ()),
        (
            "{delays: [1, 2]}",  # the vendor's retried kinds, the vendor's final kinds stay final
            (
                RetryRule(on=("429", "408", "timeout", "connection", "5xx"), delays=(1, 2)),
                RetryRule(on=("3xx", "4xx"), delays=()),
            ),
        ),
        (
            "{delays: [3], on: [503, timeout]}",  # a bare `on` is a key here, not YAML 1.1's True
            (
                RetryRule(on=("503", "timeout"), delays=(3,)),
                RetryRule(on=("3xx", "4xx"), delays=()),
            ),
        ),
        ("[{on: [5xx], delays: [1]}]", (RetryRule(on=("5xx",), delays=(1,)),)),
    ],
)
def test_retry_forms(retry, expected):
    settings = parse(f"vendors:\n  punchh:\n    target: http://c.test/p\n    retry: {retry}\n")
    assert settings.vendors["punchh"].retry == expected


def test_target_rule_for_and_is_success_follow_the_settings():
    target = parse("vendors: {punchh: {target: 'http://c.test/p', retry: {delays: [7]}}}").vendors[
        "punchh"
    ]
    assert target.rule_for("status", 503).delays == (7,)
    assert target.rule_for("status", 404).delays == ()
    assert target.rule_for("timeout").delays == (7,)
    assert (target.is_success(202), target.is_success(201)) == (True, False)
    never = parse("vendors: {punchh: {target: 'http://c.test/p', retry: none}}").vendors["punchh"]
    assert never.rule_for("status", 503) is None


# --- environment ------------------------------------------------------------------------------


def test_env_expansion_with_defaults_escapes_and_typed_values():
    settings = parse(
        """
        vendors:
          fabric:
            target: ${HOST:-http://127.0.0.1:9000}/hooks/fabric
            auth: {type: api-key, value: "$${NOT_A_VAR}-${KEY}"}
            timeout: ${TIMEOUT:-2.5}
            batch_size: ${BATCH}
        time_scale: ${SCALE:-1}
        """,
        env={"KEY": "k", "BATCH": "10", "HOST": ""},
    )
    fabric = settings.vendors["fabric"]
    assert fabric.url == "http://127.0.0.1:9000/hooks/fabric"  # `:-` also covers an empty value
    assert fabric.auth == ApiKey("${NOT_A_VAR}-k")
    assert (fabric.timeout, fabric.batch_size, settings.time_scale) == (2.5, 10, 1.0)


def test_expand():
    env = {"A": "1", "E": ""}
    assert config.expand("x${A}y${B:-2}z$${A}${E:-d}${E}", env) == "x1y2z${A}d"
    with pytest.raises(LookupError, match=r"environment variable B is not set"):
        config.expand("${B}", env)
    with pytest.raises(ValueError, match=r"malformed"):
        config.expand("${1A}", env)
    with pytest.raises(ValueError, match=r"malformed"):
        config.expand("${A", env)


def test_a_missing_variable_names_the_variable_file_and_line():
    with pytest.raises(ConfigError) as info:
        parse(FULL, env={})
    assert str(info.value) == (
        "settings.yaml:3:13: vendors.punchh.target: environment variable PUNCHH_URL is not set; "
        "export it, or give a default with ${PUNCHH_URL:-default}"
    )


def test_a_missing_variable_inside_auth_points_at_the_auth_value():
    with pytest.raises(ConfigError) as info:
        parse(FULL, env={"PUNCHH_URL": "http://c.test/p"})
    assert (info.value.line, info.value.path) == (4, "vendors.punchh.auth.secret")
    assert "PUNCHH_SECRET" in str(info.value)


# --- bad inputs: file, line, key path, what was expected, valid options -----------------------

BAD = [
    pytest.param(
        """
        vendors:
          punchh:
            target: http://c.test/p
            auth:
              type: digest
              username: u
              password: p
        """,
        "settings.yaml:5:13: vendors.punchh.auth.type: unknown auth type 'digest' for punchh; "
        "valid: none, basic, bearer, hmac-sha1, hmac-sha256",
        id="auth-type-not-for-vendor",
    ),
    pytest.param(
        """
        vendors:
          punchh:
            target: http://c.test/p
            auth: {type: hmac-sha1, client: acme}
        """,
        "settings.yaml:4:11: vendors.punchh.auth.secret: auth type hmac-sha1 needs 'secret' "
        "(required: client, secret)",
        id="missing-secret",
    ),
    pytest.param(
        """
        vendors:
          komo:
            target: ftp://c.test/k
        """,
        "settings.yaml:3:13: vendors.komo.target: expected an http:// or https:// URL, got scheme 'ftp'",
        id="url-scheme",
    ),
    pytest.param(
        """
        vendors:
          komo:
            target: http://c.test/k
            timeout: -1
        """,
        "settings.yaml:4:14: vendors.komo.timeout: expected a number of seconds > 0, got -1",
        id="negative-timeout",
    ),
    pytest.param(
        """
        vendors:
          komo:
            target: http://c.test/k
            batch_size: 10
        """,
        "settings.yaml:4:5: vendors.komo.batch_size: komo sends one event per request; "
        "batch_size applies only to fabric",
        id="batch-size-not-batching",
    ),
    pytest.param(
        """
        vendors:
          fabric:
            target: http://c.test/f
            tiemout: 3
        """,
        "settings.yaml:4:5: vendors.fabric.tiemout: unknown key 'tiemout'; known keys: target, "
        "method, auth, headers, retry, timeout, batch_size, verification_get, timestamp_unit, "
        "success, tls, circuit_breaker, redact_headers. Did you mean 'timeout'?",
        id="unknown-key",
    ),
    pytest.param(
        """
        time_scale: 1
        vendors:
          punch:
            target: http://c.test/p
        """,
        "settings.yaml:3:3: vendors.punch: unknown vendor 'punch'; valid vendors: komo, fabric, "
        "rebilly, punchh. Did you mean 'punchh'?",
        id="unknown-vendor",
    ),
    pytest.param(
        """
        vendors:
          rebilly:
            target: http://c.test/r
            retry:
              delays: [10, soon, 60]
        """,
        "settings.yaml:5:20: vendors.rebilly.retry.delays[1]: expected a number of seconds >= 0, "
        "got 'soon'",
        id="retry-delay-not-a-number",
    ),
    pytest.param(
        """
        vendors:
          komo:
            target: http://c.test/k
              timeout: 3
        """,
        "settings.yaml:4:14: YAML syntax error: mapping values are not allowed here",
        id="broken-yaml",
    ),
    pytest.param(
        """
        vendors:
          punchh:
            target: http://c.test/p
            method: PUT
        """,
        "settings.yaml:4:13: vendors.punchh.method: punchh does not send PUT; valid: POST",
        id="method-not-for-vendor",
    ),
    pytest.param(
        """
        vendors:
          komo:
            auth: {type: none}
        """,
        "settings.yaml:3:5: vendors.komo.target: required: the consumer URL (http:// or https://)",
        id="missing-target",
    ),
    pytest.param(
        """
        vendors:
          komo:
            target: http://c.test/k
            timeout: 3
            timeout: 4
        """,
        "settings.yaml:5:5: vendors.komo.timeout: duplicate key (first at line 4)",
        id="duplicate-key",
    ),
    pytest.param(
        """
        vendors:
          fabric:
            target: http://c.test/f
            auth: {type: api-key, value: k, hedaer: X-Key}
        """,
        "settings.yaml:4:37: vendors.fabric.auth.hedaer: unknown field 'hedaer' for auth type "
        "api-key; known: type, value, header. Did you mean 'header'?",
        id="unknown-auth-field",
    ),
    pytest.param(
        """
        vendors:
          punchh:
            target: http://c.test/p
            retry: {delays: [1], on: [5xx, 6xx]}
        """,
        "settings.yaml:4:36: vendors.punchh.retry.on[1]: expected a status (429), a class (5xx), "
        "timeout or connection, got '6xx'",
        id="retry-kind",
    ),
    pytest.param(
        """
        vendors:
          rebilly:
            target: http://c.test/r
            verification_get: true
        """,
        "settings.yaml:4:5: vendors.rebilly.verification_get: rebilly sends no verification GET; "
        "verification_get applies only to punchh",
        id="verification-get-not-punchh",
    ),
    pytest.param(
        """
        vendors:
          fabric:
            target: http://c.test/f
            timestamp_unit: ms
        """,
        "settings.yaml:4:5: vendors.fabric.timestamp_unit: fabric sends no epoch timestamps; "
        "timestamp_unit applies only to punchh",
        id="timestamp-unit-not-punchh",
    ),
    pytest.param(
        """
        vendors:
          punchh:
            target: http://c.test/p
            timestamp_unit: us
        """,
        "settings.yaml:4:21: vendors.punchh.timestamp_unit: unknown timestamp unit 'us'; valid: s, ms. "
        "Did you mean 's'?",
        id="timestamp-unit-value",
    ),
    pytest.param(
        """
        vendors:
          punchh:
            target: http://c.test/p
            auth: {type: bearer, token: 123456}
        """,
        "settings.yaml:4:33: vendors.punchh.auth.token: expected a string, got a int; quote the "
        "value in YAML",
        id="secret-not-a-string",
    ),
    pytest.param(
        """
        vendors:
          rebilly:
            target: http://c.test/r
            auth: {type: basic, username: u, password: p}
            headers: {authorization: x}
        """,
        "settings.yaml:5:15: vendors.rebilly.headers.authorization: auth type basic sets "
        "authorization; remove it from headers",
        id="header-clashes-with-auth",
    ),
    pytest.param(
        """
        vendors:
          komo:
            target: http://user:pw@c.test/k
        """,
        "settings.yaml:3:13: vendors.komo.target: credentials in the URL are not how vendors "
        "authenticate; use auth: {type: basic, ...}",
        id="url-credentials",
    ),
    pytest.param(
        """
        vendors:
          komo: !!python/object/apply:os.system [echo pwned]
        """,
        "settings.yaml:2:9: vendors.komo: unsupported tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'; settings are plain YAML",
        id="unsafe-tag",
    ),
    pytest.param(
        "time_scale: -0.5\n",
        "settings.yaml:1:13: time_scale: expected a factor >= 0, got -0.5",
        id="time-scale",
    ),
    pytest.param(
        "ordering: fifo\n",
        "settings.yaml:1:11: ordering: unknown ordering 'fifo'; valid: none, per-coupon",
        id="ordering",
    ),
    pytest.param(
        "- komo\n",
        "settings.yaml:1:1: expected a mapping with keys vendors, time_scale, links_base, "
        "ordering, got a list",
        id="not-a-mapping",
    ),
    pytest.param(
        """
        vendors:
          komo:
            target: http://c.test/k
            success: [200, 700]
        """,
        "settings.yaml:4:20: vendors.komo.success[1]: expected a status code 100-599, got 700",
        id="success-code",
    ),
    pytest.param(
        """
        vendors:
          rebilly:
            target: http://c.test/r
            retry: {on: [5xx]}
        """,
        "settings.yaml:4:12: vendors.rebilly.retry.delays: required: a list of seconds, "
        "e.g. [10, 60, 300]",
        id="retry-without-delays",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD)
def test_bad_input_names_file_line_column_key_path_and_valid_options(text, message):
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert str(info.value) == message


def test_broken_yaml_in_a_file_gives_the_parser_line_and_column(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("vendors:\n  komo: {target: http://c.test/k\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        config.load(path, env={}, profiles=PROFILES)
    assert str(info.value).startswith(f"{path}:3:1: YAML syntax error: ")
    assert (info.value.line, info.value.column) == (3, 1)


def test_unquoted_env_reference_in_a_flow_mapping_hints_at_quoting():
    with pytest.raises(ConfigError) as info:
        parse("vendors:\n  punchh: {target: http://c.test/p, auth: {type: bearer, token: ${T}}}\n")
    assert info.value.line == 2
    assert 'quote values that use ${VAR}: secret: "${SECRET}"' in str(info.value)


def test_errors_are_usage_errors_and_never_quote_a_secret():
    with pytest.raises(UsageError) as info:
        parse("vendors: {punchh: {target: 'http://c.test/p', auth: {type: bearer, token: 987654}}}")
    assert "987654" not in str(info.value)
    with pytest.raises(UsageError) as info:
        parse("vendors: {komo: {target: 'http://c.test/k', headers: {X-Key: 987654}}}")
    assert "987654" not in str(info.value)
    assert info.value.path == "vendors.komo.headers.X-Key"


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        config.load(tmp_path / "nope.yaml")
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: settings file not found"


def test_an_empty_file_is_an_error(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="the settings are empty"):
        config.load(path, env={})


def test_a_loaded_mapping_parses_without_line_numbers():
    settings = config.parse({"vendors": {"komo": {"target": "http://c.test/k"}}}, profiles=PROFILES)
    assert settings.vendors["komo"].url == "http://c.test/k"
    with pytest.raises(ConfigError) as info:
        config.parse(
            {"vendors": {"komo": {"target": "http://c.test/k", "timeout": 0}}}, profiles=PROFILES
        )
    assert (
        str(info.value)
        == "<settings>: vendors.komo.timeout: expected a number of seconds > 0, got 0"
    )


def test_anchors_and_merge_keys_work_and_extra_keys_are_left_to_the_caller():
    text = textwrap.dedent("""
        scenario: {name: demo}
        vendors:
          komo: &k {retry: none, timeout: 3, target: 'http://c.test/k'}
          rebilly: {<<: *k, target: 'http://c.test/r', timeout: 4}
    """)
    settings = config.parse(text, env={}, profiles=PROFILES, extra_keys=("scenario",))
    assert (settings.vendors["komo"].timeout, settings.vendors["rebilly"].timeout) == (3.0, 4.0)
    assert settings.vendors["rebilly"].retry == ()
    with pytest.raises(ConfigError, match="unknown key 'scenario'"):
        config.parse(text, env={}, profiles=PROFILES)


# --- targets for the command line -------------------------------------------------------------


def test_settings_target_overrides_the_url_and_falls_back_to_vendor_defaults():
    settings = parse(FULL)
    overridden = settings.target("punchh", "http://other.test/p")
    assert overridden.url == "http://other.test/p"
    assert overridden.auth == settings.vendors["punchh"].auth
    assert Settings().target("komo", "http://c.test/k") == Target.for_url("komo", "http://c.test/k")
    with pytest.raises(UsageError, match=r"no target for komo: pass --target URL"):
        Settings().target("komo")
    with pytest.raises(UsageError, match=r"got scheme 'file'"):
        Target.for_url("komo", "file:///etc/passwd")


def test_request_headers_are_static_headers_then_auth_headers():
    settings = parse("""
        vendors:
          fabric:
            target: http://c.test/f
            auth: {type: api-key, value: k3y}
            headers: {X-Env: ci}
    """)
    fabric = settings.vendors["fabric"]
    assert fabric.request_headers(b"{}") == {"X-Env": "ci", "x-api-key": "k3y"}
    assert fabric.secrets == ("k3y",)


def test_importing_config_imports_neither_flask_nor_requests():
    code = (
        "import sys, emulator.readers.config\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'werkzeug', 'requests'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_merge_replaces_top_keys_and_whole_vendor_entries_weakest_first_and_copies():
    from emulator.readers.config import merge, retarget

    base = {
        "time_scale": 1,
        "vendors": {
            "komo": {"target": "http://a/k"},
            "punchh": {"target": "http://a/p", "timeout": 3},
        },
    }
    layer = {"time_scale": 0.5, "vendors": {"punchh": {"target": "http://b/p"}}}
    raw = merge(base, layer)
    assert raw == {
        "time_scale": 0.5,
        "vendors": {"komo": {"target": "http://a/k"}, "punchh": {"target": "http://b/p"}},
    }
    raw["vendors"]["komo"]["target"] = "changed"
    assert base["vendors"]["komo"]["target"] == "http://a/k"  # the layers are not aliased
    retarget(raw, {"punchh": "http://c/p", "fabric": "http://c/f"})
    assert raw["vendors"]["punchh"] == {"target": "http://c/p"}
    assert raw["vendors"]["fabric"] == {"target": "http://c/f"}


def test_retarget_keeps_the_rest_of_a_vendors_entry():
    from emulator.readers.config import retarget

    raw = {
        "vendors": {"punchh": {"target": "http://a/p", "auth": {"type": "bearer", "token": "${T}"}}}
    }
    retarget(raw, {"punchh": "http://b/p"})
    assert raw == {
        "vendors": {"punchh": {"target": "http://b/p", "auth": {"type": "bearer", "token": "${T}"}}}
    }
