"""The hash-locked dependency sets agree with pyproject.toml (issue 15).

requirements/*.lock are written by release/lock.sh (uv pip compile --generate-hashes). Here:
every declared dependency is pinned, each pin satisfies its specifier, every pin carries a
sha256; and (network) every Windows pin has a binary wheel for win_amd64 / CPython 3.11.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def parse_lock(path: Path) -> dict[str, tuple[Version, list[str]]]:
    """name → (pinned version, sha256 hashes) of a `uv pip compile --generate-hashes` file."""
    pins: dict[str, tuple[Version, list[str]]] = {}
    current = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        m = PIN.match(line)
        if m:
            current = canonicalize_name(m.group(1))
            pins[current] = (Version(m.group(2)), [])
        elif line.strip().startswith("--hash=sha256:") and current:
            pins[current][1].append(line.strip().removeprefix("--hash=sha256:").rstrip(" \\"))
    return pins


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


CASES = {
    "linux.lock": ("linux", []),
    "windows.lock": ("win32", []),
    "test-linux.lock": ("linux", ["test", "dev", "release"]),
}


@pytest.mark.parametrize("lock", sorted(CASES))
def test_lock_pins_every_declared_dependency_within_its_specifier(lock: str) -> None:
    platform, extras = CASES[lock]
    pins = parse_lock(LOCKS / lock)
    declared = [Requirement(r) for r in _project()["dependencies"]]
    for extra in extras:
        declared += [Requirement(r) for r in _project()["optional-dependencies"][extra]]
    env = {"sys_platform": platform, "platform_system": "Windows" if platform == "win32" else "Linux"}
    for req in declared:
        if req.marker and not req.marker.evaluate(env):
            continue
        name = canonicalize_name(req.name)
        assert name in pins, f"{lock}: {name} is declared but not pinned — run release/lock.sh"
        assert req.specifier.contains(pins[name][0], prereleases=True), (
            f"{lock}: {name}=={pins[name][0]} does not satisfy {req.specifier} — run release/lock.sh"
        )


@pytest.mark.parametrize("lock", sorted(CASES))
def test_every_pin_carries_a_sha256(lock: str) -> None:
    pins = parse_lock(LOCKS / lock)
    assert len(pins) > 50
    for name, (_, hashes) in pins.items():
        assert hashes, f"{lock}: {name} has no hash"
        assert all(re.fullmatch(r"[0-9a-f]{64}", h) for h in hashes), name


def test_developer_tools_stay_out_of_the_runtime_locks() -> None:
    for lock in ("linux.lock", "windows.lock"):
        pins = parse_lock(LOCKS / lock)
        for tool in ("dagster-dg-cli", "dagster-cloud-cli", "gitpython", "pytest", "ruff", "mypy"):
            assert tool not in pins, f"{lock}: {tool}"


def _index_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
    except OSError:
        return False
    return True


@pytest.mark.slow
def test_windows_lock_downloads_as_binary_wheels_for_win_amd64() -> None:
    """Every Windows pin has a wheel for win_amd64 / CPython 3.11 (about 230 MB the first time;
    kept in ~/.cache/tenken/wheels-win_amd64 so a re-run only checks)."""
    if not _index_reachable():
        pytest.skip("pypi.org is unreachable: cannot check the Windows lock's wheels")
    dest = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tenken" / "wheels-win_amd64"
    dest.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--platform", "win_amd64",
         "--python-version", "3.11", "--implementation", "cp", "--no-deps", "--index-url",
         "https://pypi.org/simple", "-r", str(LOCKS / "windows.lock"), "-d", str(dest)],
        capture_output=True, text=True, check=False, env={**os.environ, "PIP_CONFIG_FILE": os.devnull},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    wheels = {canonicalize_name(p.name.split("-")[0]) for p in dest.glob("*.whl")}
    assert set(parse_lock(LOCKS / "windows.lock")) <= wheels
