"""``send`` and ``sample`` with ``--set``, ``--unset`` and ``--patch``, as users run them: a
subprocess, a real consumer on loopback, real exit codes."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys

import pytest

from emulator.core.vendor import encode

SECRET = "s3cret-for-tests"
AT = "2026-01-15T09:30:00Z"


def cli(*args: str, cwd=None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "emulator", *args], capture_output=True, text=True, timeout=120,
        cwd=cwd, check=False,
    )  # fmt: skip


def hmac_settings(tmp_path, url: str):
    path = tmp_path / "settings.yaml"
    path.write_text(
        "vendors:\n"
        "  punchh:\n"
        f"    target: {url}\n"
        f"    auth: {{type: hmac-sha256, client: acme-pos, secret: {SECRET}}}\n"
    )
    return path


def posted(server, path: str):
    return [r for r, _ in server.log if r.method == "POST" and r.path == path]


def test_send_with_set_and_unset_sends_exactly_that_body_signed_over_its_bytes(
    httpserver, tmp_path
):
    for path in ("/plain", "/overridden"):
        httpserver.expect_request(path, method="GET").respond_with_data("", status=200)
        httpserver.expect_request(path, method="POST").respond_with_data("", status=200)
    settings = hmac_settings(tmp_path, httpserver.url_for("/plain"))
    common = ("--seed", "3", "--at", AT, "--config", str(settings), "--db", str(tmp_path / "o.db"))
    plain = cli("send", "punchh", "coupon-redemption", "--target", httpserver.url_for("/plain"),
                *common)  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    assert plain.stderr == ""  # nothing overridden, nothing to warn about
    report = tmp_path / "report.json"
    result = cli(
        "send", "punchh", "coupon-redemption", "--target", httpserver.url_for("/overridden"),
        "--set", "payload.location_id=42", "--unset", "payload.email",
        "--report", str(report), *common,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [base] = posted(httpserver, "/plain")
    [request] = posted(httpserver, "/overridden")
    expected = json.loads(base.get_data())
    assert expected["payload"]["location_id"] != 42
    assert "email" in expected["payload"]
    expected["payload"]["location_id"] = 42
    del expected["payload"]["email"]
    assert request.get_data() == encode(expected)  # exactly that body, byte for byte
    # The consumer can verify the signature: computed over the overridden bytes.
    signature = hmac.digest(
        SECRET.encode(), b"/overridden" + request.get_data(), hashlib.sha256
    ).hex()
    assert request.headers["Authorization"] == f"hmac {signature}"
    assert request.headers["x-pch-key"] == "acme-pos"
    # The body no longer matches the schema (email is required): named, sent anyway, labelled.
    assert "no longer matches the punchh coupon-redemption schema" in result.stderr
    assert "payload: 'email' is a required property" in result.stderr
    assert "sent anyway, labelled 'overrides'" in result.stderr
    [delivery] = json.loads(report.read_text())["deliveries"]
    assert delivery["label"] == "overrides"
    assert delivery["dedupe_keys"] == [expected["content_id"]]


def test_send_with_a_patch_file_and_a_body_that_loses_its_dedupe_key(httpserver, tmp_path):
    httpserver.expect_request("/hooks", method="GET").respond_with_data("", status=200)
    httpserver.expect_request("/hooks", method="POST").respond_with_data("", status=200)
    patch = tmp_path / "patch.yaml"
    patch.write_text("content_id: null\npayload:\n  status: honored\n  revenue_code: kiosk\n")
    report = tmp_path / "report.json"
    result = cli("send", "punchh", "coupon-redemption", "--target", httpserver.url_for("/hooks"),
                 "--patch", str(patch), "--db", str(tmp_path / "o.db"),
                 "--report", str(report))  # fmt: skip
    assert result.returncode == 0, result.stderr
    [request] = posted(httpserver, "/hooks")
    body = json.loads(request.get_data())
    assert "content_id" not in body
    assert body["payload"]["revenue_code"] == "kiosk"
    assert "(root): 'content_id' is a required property" in result.stderr
    [delivery] = json.loads(report.read_text())["deliveries"]
    assert delivery["dedupe_keys"] == []  # keyless, as the API sends it


def test_sample_prints_the_overridden_body_and_still_valid_ones_print_no_warning():
    args = ("sample", "komo", "CouponIssued", "--seed", "5", "--json")
    plain = cli(*args)
    changed = cli(*args, "--set", "offer_name=Two for one", "--patch", '{"Favourite": "tea"}',
                  "--set", 'Favourite="coffee"')  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    expected = json.loads(plain.stdout)
    expected["offer_name"] = "Two for one"
    expected["Favourite"] = "coffee"  # later options win: they apply in the order given
    assert changed.stdout.encode() == encode(expected) + b"\n"
    assert changed.stderr == ""  # still valid: no warning


def test_sample_names_how_the_body_breaks_its_schema():
    result = cli("sample", "punchh", "coupon-redemption", "--set", "payload.location_id=\"HQ\"",
                 "--unset", "payload.email")  # fmt: skip
    assert result.returncode == 0
    assert json.loads(result.stdout)["payload"]["location_id"] == "HQ"
    assert "printed anyway" in result.stderr
    assert "payload: 'email' is a required property" in result.stderr
    assert "payload.location_id: 'HQ' is not of type 'integer'" in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--unset", "payload.emial"], "--unset payload.emial: payload has no key 'emial' "
                                       "(did you mean 'email'?); its keys: "),
        (["--set", "payload.location_id"], "--set payload.location_id: expected PATH=VALUE"),
        (["--patch", "{not json"], "--patch {not json: not valid JSON"),
        (["--patch", "missing.json"], "--patch missing.json: no such file; expected a JSON object"),
        (["--patch", "[1]"], "--patch [1]: no such file"),
        (["--set", "payload.redeemed_menu_items.first.item_name=x"],
         "payload.redeemed_menu_items is a list; index it with a whole number"),
        (["--set", "payload.code.x=1"], "payload.code is a string"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("command", ["sample", "send"])
def test_bad_overrides_exit_2_naming_the_option_and_what_was_expected(
    command, args, needle, tmp_path
):
    extra = ["--target", "http://127.0.0.1:9/never", "--db", str(tmp_path / "o.db")]
    result = cli(command, "punchh", "coupon-redemption", *args,
                 *(extra if command == "send" else []), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "o.db").exists()  # refused before anything was stored


def test_a_patch_file_that_is_not_an_object_or_not_yaml_is_refused(tmp_path):
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("payload:\n  a: [1, 2\n")
    for path, needle in ((listed, "the patch is list, not an object"),
                         (broken, "broken.yaml:3:1: YAML syntax error")):  # fmt: skip
        result = cli("sample", "punchh", "coupon-redemption", "--patch", str(path))
        assert result.returncode == 2
        assert needle in result.stderr, result.stderr
