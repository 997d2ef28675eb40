"""The declared runtime dependencies tell the truth (issue 12 item 8, issue 15).

Every third-party module the runtime packages import is provided by a declared runtime
dependency, and every declared runtime dependency is imported somewhere, or is in the
allow-list below with the reason it is needed without being imported.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_PACKAGES = ("schemas", "pipelines", "demo", "assets", "tenken")

# Declared, needed at run time, never imported by name.
NOT_IMPORTED = {
    "dagster-webserver": "`tenken ui` starts it as a program (dagster-webserver), not a module",
    "dagster-postgres": "named in dagster.yaml / the instance config; dagster imports it",
    "psycopg2-binary": "the SQLAlchemy driver behind postgresql:// URLs",
    "pyarrow": "polars' to_pandas() for Great Expectations needs it",
    "matplotlib-fontja": "ships IPAexGothic; pipelines/reporting/files.py reads its font file via importlib.resources",
    "pandas": "pinned <3 for dagster-pandera / GX; polars converts to it",
}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {_name(r) for r in project["dependencies"]}


def _imports() -> dict[str, str]:
    """Top-level module → first file importing it, over the runtime packages."""
    found: dict[str, str] = {}
    for package in RUNTIME_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def _third_party(imports: dict[str, str]) -> dict[str, str]:
    local = set(RUNTIME_PACKAGES) | set(sys.stdlib_module_names) | {"__future__"}
    return {m: f for m, f in imports.items() if m not in local}


def _distributions(module: str) -> set[str]:
    return {d.lower().replace("_", "-") for d in md.packages_distributions().get(module, [])}


def test_every_third_party_import_is_a_declared_runtime_dependency() -> None:
    declared = _declared()
    missing = {
        module: (where, sorted(_distributions(module)))
        for module, where in _third_party(_imports()).items()
        if not _distributions(module) & declared
    }
    assert not missing, f"imported but not declared in [project].dependencies: {missing}"


def test_every_declared_runtime_dependency_is_imported_or_explained() -> None:
    imported: set[str] = set()
    for module in _third_party(_imports()):
        imported |= _distributions(module)
    unused = _declared() - imported - set(NOT_IMPORTED)
    assert not unused, f"declared but never imported (import it, drop it or explain it): {sorted(unused)}"


def test_allow_list_names_only_declared_packages_that_are_not_imported() -> None:
    imported: set[str] = set()
    for module in _third_party(_imports()):
        imported |= _distributions(module)
    assert set(NOT_IMPORTED) <= _declared()
    assert not set(NOT_IMPORTED) & imported, "imported now: take it off NOT_IMPORTED"


def test_developer_tools_are_not_runtime_dependencies() -> None:
    declared = _declared()
    for tool in ("dagster-dg-cli", "ruff", "mypy", "pytest", "hypothesis", "jaconv", "selenium"):
        assert tool not in declared, tool
