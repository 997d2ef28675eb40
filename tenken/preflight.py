"""Arguments checked before a run starts, so a mistyped path stores nothing and fails nothing.

A refused argument ends the command with exit status 2 and a Japanese message naming the path
and its code (``pipelines.errors.CATALOGUE``). No Dagster run is launched: no partition turns
red for a run that never had anything to do. When the home already holds an instance, the
refusal is recorded there (``record_refusal``) so auditors still see it.

What is checked:

* inputs exist and are files (or, where a folder is allowed, a folder);
* ``--out`` is a folder or can be made one: not an existing file, not inside an input folder
  nor inside the home's data folder, on a writable file system with room to write;
* ``--home`` is a folder (or does not exist yet, for commands that make it; read-only
  commands refuse a home that does not exist), and no symbolic link inside its ``data``
  folder leads outside the home (個人番号 files would be written where the retention purge
  and the 0700 folder do not reach): such a home is refused.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from pipelines.errors import Problem, TenkenInputError
from pipelines.home import HomeLayout


def refuse(code: str, path: Path | str | None = None, detail: str | None = None) -> TenkenInputError:
    return TenkenInputError([Problem(code, file=str(path) if path is not None else None, detail=detail)])


def input_file(path: Path, *, folder_allowed: bool = False) -> None:
    if not path.exists():
        raise refuse("FILE_NOT_FOUND", path)
    if path.is_dir() and not folder_allowed:
        raise refuse("PATH_NOT_A_FILE", path)


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def out_folder(out: Path, *, inputs: tuple[Path, ...] = (), home: Path | None = None) -> None:
    """``out`` can receive the command's files. Nothing is created: only a probe file, removed."""
    out = out.expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise refuse("OUT_IS_A_FILE", out)
    for given in inputs:
        folder = given.resolve() if given.is_dir() else given.resolve().parent
        if given.is_dir() and _inside(out, folder):
            raise refuse("OUT_INSIDE_INPUT", out, f"入力 {given}")
    if home is not None and _inside(out, HomeLayout.of(home).data.resolve()):
        raise refuse("OUT_INSIDE_INPUT", out, "tenken home のデータフォルダ")
    base = _existing_ancestor(out)
    if not base.is_dir():
        raise refuse("OUT_IS_A_FILE", base)
    writable(base, shown=out)


def writable(folder: Path, *, shown: Path | None = None) -> None:
    """Write (and remove) a small probe file in ``folder``: read-only and full file systems refuse."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".tenken-probe-") as probe:
            probe.write(b"\0" * 4096)
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as e:
        raise from_os_error(e, shown or folder) from None


def from_os_error(error: OSError, folder: Path) -> TenkenInputError:
    """A write that failed for a reason the operator can fix, as a coded refusal naming ``folder``."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return refuse("DISK_FULL", folder)
    return refuse("OUT_NOT_WRITABLE", folder, os.strerror(error.errno) if error.errno else None)


def home_folder(home: Path, *, must_exist: bool) -> None:
    if home.exists() and not home.is_dir():
        raise refuse("HOME_NOT_A_FOLDER", home)
    if must_exist and not (home / "dagster.yaml").is_file():
        raise refuse("HOME_MISSING", home)
    if home.is_dir():
        links_inside(home)


def links_inside(home: Path) -> None:
    """No symbolic link under the data folder leads outside it: ``<home>/data`` must stay in the
    home, a configured ``instance.data_root`` (a shared folder) in itself."""
    configured = HomeLayout.of(home).data_root
    home = home.resolve()
    data = configured.resolve() if configured else home / "data"
    boundary = data if configured else home
    if not data.exists():
        return
    if data.is_symlink() and not _inside(data.resolve(), boundary):
        raise refuse("HOME_LINK_OUTSIDE", data, f"→ {data.resolve()}")
    for root, dirs, files in os.walk(data):
        for name in dirs + files:
            path = Path(root) / name
            if path.is_symlink() and not _inside(path.resolve(), boundary):
                raise refuse("HOME_LINK_OUTSIDE", path, f"→ {path.resolve()}")
