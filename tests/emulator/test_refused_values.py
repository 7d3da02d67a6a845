"""Values that would break a run are refused where they are written: ``validate`` exits 2 naming
file, line and key path, never with a traceback."""

from __future__ import annotations

import pytest

from emulator.cli import main

TARGET = "vendors:\n  komo:\n    target: http://127.0.0.1:9/hooks\n"
FLOW = "flows:\n  - vendor: komo\n    coupons: 2\n    steps: [CouponIssued]\n"

CASES = {
    "non-latin-1 header": (
        TARGET + '    headers:\n      X-Note: "price \u20ac5"\n',
        "5:15: vendors.komo.headers.X-Note: '\u20ac' cannot be sent",
    ),
    "Content-Length header": (
        TARGET + '    headers: {Content-Length: "5"}\n',
        "vendors.komo.headers.Content-Length: the engine sets Content-Length",
    ),
    "Host header": (TARGET + "    headers: {Host: evil.example}\n", "headers.Host: the engine"),
    "Transfer-Encoding header": (
        TARGET + "    headers: {Transfer-Encoding: chunked}\n",
        "headers.Transfer-Encoding: the engine",
    ),
    "Connection header": (TARGET + "    headers: {Connection: close}\n", "headers.Connection"),
    "bearer auth's own header": (
        TARGET + "    auth: {type: bearer, token: t}\n    headers: {Authorization: x}\n",
        "headers.Authorization: auth type bearer sets Authorization",
    ),
    "far start": (
        "name: late\nstart: 9999-12-31T23:59:59Z\n" + FLOW,
        "2:8: start: 9999-12-31T23:59:59+00:00 is out of range",
    ),
    "huge delay": (
        "name: slow\n" + FLOW.replace("coupons: 2\n", "coupons: 2\n    delay: 1e300\n"),
        "flows[0].delay: 1e+300 s is too long: expected at most 365 days",
    ),
    "tiny rate": (
        "name: slow\n" + FLOW.replace("coupons: 2\n", "coupons: 2\n    rate: 0.000000001/s\n"),
        "flows[0].rate (its mean gap, 1/rate): 1e+09 s is too long",
    ),
    "huge oversized body": (
        "name: big\ninject:\n  oversized: {probability: 1, size: 100GiB}\n" + FLOW,
        "inject.oversized.size: 107374182400 bytes is too large: expected at most 64MiB",
    ),
    "huge retry delay": (
        TARGET + "    retry: {delays: [10, 1.0e+12]}\n",
        "vendors.komo.retry.delays[1]: 1e+12 s is too long",
    ),
    "huge every": (
        "events:\n  - {vendor: komo, event: CouponIssued, count: 2, every: 1.0e+15}\n",
        "events[0].every: 1e+15 s is too long",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_refuses_with_the_key_path(case, tmp_path, capsys):
    text, message = CASES[case]
    path = tmp_path / "file.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:" in err
    assert message in err
    assert "Traceback" not in err


def test_send_refuses_a_far_instant(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["send", "komo", "CouponIssued", "--target", "http://127.0.0.1:9/h",
              "--at", "9999-12-31T23:59:59Z"])  # fmt: skip
    assert exc.value.code == 2
    assert "out of range" in capsys.readouterr().err
