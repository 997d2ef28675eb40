"""The hash-locked dependency sets agree with pyproject.toml (issue 15.1).

``release/lock.sh`` writes them; the README's install command and CI install from them. A
dependency added to pyproject.toml without re-locking, a version the lock pins outside its
declared range, or a line without a hash fails here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
LOCKS = {
    "linux.lock": (),
    "windows.lock": (),
    "test-linux.lock": ("test",),
}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> tuple[dict[str, Version], dict[str, int]]:
    """Pinned versions, and how many hashes each pin carries."""
    pins: dict[str, Version] = {}
    hashes: dict[str, int] = {}
    current = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if m := PIN.match(line):
            current = canonical(m.group(1))
            pins[current] = Version(m.group(2))
            hashes[current] = 0
        elif line.strip().startswith("--hash=sha256:") and current:
            hashes[current] += 1
    return pins, hashes


def declared(extras: tuple[str, ...]) -> list[Requirement]:
    specs = list(PYPROJECT["project"]["dependencies"])
    for extra in extras:
        specs += PYPROJECT["project"]["optional-dependencies"][extra]
    return [Requirement(s) for s in specs if not s.startswith("tenken")]


@pytest.mark.parametrize(("lock", "extras"), LOCKS.items())
def test_every_declared_dependency_is_pinned_within_its_range(lock: str, extras: tuple[str, ...]) -> None:
    pins, _ = read_lock(ROOT / "requirements" / lock)
    problems = []
    for req in declared(extras):
        name = canonical(req.name)
        if name not in pins:
            problems.append(f"{req.name}: not in {lock} (run release/lock.sh)")
        elif not req.specifier.contains(pins[name], prereleases=True):
            problems.append(f"{req.name}: {lock} pins {pins[name]}, pyproject asks {req.specifier}")
    assert problems == []


@pytest.mark.parametrize("lock", LOCKS)
def test_every_pin_carries_a_hash(lock: str) -> None:
    pins, hashes = read_lock(ROOT / "requirements" / lock)
    assert len(pins) > 50
    assert [name for name, n in hashes.items() if n == 0] == []


def test_the_runtime_locks_hold_no_developer_tool() -> None:
    for lock in ("linux.lock", "windows.lock"):
        pins, _ = read_lock(ROOT / "requirements" / lock)
        assert {"dagster-dg-cli", "pytest", "ruff", "mypy", "gitpython", "dagster-cloud-cli"} & set(
            pins
        ) == set()


def test_the_linux_and_windows_locks_agree_on_shared_packages() -> None:
    linux, _ = read_lock(ROOT / "requirements" / "linux.lock")
    windows, _ = read_lock(ROOT / "requirements" / "windows.lock")
    differ = {n: (linux[n], windows[n]) for n in set(linux) & set(windows) if linux[n] != windows[n]}
    assert differ == {}
    # only platform-specific packages differ (e.g. uvloop on Linux, colorama/pywin32 on Windows)
    assert len(set(linux) ^ set(windows)) < 10


def test_the_readme_and_ci_install_from_the_locks() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "-r requirements/linux.lock" in readme and "-r requirements/test-linux.lock" in readme
    assert "requirements/test-linux.lock" in ci
