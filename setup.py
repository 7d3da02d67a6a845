"""Build step: the wheel carries the scenario library and the examples as package data.

The repository's ``scenarios/`` and ``examples/`` folders stay the one copy that is edited (README,
tests and editors name them there); building a wheel copies them into ``emulator/_shipped/``, where
``emulator.readers.library`` finds them once installed. Everything else is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = {"scenarios": ("*.yaml", "schema.json"), "examples": ("*.yaml",)}


class BuildWithLibrary(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the repository's folders directly
            return
        for folder, patterns in SHIPPED.items():
            target = Path(self.build_lib) / "emulator" / "_shipped" / folder
            target.mkdir(parents=True, exist_ok=True)
            for pattern in patterns:
                for file in sorted((ROOT / folder).glob(pattern)):
                    shutil.copyfile(file, target / file.name)


setup(cmdclass={"build_py": BuildWithLibrary})
