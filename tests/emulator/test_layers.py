"""The layers, checked over the real import graph: each layer imports only from the layers below it,
no library module imports a command module, and the pure core does no I/O (``emulator.core``'s
docstring states the rule).

The graph is recorded by importing every module of the project in a fresh interpreter with
``__import__`` hooked, so what is checked is what Python really loads; imports inside functions,
which run only on use, are read from the syntax tree as well.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import faker.providers
import faker.providers.date_time
import pytest

# Bottom to top. A module may import from its own layer and the layers below, never above.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("core", ("emulator.core", "emulator.vendors")),
    # Renderers of reports (matrix, charts, HTML pages): pure like the core, so the contract suite,
    # the command line and the dashboard can all import them and draw the same thing.
    ("reports", ("emulator.reports",)),
    ("readers", ("emulator.readers", "emulator.readers.schemas")),
    ("delivery", ("emulator.delivery",)),
    ("libraries", ("contracts", "emulator.loadgen")),
    ("service", ("emulator.web",)),
    ("command line", ("emulator.cli",)),
)
CORE = LAYERS[0][1]
# The packages held to the core's purity rules: the core and the report renderers.
PURE = (*CORE, *LAYERS[1][1])
# What the pure core must never load: I/O, servers, clients, processes.
IO_MODULES = (
    "flask", "werkzeug", "requests", "urllib3", "waitress", "locust", "sqlite3", "socket", "ssl",
    "http.client", "http.server", "subprocess", "multiprocessing", "urllib.request", "selectors",
)  # fmt: skip
# Module-level names of I/O modules a core module must not import, even lazily.
IO_IMPORTS = {"os", "io", "time", "pathlib", "shutil", "secrets", "threading", *IO_MODULES}
CLOCK_AND_GLOBAL_RANDOMNESS = {
    ("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
    ("time", "time"), ("uuid", "uuid4"), ("uuid", "uuid1"), ("os", "urandom"),
    ("random", "random"), ("random", "randint"), ("random", "choice"), ("random", "getrandbits"),
    ("random", "seed"), ("random", "shuffle"), ("random", "randrange"), ("random", "sample"),
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


def layer_of(module: str) -> int | None:
    for index, (_, packages) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in packages):
            return index
    return None


def modules(packages: tuple[str, ...]) -> list[str]:
    found = []
    for package in packages:
        spec = importlib.util.find_spec(package)
        assert spec is not None, f"{package} is listed in a layer but does not exist"
        found.append(package)
        for info in pkgutil.walk_packages(spec.submodule_search_locations or [], package + "."):
            found.append(info.name)
    return found


ALL = [m for _, packages in LAYERS for m in modules(packages)]
CORE_MODULES = modules(CORE)
PURE_MODULES = modules(PURE)

_RECORD = """
import builtins, importlib, json, sys
edges = set()
real = builtins.__import__
def hooked(name, globals=None, locals=None, fromlist=(), level=0):
    module = real(name, globals, locals, fromlist, level)
    importer = (globals or {}).get("__name__", "")
    base = importlib.util.resolve_name("." * level + name, (globals or {}).get("__package__") or "") if level else name
    edges.add((importer, base))
    for item in fromlist or ():
        if f"{base}.{item}" in sys.modules:
            edges.add((importer, f"{base}.{item}"))
    return module
builtins.__import__ = hooked
for m in sys.argv[1:]:
    importlib.import_module(m)
builtins.__import__ = real
print(json.dumps({"edges": sorted(edges), "loaded": sorted(sys.modules)}))
"""


def _record(names: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _RECORD, *names], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def graph() -> dict:
    return _record(ALL)


def _violations(edges) -> list[str]:
    found = []
    for importer, imported in edges:
        low, high = layer_of(importer), layer_of(imported)
        if low is not None and high is not None and high > low:
            found.append(f"{importer} ({LAYERS[low][0]}) imports {imported} ({LAYERS[high][0]})")
    return sorted(set(found))


def test_every_layer_exists_and_has_modules():
    for name, packages in LAYERS:
        assert modules(packages), f"layer {name} has no modules"
    assert "emulator.core.catalogue" in CORE_MODULES
    assert any(m.startswith("emulator.vendors.") for m in CORE_MODULES)


def test_no_module_imports_from_a_layer_above_it(graph):
    assert _violations(graph["edges"]) == []


def _lazy_imports(module: str) -> list[tuple[str, str]]:
    spec = importlib.util.find_spec(module)
    assert spec is not None
    assert spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    package = module if spec.submodule_search_locations else module.rpartition(".")[0]
    edges = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            edges += [(module, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            edges.append((module, base))
            edges += [(module, f"{base}.{a.name}") for a in node.names]
    return edges


def test_no_import_inside_a_function_reaches_a_layer_above_either():
    edges = [edge for module in ALL for edge in _lazy_imports(module)]
    assert _violations(edges) == []


def test_no_library_module_imports_a_command_module(graph):
    edges = list(graph["edges"]) + [e for m in ALL for e in _lazy_imports(m)]
    offenders = sorted(
        {
            f"{a} imports {b}"
            for a, b in edges
            if (b == "emulator.cli" or b.startswith("emulator.cli."))
            and not (
                a == "emulator.cli" or a.startswith("emulator.cli.") or a == "emulator.__main__"
            )
            and layer_of(a) is not None
        }
    )
    assert offenders == []


def test_importing_the_pure_core_loads_no_io_module():
    loaded = set(_record(PURE_MODULES)["loaded"])
    bad = sorted(m for m in IO_MODULES if m in loaded)
    assert bad == [], f"importing the pure core loads {bad}"


@pytest.mark.parametrize("module", PURE_MODULES)
def test_core_module_neither_imports_io_nor_reads_clock_or_global_randomness(module):
    problems = [
        b for _, b in _lazy_imports(module) if b.split(".")[0] in IO_IMPORTS or b in IO_IMPORTS
    ]
    spec = importlib.util.find_spec(module)
    assert spec is not None
    assert spec.origin is not None
    for node in ast.walk(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "open":
                problems.append("open()")
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and (func.value.id, func.attr) in CLOCK_AND_GLOBAL_RANDOMNESS
            ):
                problems.append(f"{func.value.id}.{func.attr}()")
            if isinstance(func, ast.Attribute) and func.attr in FAKER_CLOCK_READS:
                problems.append(f"Faker's {func.attr}() (counts from today)")
    assert problems == [], f"{module} does I/O or reads ambient state: {problems}"


def test_the_checks_catch_what_they_exist_to_forbid(tmp_path, monkeypatch):
    """Guard the guards: an upward import, a lazy one, and a clock read are all flagged."""
    assert _violations([("emulator.core.catalogue", "emulator.delivery.outbox")])
    assert not _violations([("emulator.delivery.outbox", "emulator.core.catalogue")])
    package = tmp_path / "layerprobe"
    package.mkdir()
    (package / "__init__.py").write_text(
        "def f():\n    from emulator.web import app\n    return datetime.now()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    edges = _lazy_imports("layerprobe")
    assert ("layerprobe", "emulator.web.app") in edges
    monkeypatch.setattr(
        sys.modules[__name__], "LAYERS", ((*LAYERS[0][:1], ("layerprobe",)), *LAYERS[1:])
    )
    assert _violations(edges)


def test_the_purity_check_knows_fakers_date_providers_read_the_clock():
    assert {"date_of_birth", "date_between", "date_this_year", "future_date"} <= FAKER_CLOCK_READS
