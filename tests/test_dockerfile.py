"""The Dockerfile's promises, and its steps run without Docker: wheel, fresh venv, serve, /healthz."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.emulator.web.conftest import start, stop

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _instructions(name: str) -> list[str]:
    text = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in text.splitlines() if line.startswith(name + " ")]


def test_the_image_is_slim_runs_as_a_user_and_checks_its_health():
    assert all(
        re.fullmatch(r"python:3\.\d+-slim( AS \w+)?", base) for base in _instructions("FROM")
    )
    (user,) = _instructions("USER")
    assert user not in ("root", "0")
    (health,) = _instructions("HEALTHCHECK")
    assert "/healthz" in health
    (cmd,) = _instructions("CMD")
    assert '"--host", "0.0.0.0"' in cmd
    assert any(copy.startswith("scenarios ") for copy in _instructions("COPY"))
    assert "COUPON_EMULATOR_SCENARIOS=/app/scenarios" in DOCKERFILE


def test_the_wheel_installs_into_a_fresh_venv_and_serves(tmp_path):
    dist = tmp_path / "dist"
    run = {"check": True, "capture_output": True, "text": True, "timeout": 300}
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "--wheel-dir", str(dist),
         str(ROOT)], **run,
    )  # fmt: skip
    (wheel,) = dist.glob("coupon_emulator-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], **run)
    try:
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], **run)
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"pip install of the wheel failed: {exc.stderr[-2000:]}")

    served = start(
        tmp_path,
        "--host", "127.0.0.1", "--scenarios", str(ROOT / "scenarios"),
        executable=[str(venv / "bin" / "coupon-emulator")],
    )  # fmt: skip
    try:
        assert served.request("GET", "/healthz")[0] == 200
        status, _, page = served.request("GET", "/")  # templates ship in the wheel
        assert status == 200
        assert b"<h2>Runs</h2>" in page
        shipped = {p.stem for p in (ROOT / "scenarios").glob("*.yaml")}
        assert set(served.json("GET", "/api/scenarios")[1]["items"]) == shipped
    finally:
        stop(served)
