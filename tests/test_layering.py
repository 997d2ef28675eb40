"""One dependency direction: schemas ← pipelines ← assets ← tenken (the CLI).

Domain logic must be usable without Dagster: importing every module of ``schemas`` and
``pipelines`` in a fresh interpreter must not import dagster, and the lower layers never
import the upper ones.
"""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["schemas", "pipelines", "assets", "tenken"]


def modules(package: str) -> list[str]:
    return [
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in sorted((ROOT / package).rglob("*.py"))
        if p.name != "__main__.py"
    ]


def test_domain_layers_do_not_import_dagster() -> None:
    mods = modules("schemas") + modules("pipelines")
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in mods)
    code += "bad = sorted(m for m in sys.modules if m == 'dagster' or m.startswith('dagster.'))\nprint(bad)\n"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_imports_point_down_only() -> None:
    violations = []
    for i, layer in enumerate(LAYERS):
        upper = set(LAYERS[i + 1 :])
        for path in (ROOT / layer).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                for name in names:
                    if name.split(".")[0] in upper:
                        violations.append(f"{path.relative_to(ROOT)} imports {name}")
    assert violations == []
