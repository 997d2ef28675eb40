"""Build the offline bundle an isolated terminal installs tenken from (issue 15).

On a connected machine with Python 3.11 and pip::

    python3.11 release/bundle.py --platform linux     # or: --platform windows
    python3.11 release/bundle.py --platform windows --out /media/usb

It writes ``<out>/tenken-<version>-<platform>/`` and the same as a ``.zip``:

- ``wheels/``: tenken's wheel and a **binary** wheel of every locked dependency for the target
  (``pip download --only-binary=:all:``: a dependency without one for the platform fails the
  build, so a bundle that exists installs without a compiler);
- ``requirements.lock``: the hash-locked set (``requirements/<platform>.lock``);
- ``install.sh`` / ``install.bat``: check ``SHA256SUMS``, make a virtual environment, install
  with no index (``--no-index --require-hashes --no-deps``: nothing is fetched, every wheel
  must match its locked hash), compile bytecode, and say where ``tenken`` is;
- ``SHA256SUMS``: every file of the bundle (``sha256sum -c`` format);
- ``sbom.cdx.json``: a CycloneDX 1.6 SBOM of every component, with version, purl, SHA-256 and
  the licence its wheel declares.

Nothing here runs at tenken's run time; it needs the network (the package index) only while
building. The ``release`` extra (cyclonedx-python-lib) must be installed.
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: pip's --platform tags per target (manylinux: every glibc level up to Debian 12's 2.36)
PLATFORMS: dict[str, list[str]] = {
    "linux": [
        "manylinux_2_28_x86_64",
        "manylinux_2_27_x86_64",
        "manylinux_2_26_x86_64",
        "manylinux_2_24_x86_64",
        "manylinux_2_17_x86_64",
        "manylinux2014_x86_64",
        "manylinux2010_x86_64",
        "manylinux1_x86_64",
    ],
    "windows": ["win_amd64"],
}

INSTALL_SH = """#!/bin/sh
# Install tenken from this folder with no network: ./install.sh [target-venv]
set -eu
cd "$(dirname "$0")"
echo "SHA-256 を確認しています..."
if ! sha256sum -c --quiet SHA256SUMS; then
    echo "SHA256SUMS と一致しないファイルがあります。何もインストールしていません。束を作り直して運び直してください [BUNDLE_CORRUPT]" >&2
    exit 1
fi
PY=${PYTHON:-python3.11}
TARGET=${1:-$PWD/venv}
"$PY" -m venv "$TARGET"
export PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_FIND_LINKS=
"$TARGET/bin/python" -m pip install --quiet --no-index --find-links wheels \\
    --require-hashes --no-deps -r requirements.lock
"$TARGET/bin/python" -m pip install --quiet --no-index --no-deps wheels/tenken-*.whl
"$TARGET/bin/python" -m pip check
echo "tenken をインストールしました: $TARGET/bin/tenken"
"""

# ASCII only: cmd.exe reads a .bat in the console's code page (cp932 on Japanese Windows)
INSTALL_BAT = r"""@echo off
rem Install tenken from this folder with no network: install.bat [target-venv]
setlocal
cd /d "%~dp0"
echo Checking SHA-256 sums...
powershell -NoProfile -ExecutionPolicy Bypass -Command ^
  "$ErrorActionPreference='Stop'; Get-Content SHA256SUMS | ForEach-Object { $h, $f = $_ -split '  ', 2; if ((Get-FileHash -Algorithm SHA256 -LiteralPath $f).Hash.ToLower() -ne $h) { throw ('SHA-256 mismatch: ' + $f) } }"
if errorlevel 1 (
    echo SHA256SUMS mismatch: nothing installed; build and carry the bundle again [BUNDLE_CORRUPT]
    exit /b 1
)
set "PY=py -3.11"
if not "%PYTHON%"=="" set "PY=%PYTHON%"
set "TARGET=%~1"
if "%TARGET%"=="" set "TARGET=%~dp0venv"
%PY% -m venv "%TARGET%" || exit /b 1
set PIP_NO_INDEX=1
set PIP_DISABLE_PIP_VERSION_CHECK=1
"%TARGET%\Scripts\python.exe" -m pip install --quiet --no-index --find-links wheels --require-hashes --no-deps -r requirements.lock || exit /b 1
for %%W in (wheels\tenken-*.whl) do "%TARGET%\Scripts\python.exe" -m pip install --quiet --no-index --no-deps "%%W" || exit /b 1
"%TARGET%\Scripts\python.exe" -m pip check || exit /b 1
echo tenken installed: %TARGET%\Scripts\tenken.exe
"""


@dataclass(frozen=True)
class Wheel:
    path: Path
    name: str
    version: str
    licence: str
    sha256: str


def _pip() -> list[str]:
    """A pip to run: this interpreter's, else python3.11's (uv-made venvs have none)."""
    probe = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True)
    if probe.returncode == 0:
        return [sys.executable, "-m", "pip"]
    fallback = shutil.which("python3.11") or shutil.which("python3")
    if not fallback:
        raise SystemExit("pip が見つかりません（python3.11 -m pip を使えるようにしてください）")
    return [fallback, "-m", "pip"]


def _run(command: list[str]) -> None:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_FIND_LINKS": ""}
    subprocess.run(command, check=True, env=env)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _licence(meta: email.message.Message) -> str:
    """The licence a wheel declares: License-Expression, else License, else its classifiers."""
    if expression := (meta.get("License-Expression") or "").strip():
        return expression
    text = (meta.get("License") or "").strip()
    if text and len(text) <= 80 and "\n" not in text:
        return text
    classifiers = [
        c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")
    ]
    return " OR ".join(classifiers) or ("(see the package's licence file)" if text else "UNKNOWN")


def read_wheel(path: Path) -> Wheel:
    with zipfile.ZipFile(path) as wheel:
        name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        meta = email.parser.Parser().parsestr(wheel.read(name).decode("utf-8", "replace"))
    return Wheel(path, meta["Name"], meta["Version"], _licence(meta), sha256(path))


def write_sbom(wheels: list[Wheel], target: Path, version: str) -> None:
    """CycloneDX 1.6 JSON: every wheel a component (purl, SHA-256, declared licence)."""
    from cyclonedx.contrib.license.factories import LicenseFactory
    from cyclonedx.model import HashAlgorithm, HashType
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output import make_outputter
    from cyclonedx.schema import OutputFormat, SchemaVersion
    from packageurl import PackageURL

    licences = LicenseFactory()
    bom = Bom()
    root = Component(name="tenken", version=version, type=ComponentType.APPLICATION, bom_ref="tenken")
    bom.metadata.component = root
    for wheel in sorted(wheels, key=lambda w: w.name.lower()):
        bom.components.add(
            Component(
                name=wheel.name,
                version=wheel.version,
                type=ComponentType.LIBRARY,
                bom_ref=f"{wheel.name}=={wheel.version}",
                purl=PackageURL(type="pypi", name=wheel.name.lower(), version=wheel.version),
                hashes=[HashType(alg=HashAlgorithm.SHA_256, content=wheel.sha256)],
                licenses=[licences.make_from_string(wheel.licence)],
            )
        )
    bom.register_dependency(root, list(bom.components))
    outputter = make_outputter(bom, OutputFormat.JSON, SchemaVersion.V1_6)
    target.write_text(outputter.output_as_string(indent=2), encoding="utf-8")


def write_sums(folder: Path) -> Path:
    sums = folder / "SHA256SUMS"
    lines = [
        f"{sha256(p)}  {p.relative_to(folder).as_posix()}"
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p != sums
    ]
    sums.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sums


def project_version() -> str:
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def build(platform: str, out: Path, *, make_zip: bool = True) -> Path:
    """Build the bundle for ``platform`` under ``out``; returns its folder."""
    version = project_version()
    folder = out / f"tenken-{version}-{platform}"
    if folder.exists():
        shutil.rmtree(folder)
    wheels = folder / "wheels"
    wheels.mkdir(parents=True)
    lock = ROOT / "requirements" / f"{platform}.lock"
    shutil.copyfile(lock, folder / "requirements.lock")
    pip = _pip()
    _run([*pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(ROOT)])
    tags = [arg for tag in PLATFORMS[platform] for arg in ("--platform", tag)]
    _run(
        [
            *pip, "download", "--quiet", "--only-binary=:all:", *tags, "--python-version", "3.11",
            "--implementation", "cp", "--no-deps", "--require-hashes", "-r", str(lock),
            "--dest", str(wheels),
        ]
    )  # fmt: skip
    (folder / "install.sh").write_text(INSTALL_SH, encoding="utf-8", newline="\n")
    (folder / "install.sh").chmod(0o755)
    (folder / "install.bat").write_text(INSTALL_BAT, encoding="utf-8", newline="\r\n")
    found = [read_wheel(p) for p in sorted(wheels.glob("*.whl"))]
    write_sbom([w for w in found if w.name != "tenken"], folder / "sbom.cdx.json", version)
    write_sums(folder)
    if make_zip:
        archive = shutil.make_archive(str(folder), "zip", root_dir=out, base_dir=folder.name)
        print(f"{archive}: {Path(archive).stat().st_size / 1e6:.0f} MB")
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    print(f"{folder}: {len(found)} wheels, {size / 1e6:.0f} MB")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description="tenken の持ち込み用バンドル（オフライン導入）を作る")
    parser.add_argument("--platform", choices=sorted(PLATFORMS), required=True)
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--no-zip", action="store_true", help="フォルダだけ作る（zip を作らない）")
    args = parser.parse_args()
    build(args.platform, args.out.resolve(), make_zip=not args.no_zip)


if __name__ == "__main__":
    main()
