"""Windows in view (issue 15.5): no POSIX-only call on a path a Windows user takes.

No Windows machine is available here, so this is checked on the source: every call whose
meaning differs on Windows must go through ``pipelines/system.py`` (which says what Windows
does instead), or be listed below with the reason it is harmless there. File names tenken
writes are checked against Windows' rules in ``tests/e2e/test_demo_offline.py`` and here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ("schemas", "pipelines", "demo", "assets", "tenken")
#: the one module allowed to make OS-specific calls (each explained in its docstring)
SYSTEM = Path("pipelines/system.py")

#: attribute calls that do not exist or mean something else on Windows
POSIX_ONLY = {
    ("os", "fork"): "no fork on Windows",
    ("os", "kill"): "os.kill(pid, 0) terminates the process on Windows: use system.process_alive",
    ("os", "fchmod"): "missing on Windows before Python 3.13: use system.set_private_mode",
    ("os", "geteuid"): "missing on Windows",
    ("os", "getuid"): "missing on Windows",
    ("os", "getpgid"): "missing on Windows",
    ("os", "killpg"): "missing on Windows",
    ("os", "setsid"): "missing on Windows",
    ("os", "chown"): "missing on Windows",
    ("os", "mkfifo"): "missing on Windows",
    ("signal", "SIGKILL"): "missing on Windows",
    ("signal", "SIGHUP"): "missing on Windows",
    ("signal", "SIGUSR1"): "missing on Windows",
    ("signal", "alarm"): "missing on Windows",
}
POSIX_MODULES = {"fcntl", "pwd", "grp", "resource", "termios", "tty", "pty", "posix"}
#: calls that exist on Windows with a weaker meaning, and why that is acceptable
HARMLESS_ON_WINDOWS = {
    ("os", "chmod"): "only the read-only flag; 0600/0700 keep the owner's write bit, so nothing "
    "becomes read-only; privacy comes from the home's inherited NTFS ACL (README 'Windows')",
    ("os", "umask"): "accepted and ignored for ACLs",
}


def runtime_files() -> list[Path]:
    return sorted(p for top in RUNTIME for p in (ROOT / top).rglob("*.py"))


def posix_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            reason = POSIX_ONLY.get((node.value.id, node.attr))
            if reason:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr}: {reason}")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                if name.split(".")[0] in POSIX_MODULES:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} import {name}: POSIX only")
        elif isinstance(node, ast.Constant) and node.value == "unshare":
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} 'unshare': Linux only")
    return found


def test_the_scan_finds_posix_only_calls(tmp_path: Path) -> None:
    sample = ROOT / "tests" / "_portability_sample.py"
    sample.write_text("import os, fcntl\nos.kill(1, 0)\nos.fchmod(3, 0o600)\n", encoding="utf-8")
    try:
        found = posix_calls(sample)
    finally:
        sample.unlink()
    assert len(found) == 3, found


def test_no_posix_only_call_outside_the_system_module() -> None:
    found = [f for p in runtime_files() if p.relative_to(ROOT) != SYSTEM for f in posix_calls(p)]
    assert found == []


def test_the_system_module_has_a_windows_branch_for_each_posix_call() -> None:
    source = (ROOT / SYSTEM).read_text(encoding="utf-8")
    found = posix_calls(ROOT / SYSTEM)
    assert len(found) == 1 and "os.fchmod" in found[0]  # behind `if not WINDOWS`, checked next
    assert "if not WINDOWS:\n        os.fchmod" in source and "if WINDOWS:\n        return" in source
    assert "psutil.pid_exists" in source


# Windows file names ---------------------------------------------------------------------

RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}
FORBIDDEN = set('<>:"/\\|?*') | {chr(c) for c in range(32)}


def windows_name_problem(name: str) -> str | None:
    """Why Windows refuses ``name`` as a file or folder name, or None."""
    if bad := sorted(set(name) & FORBIDDEN):
        return f"{name!r}: characters {bad}"
    if name.endswith((" ", ".")):
        return f"{name!r}: ends with a space or dot"
    if name.split(".")[0].upper() in RESERVED:
        return f"{name!r}: reserved device name"
    if len(name.encode("utf-16-le")) // 2 > 255:
        return f"{name!r}: longer than 255 characters"
    return None


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("確認作業リスト.xlsx", True),
        ("request_392014_kaigo_hoken_2026_001.csv", True),
        ("392014|kaigo_hoken", False),  # a partition key is never a file name
        ("aux.csv", False),
        ("結果.", False),
        ("a:b", False),
    ],
)
def test_windows_name_rule(name: str, ok: bool) -> None:
    assert (windows_name_problem(name) is None) is ok


def test_the_partition_key_never_names_a_folder() -> None:
    """The key holds '|' (refused by Windows): folders use agency and 事務 apart."""
    from pipelines.home import HomeLayout

    layout = HomeLayout(Path("home"))
    for path in (
        layout.round_dir("392014", "kaigo_hoken", "2026"),
        layout.request_dir("392014", "kaigo_hoken", "2026"),
        layout.result_dir("392014", "kaigo_hoken", "2026"),
        layout.errors_dir("392014", "kaigo_hoken", "2026"),
        layout.evidence_dir("392014", "kaigo_hoken"),
    ):
        assert [p for part in path.parts if (p := windows_name_problem(part))] == []
