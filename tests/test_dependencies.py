"""The dependencies tell the truth (issue 12.8, issue 15.4).

Every third-party module the installed packages import is declared as a runtime dependency,
and every runtime dependency is imported somewhere or listed below with the reason it is
needed without an import. Developer tools never reach the runtime set.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ("schemas", "pipelines", "demo", "assets", "tenken")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

#: runtime dependencies no module imports by name, and why each is needed anyway
NOT_IMPORTED = {
    "dagster-webserver": "`tenken ui` starts it as a program (the auditors' UI)",
    "dagster-postgres": "named in a shared deployment's dagster.yaml (instance storage on PostgreSQL)",
    "psycopg2-binary": "the driver SQLAlchemy loads for postgresql:// URLs (case store, instance)",
    "pyarrow": "polars needs it to hand frames to pandas for Great Expectations",
    "pandas": "pinned below 3 for Great Expectations and dagster-pandera; GX validates pandas frames",
    "matplotlib-fontja": "its IPAexGothic file is read by path (importlib.resources), not imported",
}
#: modules only a deployment option imports, with the extra that declares them and the one
#: module allowed to import them
OPTIONAL = {"dagster_celery": ("shared", "assets/shared_definitions.py")}
#: developer tools that must never be runtime dependencies
DEVELOPER_ONLY = {
    "dagster-dg-cli",
    "pytest",
    "ruff",
    "mypy",
    "hypothesis",
    "selenium",
    "cyclonedx-python-lib",
}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    return canonical(re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0])


def runtime_requirements() -> set[str]:
    return {requirement_name(s) for s in PYPROJECT["project"]["dependencies"]}


def imports_by_file() -> dict[str, set[str]]:
    """Third-party top-level modules each runtime file imports."""
    ours = set(RUNTIME)
    found: dict[str, set[str]] = {}
    for top in RUNTIME:
        for path in (ROOT / top).rglob("*.py"):
            names: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
            found[path.relative_to(ROOT).as_posix()] = {
                m for m in names if m not in ours and m not in sys.stdlib_module_names
            }
    return found


def imported_top_level_modules() -> set[str]:
    """What the runtime imports, but for the deployment options of OPTIONAL."""
    return set().union(*imports_by_file().values()) - set(OPTIONAL)


def test_optional_modules_stay_in_their_module_and_extra() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    for module, (extra, allowed) in OPTIONAL.items():
        importers = sorted(f for f, names in imports_by_file().items() if module in names)
        assert importers == [allowed]
        assert distributions_of(module) & {requirement_name(s) for s in extras[extra]}


def distributions_of(module: str) -> set[str]:
    return {canonical(d) for d in importlib.metadata.packages_distributions().get(module, [])}


def test_every_imported_module_is_declared() -> None:
    declared = runtime_requirements()
    undeclared = {
        m: distributions_of(m) for m in imported_top_level_modules() if not distributions_of(m) & declared
    }
    assert undeclared == {}


def test_every_runtime_dependency_is_imported_or_explained() -> None:
    imported = set().union(*(distributions_of(m) for m in imported_top_level_modules()))
    unexplained = runtime_requirements() - imported - {canonical(n) for n in NOT_IMPORTED}
    assert unexplained == set()
    # and the explanations are not stale
    assert {canonical(n) for n in NOT_IMPORTED} <= runtime_requirements()


def test_developer_tools_are_not_runtime_dependencies() -> None:
    assert runtime_requirements() & {canonical(n) for n in DEVELOPER_ONLY} == set()
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert "dagster-dg-cli" in {requirement_name(s) for s in extras["dev"]}


def test_the_scan_sees_what_the_code_imports() -> None:
    modules = imported_top_level_modules()
    assert {"dagster", "polars", "pandera", "jaconv", "numpy", "upath", "psutil"} <= modules
