"""Build the offline bundle for an isolated terminal (issue 15).

    python3.11 release/bundle.py --platform linux|windows [--out dist/]

On a connected machine this writes ``dist/tenken-<version>-<platform>/`` and a ``.zip`` of it:

    wheels/            tenken's wheel and one binary wheel per pin of the lock (no sdist:
                       a dependency without a wheel for the platform makes the build fail)
    requirements.lock  the hash-locked set (requirements/<platform>.lock)
    install.sh / install.bat   offline install: verify SHA256SUMS, make a venv,
                       pip --no-index --require-hashes, then tenken's wheel --no-deps
    sbom.cdx.json      CycloneDX 1.6: every component with version, purl, sha256 and licence
                       (from each wheel's METADATA)
    SHA256SUMS         of every file above

Downloads are kept in ``~/.cache/tenken/wheels-<tag>`` (``--cache``), so a rebuild is quick.
Needs the ``release`` extra (cyclonedx-python-lib).
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLATFORMS = {
    # every manylinux tag a glibc 2.28 machine (RHEL 8, Debian 10 and newer) accepts; pip does not
    # expand a --platform tag to the older ones itself
    "linux": {
        "lock": "linux.lock",
        "tags": [f"manylinux_2_{m}_x86_64" for m in range(28, 4, -1)]
        + ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"],
        "cache": "manylinux_x86_64",
    },
    "windows": {"lock": "windows.lock", "tags": ["win_amd64"], "cache": "win_amd64"},
}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lock: Path) -> dict[str, str]:
    return {
        _canon(m.group(1)): m.group(2)
        for m in (PIN.match(line) for line in lock.read_text(encoding="utf-8").splitlines())
        if m
    }


def _pip(*args: str) -> None:
    # the machine's own pip configuration (constraints, local indexes) must not change the set
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    subprocess.run([sys.executable, "-m", "pip", *args], check=True, env=env)


def download_wheels(platform: str, lock: Path, cache: Path) -> list[Path]:
    """One wheel per pin, for the platform, CPython 3.11, binary only (kept in cache)."""
    cache.mkdir(parents=True, exist_ok=True)
    tags = [a for t in PLATFORMS[platform]["tags"] for a in ("--platform", t)]
    _pip("download", "--quiet", "--only-binary=:all:", *tags, "--python-version", "3.11",
         "--implementation", "cp", "--no-deps", "--index-url", "https://pypi.org/simple",
         "-r", str(lock), "-d", str(cache))  # fmt: skip
    pins = _pins(lock)
    chosen = [
        w for w in sorted(cache.glob("*.whl"))
        if pins.get(_canon(w.name.split("-")[0])) == w.name.split("-")[1]
    ]  # fmt: skip
    missing = set(pins) - {_canon(w.name.split("-")[0]) for w in chosen}
    if missing:
        raise SystemExit(f"no wheel for: {sorted(missing)}")
    return chosen


def _licence(meta: email.message.Message) -> str | None:
    expression = meta.get("License-Expression")
    if expression:
        return expression.strip()
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 80 and text.upper() != "UNKNOWN":
        return text
    classifiers = [
        c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")
    ]
    classifiers = [c for c in classifiers if c != "OSI Approved"]
    return ", ".join(classifiers) or (text.splitlines()[0][:80] if text else None)


def _metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        return email.parser.Parser().parsestr(z.read(name).decode("utf-8", "replace"), headersonly=True)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_sbom(wheels: list[Path], version: str, out: Path) -> int:
    """CycloneDX 1.6 JSON: tenken as the application, every wheel a library component."""
    from cyclonedx.contrib.license.factories import LicenseFactory
    from cyclonedx.model import HashAlgorithm, HashType
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL

    licences = LicenseFactory()
    bom = Bom()
    bom.metadata.component = Component(
        name="tenken", version=version, type=ComponentType.APPLICATION,
        purl=PackageURL("pypi", "tenken", version), bom_ref="tenken",
    )  # fmt: skip
    for wheel in wheels:
        meta = _metadata(wheel)
        name, ver = meta["Name"], meta["Version"]
        if _canon(name) == "tenken":
            continue
        lic = _licence(meta)
        bom.components.add(
            Component(
                name=name, version=ver, type=ComponentType.LIBRARY, bom_ref=f"{_canon(name)}=={ver}",
                purl=PackageURL("pypi", _canon(name), ver, qualifiers={"file_name": wheel.name}),
                hashes=[HashType(alg=HashAlgorithm.SHA_256, content=sha256(wheel))],
                licenses=[licences.make_from_string(lic)] if lic else [],
            )
        )  # fmt: skip
    bom.register_dependency(bom.metadata.component, list(bom.components))  # all locked: a flat graph
    out.write_text(JsonV1Dot6(bom).output_as_string(indent=2), encoding="utf-8")
    return len(bom.components)


def write_sums(folder: Path) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "SHA256SUMS")
    lines = [f"{sha256(p)}  {p.relative_to(folder).as_posix()}\n" for p in files]
    (folder / "SHA256SUMS").write_bytes("".join(lines).encode("ascii"))


def build(platform: str, out: Path, cache: Path) -> Path:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    lock = ROOT / "requirements" / PLATFORMS[platform]["lock"]
    folder = out / f"tenken-{version}-{platform}"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "wheels").mkdir(parents=True)
    index = ("--index-url", "https://pypi.org/simple")
    _pip("wheel", "--quiet", "--no-deps", *index, "-w", str(folder / "wheels"), str(ROOT))
    for wheel in download_wheels(platform, lock, cache):
        shutil.copy2(wheel, folder / "wheels" / wheel.name)
    shutil.copy2(lock, folder / "requirements.lock")
    shutil.copy2(ROOT / "release" / "install.sh", folder / "install.sh")
    (folder / "install.sh").chmod(0o755)
    bat = (ROOT / "release" / "install.bat").read_text(encoding="utf-8")
    (folder / "install.bat").write_bytes(bat.replace("\r\n", "\n").replace("\n", "\r\n").encode("ascii"))
    n = write_sbom(sorted((folder / "wheels").glob("*.whl")), version, folder / "sbom.cdx.json")
    write_sums(folder)
    archive = shutil.make_archive(str(folder), "zip", root_dir=out, base_dir=folder.name)
    size = sum(p.stat().st_size for p in (folder / "wheels").glob("*.whl"))
    print(f"{folder}: {n} dependency wheels + tenken, {size / 1e6:.0f} MB; {archive}")  # noqa: T201
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--platform", choices=sorted(PLATFORMS), required=True)
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--cache", type=Path, default=None, help="where downloaded wheels are kept")
    args = parser.parse_args(argv)
    cache_root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tenken"
    cache = args.cache or cache_root / f"wheels-{PLATFORMS[args.platform]['cache']}"
    build(args.platform, args.out.resolve(), cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
