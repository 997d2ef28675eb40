"""One dependency direction: schemas ← pipelines ← assets ← tenken (the CLI), with demo beside.

Domain logic must be usable without Dagster: importing every module of ``schemas``,
``pipelines`` and ``demo`` in a fresh interpreter must not import dagster. Each layer imports
only the layers below it; the synthetic data and the 住基ネット simulator (``demo``) are used by
the CLI's ``tenken demo``, the tests and the benchmarks, never by the product's pipeline.
"""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: what each top-level package may import from the project
ALLOWED = {
    "schemas": {"schemas"},
    "pipelines": {"schemas", "pipelines"},
    "demo": {"schemas", "pipelines", "demo"},
    "assets": {"schemas", "pipelines", "assets"},
    "tenken": {"schemas", "pipelines", "demo", "assets", "tenken"},
}
DAGSTER_FREE = ("schemas", "pipelines", "demo")


def modules(package: str) -> list[str]:
    return [
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in sorted((ROOT / package).rglob("*.py"))
        if p.name != "__main__.py"
    ]


def project_imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return [n for n in names if n.split(".")[0] in ALLOWED]


def test_domain_layers_do_not_import_dagster() -> None:
    mods = [m for package in DAGSTER_FREE for m in modules(package)]
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in mods)
    code += "bad = sorted(m for m in sys.modules if m == 'dagster' or m.startswith('dagster.'))\nprint(bad)\n"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_imports_point_down_only() -> None:
    violations = [
        f"{path.relative_to(ROOT)} imports {name}"
        for layer, allowed in ALLOWED.items()
        for path in (ROOT / layer).rglob("*.py")
        for name in project_imports(path)
        if name.split(".")[0] not in allowed
    ]
    assert violations == []


def test_the_rule_catches_an_upward_import(tmp_path: Path) -> None:
    """The walker itself sees both import forms (a rule that finds nothing proves nothing)."""
    sample = tmp_path / "sample.py"
    sample.write_text("import demo.generator\nfrom assets.partitions import AGENCY\nfrom . import x\n")
    assert project_imports(sample) == ["demo.generator", "assets.partitions"]
