"""``coupon-emulator serve`` as a process: fast start, clean stop on signals, clear bad-input errors."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys

import pytest

from emulator.delivery.outbox import Outbox
from tests.emulator.web.conftest import start, stop


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz_answers_after_start(tmp_path):
    """How soon is benchmarks/startup.py's figure; here, that it answers at all."""
    served = start(tmp_path)
    try:
        assert served.request("GET", "/healthz")[0] == 200
    finally:
        served.process.send_signal(signal.SIGTERM)
        served.process.communicate(timeout=30)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_leaves_unfinished_deliveries_pending_for_resume(serve, tmp_path, signum):
    service = serve()
    target = f"http://127.0.0.1:{_closed_port()}/hooks/komo"
    _, accepted = service.json(
        "POST", "/api/events",
        {"vendor": "komo", "event_type": "CouponIssued", "target": target, "time_scale": 0.1},
        token=False,
    )  # fmt: skip
    path = f"/api/deliveries/{accepted['delivery']['id']}"
    service.wait_for(path, lambda d: d["attempt_count"] >= 1)  # refused; retries 1 s, 6 s, 30 s

    service.process.send_signal(signum)
    out, _ = service.process.communicate(timeout=20)
    assert service.process.returncode == 0, service.log.read_text()
    assert "Traceback" not in service.log.read_text()
    assert "stopped" in out
    run_id = accepted["run"]["id"]
    with Outbox(service.db) as outbox:
        assert outbox.counts(run_id)["pending"] == 1
        assert outbox.run(run_id)["state"] == "interrupted"
        assert outbox.unfinished_runs() == [run_id]

    # What was left is finished by resume, from the same outbox (here: still refused, exhausted).
    resumed = subprocess.run(
        [sys.executable, "-m", "emulator", "resume", "--db", str(service.db), "--time-scale", "0.0001",
         "--quiet"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert resumed.returncode == 1, resumed.stderr
    with Outbox(service.db) as outbox:
        assert outbox.counts(run_id)["exhausted"] == 1


def _serve(tmp_path, *args):
    return subprocess.run(
        [sys.executable, "-m", "emulator", "serve", *args],
        capture_output=True, text=True, timeout=30, cwd=tmp_path,
    )  # fmt: skip


def test_a_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = _serve(tmp_path, "--port", str(busy.getsockname()[1]))
    assert result.returncode == 2
    assert "cannot listen on 127.0.0.1:" in result.stderr
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_scenarios_folder_that_does_not_exist_is_refused_at_start(tmp_path):
    missing = tmp_path / "missing"
    result = _serve(tmp_path, "--port", "0", "--scenarios", str(missing))
    assert result.returncode == 2
    assert f"--scenarios {missing}: no such folder" in result.stderr
    assert "serving on" not in result.stdout
    assert "Traceback" not in result.stderr


def test_the_url_file_names_where_the_service_answers_until_it_stops(tmp_path):
    url_file = tmp_path / "url"
    served = start(tmp_path, env={"COUPON_EMULATOR_URL_FILE": str(url_file)})
    try:
        assert url_file.read_text().strip() == served.url
    finally:
        stop(served)
    assert not url_file.exists()


def test_a_broken_settings_file_is_a_clear_error_naming_its_line(tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_text("vendors:\n  komo:\n    target: ftp://nowhere\n")
    result = _serve(tmp_path, "--port", "0", "--config", str(settings))
    assert result.returncode == 2
    assert f"{settings}:3:" in result.stderr
    assert "vendors.komo.target" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_outbox_that_cannot_be_opened_is_a_clear_error(tmp_path):
    result = _serve(tmp_path, "--port", "0", "--db", str(tmp_path))
    assert result.returncode == 2
    assert "cannot open the outbox database" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_service_settings_file_sets_targets_and_auth(serve, tmp_path, httpserver):
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        "vendors:\n"
        "  fabric:\n"
        f"    target: {httpserver.url_for('/hooks/fabric')}\n"
        "    auth: {type: api-key, value: '${FABRIC_KEY}'}\n"
    )
    httpserver.expect_request(
        "/hooks/fabric", headers={"x-api-key": "k3y-from-env"}
    ).respond_with_data("")
    service = serve("--config", str(settings), env={"FABRIC_KEY": "k3y-from-env"})
    _, accepted = service.json(
        "POST", "/api/events", {"vendor": "fabric", "event_type": "offers:coupon:enabled"},
        token=False,
    )  # fmt: skip
    done = service.wait_for(
        f"/api/deliveries/{accepted['delivery']['id']}", lambda d: d["status"] != "pending"
    )
    assert done["status"] == "delivered", done
    (request, _), *_ = httpserver.log
    assert json.loads(request.get_data())["type"] == "offers:coupon:enabled"
    # Vendors the file does not configure still go to the built-in sink.
    _, other = service.json(
        "POST", "/api/events", {"vendor": "komo", "event_type": "CouponIssued"}, token=False
    )
    assert other["run"]["targets"]["komo"] == f"{service.url}/sink/komo"


def test_a_bad_links_base_is_refused_at_start(tmp_path):
    result = _serve(tmp_path, "--port", "0", "--links-base", "ftp://emulator")
    assert result.returncode == 2
    assert "--links-base" in result.stderr
    assert "http://" in result.stderr
    assert "Traceback" not in result.stderr
