"""The offline bundle (issue 15.2–15.3): built on a connected machine, installed with the
network cut off, and ``tenken demo`` run from it.

The Linux bundle is built as the README says (``release/bundle.py``), its SHA-256 sums and
SBOM are checked, then ``install.sh`` runs inside ``unshare -n`` (no interface, not even the
loopback: any download attempt fails) into a fresh virtual environment, and the installed
``tenken demo`` runs offline too. The Windows bundle is built as well: that proves every locked
dependency has a ``win_amd64`` wheel (``pip download --only-binary=:all:``) and that its
install script and SBOM are complete; it cannot be installed here (no Windows machine).

Building needs the package index (pip's cache makes a second build quick); without it the
test is skipped, saying so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.test_demo_offline import offline_prefix

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def index_reachable() -> str:
    try:
        urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=10).close()
    except OSError as e:
        return f"the package index is not reachable to build the bundle: {e}"
    return ""


def build(platform: str, out: Path) -> Path:
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "release" / "bundle.py"),
            "--platform",
            platform,
            "--out",
            str(out),
            "--no-zip",
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    folders = list(out.glob(f"tenken-*-{platform}"))
    assert len(folders) == 1
    return folders[0]


def check_contents(bundle: Path, tag: str) -> None:
    wheels = sorted((bundle / "wheels").glob("*.whl"))
    lock = (bundle / "requirements.lock").read_text(encoding="utf-8")
    pins = [line.split("==")[0] for line in lock.splitlines() if "==" in line and not line.startswith(" ")]
    assert len(wheels) == len(pins) + 1  # every locked package, and tenken
    assert not list((bundle / "wheels").glob("*.tar.gz"))  # binary wheels only
    assert all(w.name.endswith("-none-any.whl") or tag in w.name for w in wheels)
    sbom = json.loads((bundle / "sbom.cdx.json").read_text(encoding="utf-8"))
    assert sbom["bomFormat"] == "CycloneDX" and sbom["specVersion"] == "1.6"
    components = sbom["components"]
    assert len(components) == len(pins)
    for c in components:
        assert c["purl"].startswith("pkg:pypi/") and c["hashes"][0]["alg"] == "SHA-256"
        assert c.get("licenses"), f"{c['name']}: no licence"
    listed = {
        line.split("  ", 1)[1] for line in (bundle / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    }
    on_disk = {
        p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file() and p.name != "SHA256SUMS"
    }
    assert listed == on_disk


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if why := index_reachable():
        pytest.skip(why)
    return tmp_path_factory.mktemp("bundles")


def test_the_windows_bundle_has_a_binary_wheel_for_every_dependency(bundles: Path) -> None:
    bundle = build("windows", bundles)
    check_contents(bundle, "win_amd64")
    bat = (bundle / "install.bat").read_bytes()
    assert b"\r\n" in bat and bat.isascii()  # cmd.exe reads it in the console's code page
    assert b"--no-index" in bat and b"--require-hashes" in bat and b"Get-FileHash" in bat


def test_the_linux_bundle_installs_and_runs_the_demo_with_no_network(
    bundles: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    bundle = build("linux", bundles)
    check_contents(bundle, "x86_64")
    prefix, why_not = offline_prefix()
    if not prefix:
        pytest.skip(f"cannot cut the network off here: {why_not}")
    python = shutil.which("python3.11")
    if python is None:
        pytest.skip("python3.11 is not on PATH (install.sh uses it)")

    # the venv lives outside pytest's temporary folder: the session's leak scan (conftest) reads
    # every CSV there as input numbers, and installed packages ship CSV data tables
    venv = Path(tempfile.mkdtemp(prefix="tenken-bundle-venv-")) / "venv"
    request.addfinalizer(lambda: shutil.rmtree(venv.parent, ignore_errors=True))
    install = subprocess.run(
        [*prefix, "sh", str(bundle / "install.sh"), str(venv)],
        capture_output=True, text=True, timeout=1200, env={"PATH": "/usr/bin:/bin", "PYTHON": python, "HOME": str(tmp_path)},
    )  # fmt: skip
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-3000:]
    assert (venv / "bin" / "tenken").exists()

    home = tmp_path / "home"
    demo = subprocess.run(
        [*prefix, str(venv / "bin" / "tenken"), "demo", "--home", str(home), "--scale", "0.03"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert list(home.rglob("確認作業リスト.xlsx")) and list(home.rglob("照合結果.csv"))


def test_a_tampered_bundle_is_refused_before_anything_is_installed(bundles: Path, tmp_path: Path) -> None:
    source = next(bundles.glob("tenken-*-linux"), None) or build("linux", bundles)
    bundle = tmp_path / "copy"
    shutil.copytree(source, bundle)
    victim = sorted((bundle / "wheels").glob("*.whl"))[0]
    victim.write_bytes(victim.read_bytes() + b"tampered")
    venv = tmp_path / "venv"
    run = subprocess.run(
        ["sh", str(bundle / "install.sh"), str(venv)], capture_output=True, text=True, timeout=600
    )
    assert run.returncode != 0 and victim.name in run.stdout + run.stderr
    assert "[BUNDLE_CORRUPT]" in run.stderr
    assert not venv.exists()
