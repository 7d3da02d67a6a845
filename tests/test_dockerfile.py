"""The Dockerfile's promises, and its steps run without Docker: wheel, fresh venv, serve, /healthz."""

from __future__ import annotations

import json
import os
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
    assert "COUPON_EMULATOR_URL_FILE" in health  # the URL serve writes: it follows --port
    assert "COUPON_EMULATOR_URL_FILE=" in DOCKERFILE
    assert "8025" not in health
    (cmd,) = _instructions("CMD")
    assert '"--host", "0.0.0.0"' in cmd
    # the scenario library and the examples go into the wheel, which the image installs
    assert any(copy.startswith("scenarios ") for copy in _instructions("COPY"))
    assert any(copy.startswith("examples ") for copy in _instructions("COPY"))
    (install,) = [run for run in _instructions("RUN") if "/tmp/dist/*.whl" in run]
    assert "-c /tmp/dist/constraints.txt /tmp/dist/*.whl " in install  # the core, pinned: no extras


def _health_command(python: Path) -> list[str]:
    """The image's HEALTHCHECK command, run with ``python``."""
    (health,) = _instructions("HEALTHCHECK")
    command = json.loads(health.split(" CMD ", 1)[1])
    assert command[0] == "python"
    return [str(python), *command[1:]]


# The wheel's own code must run, never a source tree that PYTHONPATH points at.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv with the built wheel installed as the Dockerfile installs it: the core only,
    with the pinned versions."""
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    run = {"check": True, "capture_output": True, "text": True, "timeout": 600, "env": CLEAN_ENV}
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "--wheel-dir", str(dist),
         str(ROOT)], **run,
    )  # fmt: skip
    (wheel,) = dist.glob("coupon_emulator-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], **run)
    try:
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "-c", str(ROOT / "constraints.txt"),
             str(wheel)], **run,
        )  # fmt: skip
    except subprocess.CalledProcessError as exc:
        pytest.fail(f"pip install of the wheel failed: {exc.stderr[-2000:]}")
    return venv


def test_the_wheel_installs_into_a_fresh_venv_and_serves(venv, tmp_path):
    python = venv / "bin" / "python"
    for tool in ("pytest", "schemathesis", "hypothesis", "locust", "requests"):
        found = subprocess.run(
            [str(python), "-c", f"import {tool}"], capture_output=True, env=CLEAN_ENV
        )
        assert found.returncode != 0, f"{tool} is installed with the core"

    url_file = tmp_path / "url"
    image = {**CLEAN_ENV, "COUPON_EMULATOR_URL_FILE": str(url_file)}  # as the image's ENV sets it
    served = start(
        tmp_path, "--host", "127.0.0.1",  # no --scenarios: the library shipped in the wheel
        executable=[str(venv / "bin" / "coupon-emulator")],
        env={"COUPON_EMULATOR_URL_FILE": str(url_file), "PYTHONPATH": ""},
    )  # fmt: skip
    try:
        assert served.request("GET", "/healthz")[0] == 200
        status, _, page = served.request("GET", "/")  # templates ship in the wheel
        assert status == 200
        assert b"<h2>Runs</h2>" in page
        shipped = {p.stem for p in (ROOT / "scenarios").glob("*.yaml")}
        assert set(served.json("GET", "/api/scenarios")[1]["items"]) == shipped
        assert served.json("GET", "/asyncapi.json")[1]["asyncapi"] == "3.0.0"
        # the health check finds the port (0 here: the system's choice) in the URL file
        healthy = subprocess.run(_health_command(python), capture_output=True, text=True, env=image)
        assert healthy.returncode == 0, healthy.stderr
    finally:
        stop(served)
    after = subprocess.run(_health_command(python), capture_output=True, env=image)
    assert after.returncode != 0


def test_the_wheel_runs_the_quickstart_and_init_from_an_empty_directory(venv, tmp_path):
    """From an empty folder after pip install of the wheel: the shipped quickstart by name, init."""
    empty = tmp_path / "empty"
    empty.mkdir()
    command = str(venv / "bin" / "coupon-emulator")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [command, *args], capture_output=True, text=True, timeout=300, cwd=empty, env=CLEAN_ENV
        )

    ran = cli("run", "quickstart", "--sink", "--report", "quickstart.json")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    counts = json.loads((empty / "quickstart.json").read_text())["counts"]
    assert counts["delivered"] == 53
    assert counts["failed"] == counts["exhausted"] == counts["pending"] == 0
    listed = cli("scenarios")
    assert listed.returncode == 0, listed.stderr
    assert "quickstart " in listed.stdout
    for name in ("scenario.yaml", "settings.yaml", "coupon-emulator.db"):
        (empty / name).unlink(missing_ok=True)
    (empty / "quickstart.json").unlink()
    made = cli("init")
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in empty.iterdir()) == ["scenario.yaml", "settings.yaml"]
    schema = (empty / "scenario.yaml").read_text().splitlines()[0].rsplit("$schema=file://", 1)[1]
    assert Path(schema).is_file()  # installed with the package
    assert "site-packages" in schema
    checked = cli("validate", "scenario.yaml", "settings.yaml", "quickstart")
    assert checked.returncode == 0, checked.stderr
    exported = cli("export", "asyncapi")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["asyncapi"] == "3.0.0"
