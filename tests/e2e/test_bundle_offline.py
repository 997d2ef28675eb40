"""The offline bundle installs and runs on a terminal with no network (issue 15.3).

The Linux bundle is built (release/bundle.py; downloads kept in ~/.cache/tenken, so a re-run
is quick), its SHA256SUMS verified, then install.sh runs inside ``unshare -n`` into a fresh
virtual environment, and ``tenken demo`` runs from that environment, still offline, from a
folder outside the checkout (so the installed package is used, not the source tree).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_demo_offline import offline_prefix

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _index_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not _index_reachable():
        pytest.skip("pypi.org is unreachable: the bundle cannot be built here")
    pytest.importorskip("cyclonedx", reason="the release extra (cyclonedx-python-lib) is not installed")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, str(ROOT / "release" / "bundle.py"), "--platform", "linux", "--out", str(out)],
        check=True, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    return out / next(p.name for p in out.iterdir() if p.is_dir())


def test_bundle_holds_wheels_lock_scripts_sbom_and_sums(bundle: Path) -> None:
    names = {p.name for p in bundle.iterdir()}
    assert {
        "wheels",
        "requirements.lock",
        "install.sh",
        "install.bat",
        "sbom.cdx.json",
        "SHA256SUMS",
    } <= names
    wheels = sorted((bundle / "wheels").iterdir())
    assert wheels and all(w.suffix == ".whl" for w in wheels)  # binary only: no sdist
    assert any(w.name.startswith("tenken-") for w in wheels)
    assert b"\r\n" in (bundle / "install.bat").read_bytes()
    check = subprocess.run(
        ["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=bundle, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_sbom_lists_every_wheel_with_version_purl_hash_and_licence(bundle: Path) -> None:
    sbom = json.loads((bundle / "sbom.cdx.json").read_text(encoding="utf-8"))
    assert sbom["bomFormat"] == "CycloneDX" and sbom["specVersion"] == "1.6"
    components = sbom["components"]
    assert len(components) == len(list((bundle / "wheels").glob("*.whl"))) - 1  # tenken is the subject
    for c in components:
        assert c["version"] and c["purl"].startswith("pkg:pypi/") and c["hashes"][0]["alg"] == "SHA-256"
    with_licence = [c for c in components if c.get("licenses")]
    assert len(with_licence) >= 0.95 * len(components)


def test_tampered_bundle_is_refused(bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    (copy / "requirements.lock").write_text("tampered\n", encoding="utf-8")
    run = subprocess.run(
        ["sh", "install.sh", str(tmp_path / "venv")], cwd=copy, capture_output=True, text=True
    )
    assert run.returncode != 0 and "[BUNDLE_CORRUPT]" in run.stderr
    assert not (tmp_path / "venv").exists()


def test_installs_and_runs_the_demo_with_no_network(bundle: Path, tmp_path: Path) -> None:
    prefix, why_not = offline_prefix()
    if not prefix:
        pytest.skip(f"cannot disable networking for a subprocess: {why_not}")
    venv = tmp_path / "venv"
    env = {**os.environ, "PYTHON": sys._base_executable, "DAGSTER_DISABLE_TELEMETRY": "yes"}
    env.pop("VIRTUAL_ENV", None)
    install = subprocess.run(
        [*prefix, "sh", str(bundle / "install.sh"), str(venv)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    assert "[INSTALLED]" in install.stdout
    home = tmp_path / "home"
    demo = subprocess.run(
        [*prefix, str(venv / "bin" / "tenken"), "demo", "--home", str(home), "--scale", "0.03"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-3000:]
    assert any((home / "data").rglob("*.parquet"))
    assert any(home.rglob("確認作業リスト.xlsx"))
    assert any(home.rglob("照合結果.csv"))
