"""Returned workbooks in the inbox: ``<inbox>/<団体>/<事務>/<点検回>/returned/*.xlsx``.

Staff put the F5 they filled in next to the round's other inbox folders (see
``pipelines.ops.inbox``). A file is read only once it has not changed for ``settle_seconds``;
Excel's lock files (``~$…``) are never read. Each file version has a fingerprint (name,
size, modification time), so the same file never starts two imports, and the same file
saved again starts a new one (which changes nothing if its content is the same).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pipelines.checkdigit import is_valid_agency_code
from schemas.config import ROUND, SLUG

RETURNED = "returned"


@dataclass(frozen=True)
class ReturnedArrival:
    agency: str
    jimu: str
    round_id: str
    file: Path
    fingerprint: str

    @property
    def run_key(self) -> str:
        return f"returned:{self.agency}:{self.jimu}:{self.round_id}:{self.file.name}:{self.fingerprint}"


def scan_returned(inbox: Path, *, now: float, settle_seconds: float) -> list[ReturnedArrival]:
    """Every settled returned workbook under ``inbox``, oldest folder first."""
    found: list[ReturnedArrival] = []
    if not inbox.is_dir():
        return found
    for folder in sorted(inbox.glob(f"*/*/*/{RETURNED}")):
        agency, jimu, round_id = folder.parts[-4:-1]
        if not (is_valid_agency_code(agency) and SLUG.match(jimu) and ROUND.match(round_id)):
            continue
        for path in sorted(folder.glob("*.xlsx")):
            if path.name.startswith("~$") or not path.is_file():
                continue
            stat = path.stat()
            if now - stat.st_mtime < settle_seconds:
                continue
            facts = json.dumps([path.name, stat.st_size, stat.st_mtime_ns])
            fingerprint = hashlib.sha256(facts.encode()).hexdigest()[:16]
            found.append(ReturnedArrival(agency, jimu, round_id, path, fingerprint))
    return found
