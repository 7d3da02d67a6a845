"""Golden bytes: what ``coupon-emulator sample V E --seed 1 --at 2026-01-15T09:30:00Z`` prints.

One file per event type of the catalogue, ``tests/golden/<vendor>/<schema file name>``, holding the
command's output byte for byte. The files are the CLI's own output, never edited by hand: regenerate
them all with ``python -m tests.golden`` (from the repository root) and review the diff.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from emulator.core.vendor import EventType

FOLDER = Path(__file__).parent
ROOT = FOLDER.parent.parent
SEED = 1
AT = "2026-01-15T09:30:00Z"
REGENERATE = "python -m tests.golden"


def argv(et: EventType) -> list[str]:
    """The ``sample`` arguments whose output a golden file pins."""
    return ["sample", et.vendor, et.name, "--seed", str(SEED), "--at", AT]


def path(et: EventType) -> Path:
    """The golden file of ``et``; named like its schema, since fabric's names hold colons."""
    return FOLDER / et.vendor / et.schema_file


def run_cli(
    types: Iterable[EventType], prefix: Sequence[str] = ()
) -> dict[EventType, subprocess.CompletedProcess[bytes]]:
    """Run the real CLI's ``sample`` for each of ``types``, side by side, behind ``prefix``.

    Output is UTF-8 whatever the locale, as the files are.
    """
    started = {
        et: subprocess.Popen(
            [*prefix, sys.executable, "-m", "emulator", *argv(et)],
            cwd=ROOT,
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for et in types
    }
    done = {}
    for et, process in started.items():
        out, err = process.communicate(timeout=120)
        done[et] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return done


def cli_env() -> dict[str, str]:
    """The environment of a CLI process: this one's, with UTF-8 standard streams."""
    return {**os.environ, "PYTHONIOENCODING": "utf-8"}


def regenerate() -> list[Path]:
    """Write every event type's golden file from the real CLI and drop files of no event type."""
    from emulator.core import catalogue

    wanted = {path(et) for et in catalogue.event_types()}
    for et, result in run_cli(catalogue.event_types()).items():
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(argv(et))} failed:\n{result.stderr.decode()}")
        path(et).parent.mkdir(exist_ok=True)
        path(et).write_bytes(result.stdout)
    stale = [p for p in FOLDER.glob("*/*.json") if p not in wanted]
    for p in stale:
        p.unlink()
    return stale
