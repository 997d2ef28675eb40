"""The inbox: files dropped into ``<home>/data/inbox`` start the right run.

HomeLayout (one folder per agency × 事務 × 点検回)::

    inbox/<団体コード>/<事務スラッグ>/<点検回>/
        extract/<any name>.csv     F1 — phase 1 (住基照会要求) starts when it has settled
        atena/<any name>.csv       F1b, optional, read with the F1 beside it
        result/<any name>.csv      F3, one or more — phase 2 (照合) starts when as many
                                   files as the request had have arrived and settled
        returned/<any name>.xlsx   F5 filled in by staff — imported into the case store
                                   (Excel's lock files ``~$…`` are never read)

A file has *settled* when it has not changed for ``settle_seconds`` (a copy in progress is
never read). Each arrival has a fingerprint (names, sizes, modification times), so the same
files never start two runs, and a corrected file dropped again starts a new one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pipelines.checkdigit import is_valid_agency_code
from schemas.config import ROUND, SLUG

#: seconds a dropped file must stay unchanged before it is read (a copy in progress never is)
SETTLE_SECONDS = 10.0
RETURNED = "returned"


@dataclass(frozen=True)
class Arrival:
    phase: int  # 1: extract arrived, 2: results arrived
    agency: str
    jimu: str
    round_id: str
    files: tuple[Path, ...]
    fingerprint: str

    @property
    def run_key(self) -> str:
        return f"inbox:phase{self.phase}:{self.agency}:{self.jimu}:{self.round_id}:{self.fingerprint}"


@dataclass(frozen=True)
class ReturnedArrival:
    """A workbook staff returned (F5 filled in) for one agency × 事務 × 点検回."""

    agency: str
    jimu: str
    round_id: str
    file: Path
    fingerprint: str

    @property
    def run_key(self) -> str:
        return f"returned:{self.agency}:{self.jimu}:{self.round_id}:{self.file.name}:{self.fingerprint}"


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


def _csvs(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".csv")


def _fingerprint(files: list[Path]) -> str:
    facts = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:16]


def _settled(files: list[Path], now: float, settle_seconds: float) -> bool:
    return all(now - p.stat().st_mtime >= settle_seconds for p in files)


def _round_parts(folder: Path) -> tuple[str, str, str] | None:
    """(agency, jimu, round) of an inbox round folder, or None when a part is malformed."""
    agency, jimu, round_id = folder.parts[-3:]
    if is_valid_agency_code(agency) and SLUG.match(jimu) and ROUND.match(round_id):
        return agency, jimu, round_id
    return None


def expected_result_files(request_dir: Path) -> int | None:
    """How many F2 files the round's manifest lists (None when there is no manifest)."""
    manifest = request_dir / "manifest.json"
    if not manifest.exists():
        return None
    return len(json.loads(manifest.read_text(encoding="utf-8"))["ファイル"])


def scan(
    inbox: Path,
    *,
    now: float,
    settle_seconds: float,
    request_dir_of: object = None,
) -> tuple[list[Arrival], list[Skipped]]:
    """Every complete, settled arrival under ``inbox``, and what was skipped and why.

    ``request_dir_of(agency, jimu, round_id) -> Path`` locates the round's request folder,
    to know how many result files to wait for.
    """
    arrivals: list[Arrival] = []
    skipped: list[Skipped] = []
    if not inbox.is_dir():
        return arrivals, skipped
    for round_dir in sorted(inbox.glob("*/*/*")):
        if not round_dir.is_dir():
            continue
        agency, jimu, round_id = round_dir.parts[-3:]
        if not is_valid_agency_code(agency):
            skipped.append(Skipped(round_dir, f"団体コード {agency} が正しくありません（検査数字）"))
            continue
        if not SLUG.match(jimu) or not ROUND.match(round_id):
            skipped.append(Skipped(round_dir, "事務スラッグまたは点検回の形式が正しくありません"))
            continue
        extract = _csvs(round_dir / "extract")
        atena = _csvs(round_dir / "atena")
        if len(extract) > 1 or len(atena) > 1:
            skipped.append(Skipped(round_dir, "extract/ と atena/ にはファイルを1つずつ置いてください"))
        elif extract and _settled(extract + atena, now, settle_seconds):
            files = extract + atena
            arrivals.append(Arrival(1, agency, jimu, round_id, tuple(files), _fingerprint(files)))
        results = _csvs(round_dir / "result")
        if results and _settled(results, now, settle_seconds):
            expected = None
            if callable(request_dir_of):
                expected = expected_result_files(request_dir_of(agency, jimu, round_id))
            if expected is not None and len(results) < expected:
                skipped.append(Skipped(round_dir, f"結果ファイル待ち（{len(results)}/{expected}）"))
                continue
            arrivals.append(Arrival(2, agency, jimu, round_id, tuple(results), _fingerprint(results)))
    return arrivals, skipped


def scan_returned(inbox: Path, *, now: float, settle_seconds: float) -> list[ReturnedArrival]:
    """Every settled returned workbook under ``inbox``, oldest folder first.

    Each file version has a fingerprint (name, size, modification time), so the same file
    never starts two imports, and the same file saved again starts a new one (which changes
    nothing if its content is the same).
    """
    found: list[ReturnedArrival] = []
    if not inbox.is_dir():
        return found
    for folder in sorted(inbox.glob(f"*/*/*/{RETURNED}")):
        parts = _round_parts(folder.parent)
        if parts is None:
            continue
        for path in sorted(folder.glob("*.xlsx")):
            if path.name.startswith("~$") or not path.is_file():
                continue
            if _settled([path], now, settle_seconds):
                found.append(ReturnedArrival(*parts, path, _fingerprint([path])))
    return found
