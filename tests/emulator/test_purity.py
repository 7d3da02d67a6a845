"""The pure core does no I/O: it never imports flask, requests or I/O modules, nor reads the clock.

Same seed, same bytes depends on it; the rule is stated once in DESIGN.md and enforced here.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import faker.providers
import faker.providers.date_time
import pytest

import emulator

PACKAGE = Path(emulator.__file__).parent
PURE = ["emulator.catalogue", "emulator.values", "emulator.fakedata", "emulator.vendors"]
PURE += [
    f"emulator.vendors.{p.stem}"
    for p in sorted((PACKAGE / "vendors").glob("*.py"))
    if p.stem != "__init__"
]
# Modules of the pure core that later parts of the project add; checked as soon as they exist.
PURE += [
    m
    for m in ("emulator.lifecycle", "emulator.scenario", "emulator.auth", "emulator.digest")
    if importlib.util.find_spec(m)
]

FORBIDDEN_IMPORTS = {
    "flask",
    "requests",
    "urllib3",
    "http",
    "socket",
    "sqlite3",
    "subprocess",
    "threading",
    "os",
    "time",
    "io",
    "pathlib",
    "shutil",
    "secrets",
    "urllib.request",
}
FORBIDDEN_CALLS = {
    ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
    ("time", "time"), ("uuid", "uuid4"), ("uuid", "uuid1"), ("os", "urandom"),
    ("random", "random"), ("random", "randint"), ("random", "choice"), ("random", "getrandbits"),
    ("random", "seed"), ("random", "shuffle"), ("random", "randrange"),
}  # fmt: skip
# Faker's date and time providers count from today unless given both bounds, so a seeded pool entry
# made on another day differs. Left out: names that are also datetime methods (date, time, year,
# month), and those that read no clock or are called with explicit bounds (fakedata's birthdays).
FAKER_CLOCK_READS = (
    {n for n in dir(faker.providers.date_time.Provider) if not n.startswith("_")}
    - set(dir(faker.providers.BaseProvider))
    - {"date", "time", "year", "month", "timezone", "pytimezone", "century", "time_delta"}
    - {"date_time_ad", "date_between_dates", "date_time_between_dates"}
) | {"credit_card_expire", "credit_card_full", "passport_dob", "passport_dates", "passport_full"}


def test_importing_the_pure_modules_imports_neither_flask_nor_requests():
    code = (
        "import sys\n"
        f"for m in {PURE!r}: __import__(m)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'requests', 'werkzeug', 'urllib3'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _source(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    assert spec is not None
    assert spec.origin is not None
    return Path(spec.origin)


@pytest.mark.parametrize("module", PURE)
def test_pure_module_neither_imports_io_nor_reads_clock_or_global_randomness(module):
    tree = ast.parse(_source(module).read_text(encoding="utf-8"))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            problems += [a.name for a in node.names if a.name.split(".")[0] in FORBIDDEN_IMPORTS]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module in FORBIDDEN_IMPORTS or node.module.split(".")[0] in FORBIDDEN_IMPORTS:
                problems.append(node.module)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "open":
                problems.append("open()")
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and (func.value.id, func.attr) in FORBIDDEN_CALLS
            ):
                problems.append(f"{func.value.id}.{func.attr}()")
            if isinstance(func, ast.Attribute) and func.attr in FAKER_CLOCK_READS:
                problems.append(f"Faker's {func.attr}() (counts from today)")
    assert problems == [], f"{module} does I/O or reads ambient state: {problems}"


def test_the_purity_check_catches_a_clock_read(tmp_path):
    """Guard the guard: the AST walk must flag the very calls it exists to forbid."""
    tree = ast.parse("from datetime import datetime\nx = datetime.now()\n")
    calls = [
        (n.func.value.id, n.func.attr)
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    ]
    assert set(calls) & FORBIDDEN_CALLS


def test_the_purity_check_knows_fakers_date_providers_read_the_clock():
    assert {"date_of_birth", "date_between", "date_this_year", "future_date"} <= FAKER_CLOCK_READS
