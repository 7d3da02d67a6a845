"""Vendor facts live in their vendor's package: no module outside ``emulator/vendors/`` names a
vendor slug, except the catalogue, which lists the built-in vendors.

Checked in code (names and string literals), word by word. Docstrings, comments and ``epilog=``
texts are documentation and may use a vendor as an example.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SLUGS = ("komo", "fabric", "rebilly", "punchh")
SLUG = re.compile(rf"\b({'|'.join(SLUGS)})\b")
ALLOWED = ("emulator/core/catalogue.py",)


def slugs_in_code(source: str) -> list[str]:
    """``line: token`` for each name or string literal naming a slug, outside documentation."""
    tree = ast.parse(source)
    documentation: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                documentation.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
        elif isinstance(node, ast.keyword) and node.arg == "epilog":
            end = node.value.end_lineno or node.value.lineno
            documentation.update(range(node.value.lineno, end + 1))
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        code = token.type == tokenize.NAME or (
            token.type == tokenize.STRING and token.start[0] not in documentation
        )
        if code and SLUG.search(token.string):
            found.append(f"{token.start[0]}: {token.string}")
    return found


def modules() -> list[str]:
    found = []
    for package in ("emulator", "contracts"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if not rel.startswith("emulator/vendors/") and rel not in ALLOWED:
                found.append(rel)
    return found


def test_no_module_outside_the_vendor_packages_names_a_vendor_slug():
    offenders = {
        rel: hits
        for rel in modules()
        for hits in [slugs_in_code((ROOT / rel).read_text(encoding="utf-8"))]
        if hits
    }
    assert offenders == {}, "vendor facts outside emulator/vendors/: " + "; ".join(
        f"{rel} ({', '.join(hits)})" for rel, hits in offenders.items()
    )


def test_the_check_sees_code_and_skips_documentation():
    source = (
        '"""Docs may say punchh."""\n'
        "# and so may komo comments\n"
        "def f():\n"
        '    """rebilly in a docstring."""\n'
        "    parser(epilog='Example: --vendor komo')\n"
        "    return {'fabric': 1}, komo.Komo, 'komodo', f'{x}/punchh'\n"
    )
    assert slugs_in_code(source) == ["6: 'fabric'", "6: komo", "6: f'{x}/punchh'"]
    assert all(rel.endswith(".py") for rel in modules())
    assert "emulator/core/lifecycle.py" in modules()
    assert not any(rel.startswith("emulator/vendors/") for rel in modules())
