"""The tree shows the architecture (issue 12): small folders, short functions, clean layers.

* No folder of production code (``schemas``, ``pipelines``, ``assets``, ``demo``, ``tenken``
  and their subfolders) holds more than ``MAX_MODULES`` modules (``__init__.py`` aside).
* No production function (methods and nested functions included) is longer than
  ``MAX_FUNCTION_LINES`` lines, from its ``def`` to its last line, except the declared data
  tables in ``LONG_DATA_TABLES``, each with the reason it may stay long. An entry that is no
  longer long (or no longer exists) fails too, so the list never goes stale.
* ``pipelines`` (the domain logic) imports neither dagster nor ``demo``, read from the source
  (tests/test_layering.py also checks what importing it loads).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ("schemas", "pipelines", "assets", "demo", "tenken")
MAX_MODULES = 12
MAX_FUNCTION_LINES = 120

#: "path::qualified name" → why this function may be longer than MAX_FUNCTION_LINES
LONG_DATA_TABLES = {
    "pipelines/matching/causes.py::cause_rules": (
        "the declared table of 推定原因 rules: one Cause(code, Japanese label, priority, "
        "condition) entry per cause, in priority order; splitting it would scatter the table"
    ),
}


def folders() -> dict[str, list[str]]:
    """Each production folder → its modules (``__init__.py`` not counted)."""
    found: dict[str, list[str]] = {}
    for package in PRODUCTION:
        for path in sorted((ROOT / package).rglob("*.py")):
            folder = path.parent.relative_to(ROOT).as_posix()
            found.setdefault(folder, [])
            if path.name != "__init__.py":
                found[folder].append(path.name)
    return found


def functions(path: Path) -> Iterator[tuple[str, int]]:
    """(qualified name, length in lines) of every function in the file, nested ones too."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                yield name, (child.end_lineno or child.lineno) - child.lineno + 1
                yield from walk(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(ast.parse(path.read_text(encoding="utf-8")), "")


def long_functions() -> dict[str, int]:
    return {
        f"{path.relative_to(ROOT).as_posix()}::{name}": length
        for package in PRODUCTION
        for path in sorted((ROOT / package).rglob("*.py"))
        for name, length in functions(path)
        if length > MAX_FUNCTION_LINES
    }


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_folder_holds_more_than_twelve_modules() -> None:
    crowded = {folder: len(mods) for folder, mods in folders().items() if len(mods) > MAX_MODULES}
    assert crowded == {}, f"folders with more than {MAX_MODULES} modules: {crowded}"


def test_no_production_function_is_longer_than_120_lines() -> None:
    too_long = {name: n for name, n in long_functions().items() if name not in LONG_DATA_TABLES}
    assert too_long == {}, f"split these into named steps (or declare a data table): {too_long}"


def test_every_declared_data_table_is_still_long() -> None:
    assert set(LONG_DATA_TABLES) <= set(long_functions()), "remove the stale LONG_DATA_TABLES entries"


def test_pipelines_import_neither_dagster_nor_demo() -> None:
    bad = sorted(
        f"{path.relative_to(ROOT).as_posix()} imports {name}"
        for path in (ROOT / "pipelines").rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in {"dagster", "demo"} or name.startswith("dagster_")
    )
    assert bad == []


def test_the_scanners_see_what_they_must(tmp_path: Path) -> None:
    """The measures themselves work: a nested long function, a method, both import forms."""
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    sample = tmp_path / "sample.py"
    sample.write_text(
        f"import dagster\nfrom demo.generator import generate\n"
        f"class K:\n    def short(self):\n        return 1\n"
        f"def outer():\n    def inner():\n{body.replace('    ', '        ')}\n    return inner\n"
    )
    lengths = dict(functions(sample))
    assert lengths["K.short"] == 2
    assert lengths["outer.inner"] == MAX_FUNCTION_LINES + 1
    assert lengths["outer"] == MAX_FUNCTION_LINES + 3
    assert imported_modules(sample) == {"dagster", "demo.generator"}
