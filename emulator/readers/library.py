"""The shipped library: the scenarios (and their JSON Schema) and the examples, found by name.

In a source checkout they are the repository's ``scenarios/`` and ``examples/`` folders, the one
copy that is edited; a built wheel carries the same files as package data (``setup.py`` copies them
into ``emulator/_shipped/``), so an installed command finds them wherever it runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import emulator

PACKAGED = Path(emulator.__file__).resolve().parent / "_shipped"  # in a wheel
CHECKOUT = Path(emulator.__file__).resolve().parent.parent  # the repository's root
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
SUFFIXES = (".yaml", ".yml")


class ScenarioNotFound(LookupError):
    """A scenario name with no file behind it; the message lists the names there are."""


def _shipped(folder: str) -> Path:
    packaged = PACKAGED / folder
    return packaged if packaged.is_dir() else CHECKOUT / folder


def scenarios_folder() -> Path:
    """The folder of the shipped scenarios and their ``schema.json``."""
    return _shipped("scenarios")


def examples_folder() -> Path:
    """The folder of the shipped examples (settings, event lists, a starter scenario)."""
    return _shipped("examples")


def is_name(text: str) -> bool:
    """Whether ``text`` reads as a scenario's name rather than a path (no folder, no suffix)."""
    return bool(NAME.match(text)) and not text.endswith((*SUFFIXES, ".json"))


def find(name: str, folder: Path | None = None) -> Path:
    """The file of scenario ``name`` (``<folder>/<name>.yaml``; default the shipped library)."""
    folder = scenarios_folder() if folder is None else folder
    if NAME.match(name):
        for suffix in SUFFIXES:
            path = folder / f"{name}{suffix}"
            if path.is_file():
                return path
    known = ", ".join(names(folder)) or "none"
    raise ScenarioNotFound(f"no scenario {name!r} in {folder}; there are: {known}")


def names(folder: Path | None = None) -> list[str]:
    """The scenario names in ``folder`` (default the shipped library), sorted."""
    folder = scenarios_folder() if folder is None else folder
    if not folder.is_dir():
        return []
    return sorted({p.stem for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file()})


@dataclass(frozen=True)
class Entry:
    """One scenario of a folder: its name, file and one-line description."""

    name: str
    path: Path
    description: str


def entries(folder: Path | None = None) -> list[Entry]:
    """Every scenario of ``folder`` (default the shipped library) with its description."""
    folder = scenarios_folder() if folder is None else folder
    found = [find(name, folder) for name in names(folder)]
    return [Entry(path.stem, path, describe(path.read_text(encoding="utf-8"))) for path in found]


def describe(text: str) -> str:
    """A scenario's one line: its ``description:``, else the first sentence of its opening
    comment (after the editor's ``yaml-language-server`` line)."""
    import yaml

    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("description"), str):
        return " ".join(document["description"].split())
    comment: list[str] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        words = line.lstrip("#").strip()
        if words.startswith("yaml-language-server:"):
            continue
        if not words:
            if comment:
                break
            continue
        comment.append(words)
    return re.split(r"(?<=[^.][.!?])\s+(?=[A-Za-z])", " ".join(comment), maxsplit=1)[0]
