"""No secret of a run shows anywhere: db file, report, API, dashboard, every command's output.

For each auth type, settings with literal secrets (the worst case: nothing kept in ``${VAR}``) and
secret custom headers (one by its name, one listed in ``redact_headers``) are used by ``run``
(with wrong_auth injected), ``send``, ``resume``, ``plan``, ``validate`` and the service; then every
byte they left is searched for each secret, and for the secret reversed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from emulator.core import catalogue
from tests.emulator.web.conftest import start, stop

CASES = [
    ("fabric", {"type": "api-key", "header": "x-api-key", "value": "Sec-ApiKey-7731"}),
    ("komo", {"type": "bearer", "token": "Sec-Bearer-9152"}),
    ("rebilly", {"type": "basic", "username": "u1", "password": "Sec-BasicPw-4410"}),
    ("rebilly", {"type": "digest", "username": "u2", "password": "Sec-DigestPw-2287"}),
    ("punchh", {"type": "hmac-sha1", "client": "c1", "secret": "Sec-Hmac1-6604"}),
    ("punchh", {"type": "hmac-sha256", "client": "c2", "secret": "Sec-Hmac256-3318"}),
]
HEADER_SECRETS = {"X-Api-Token": "Sec-HeaderByName-5521", "X-Env": "Sec-HeaderListed-8874"}


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PUT = do_POST
    do_GET = do_POST

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def consumer():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _cli(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "emulator", *args], capture_output=True, text=True, cwd=cwd,
        timeout=120,
    )  # fmt: skip
    return f"{' '.join(args)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"


def _scenario(vendor: str, event_type: str) -> str:
    return (
        f"flows:\n  - vendor: {vendor}\n    coupons: 6\n    steps: [{event_type}]\n"
        "    inject: {wrong_auth: 0.5}\n"
    )


@pytest.mark.parametrize(("vendor", "auth"), CASES, ids=[a["type"] for _, a in CASES])
def test_no_secret_of_a_run_appears_anywhere(tmp_path, consumer, vendor, auth):
    secrets = [v for k, v in auth.items() if k in ("value", "token", "password", "secret")]
    secrets += list(HEADER_SECRETS.values())
    event_type = catalogue.vendor(vendor).event_types[0].name
    entry = {
        "target": f"{consumer}/hooks/{vendor}",
        "auth": auth,
        "headers": HEADER_SECRETS,
        "redact_headers": ["X-Env"],
        "retry": "none",
    }
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({"vendors": {vendor: entry}, "time_scale": 0.001}))
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(_scenario(vendor, event_type))
    db, report = tmp_path / "cli.db", tmp_path / "report.json"

    seen = [
        _cli("validate", str(scenario), str(config), cwd=tmp_path),
        _cli("plan", str(scenario), cwd=tmp_path),
        _cli(
            "run",
            str(scenario),
            "--config",
            str(config),
            "--db",
            str(db),
            "--report",
            str(report),
            cwd=tmp_path,
        ),
        _cli(
            "send",
            vendor,
            event_type,
            "--target",
            entry["target"],
            "--config",
            str(config),
            "--db",
            str(db),
            cwd=tmp_path,
        ),
        _cli("resume", "--db", str(db), "--config", str(config), cwd=tmp_path),
    ]
    assert "-> 2" not in "".join(s.splitlines()[0] for s in seen), seen
    assert report.exists(), seen

    (tmp_path / "svc").mkdir()
    served = start(tmp_path / "svc", "--config", str(config))
    try:
        status, accepted = served.json(
            "POST", "/api/events", {"vendor": vendor, "event_type": event_type}
        )
        assert status == 202, accepted
        status, run = served.json("POST", "/api/runs", {"yaml": _scenario(vendor, event_type)})
        assert status == 202, run
        for run_id in (accepted["run"]["id"], run["run"]["id"]):
            served.wait_for(f"/api/runs/{run_id}", lambda r: r["state"] != "running")
        pages = [served.request("GET", p)[2] for p in ("/", "/api/runs", "/api/deliveries")]
        _, listed = served.json("GET", "/api/deliveries?limit=200")
        for item in listed["items"]:
            for suffix in ("", "/attempts"):
                pages.append(served.request("GET", f"/api/deliveries/{item['id']}{suffix}")[2])
            pages.append(served.request("GET", f"/?run={item['run_id']}")[2])
        assert len(listed["items"]) >= 7
    finally:
        seen.append(stop(served))
    seen.append(served.log.read_text())

    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*.db*"))
    texts = {"outputs": "\n".join(seen), "report": report.read_text(), "db files": stored,
             "API and dashboard": b"\n".join(pages)}  # fmt: skip
    for secret in secrets:
        for form in (secret, secret[::-1]):
            for where, text in texts.items():
                found = form.encode() in text if isinstance(text, bytes) else form in text
                assert not found, f"{form!r} ({secret!r}) found in the {where}"
