"""住基照会要求: stable 照会番号, the F2 files toward 住基ネット, and their manifest.

F2 (contract): no header, CRLF, Shift-JIS restricted to JIS X 0208:1990 + ASCII, fields
``照会番号,個人番号``, one line per 点検対象 row, split into files of at most N records,
named so that agency, 事務, 点検回 and sequence are visible, with a manifest (file names,
record counts, SHA-256) for the person carrying the files to the terminal.

照会番号 are stable: the first run of a round numbers the 宛名番号 in sorted order from 1;
a re-run of the same round reuses every number already given and numbers new 宛名番号 after
the highest one. The assignment is kept per round (``inquiry_numbers.parquet``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from pipelines.errors import Problem, TenkenInputError
from pipelines.files.jis import in_jis0208_expr
from pipelines.privacy import private_dir, write_private, write_private_parquet
from schemas.codes import Scope
from schemas.inquiry_request import INQUIRY_NO_DIGITS


@dataclass(frozen=True)
class RequestFile:
    name: str
    records: int
    sha256: str
    bytes: int


@dataclass(frozen=True)
class RequestManifest:
    agency: str
    agency_name: str
    jimu: str
    jimu_name: str
    round_id: str
    created_at: str
    total_records: int
    files: tuple[RequestFile, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "団体コード": self.agency,
            "団体名": self.agency_name,
            "事務": self.jimu,
            "事務名": self.jimu_name,
            "点検回": self.round_id,
            "作成日時": self.created_at,
            "件数合計": self.total_records,
            "ファイル": [
                {"ファイル名": f.name, "件数": f.records, "SHA-256": f.sha256, "バイト数": f.bytes}
                for f in self.files
            ],
        }


def assign_inquiry_numbers(atena_numbers: pl.Series, previous: pl.DataFrame | None) -> pl.DataFrame:
    """宛名番号 → 照会番号 for this round, reusing ``previous`` (atena_no, inquiry_no).

    Returns the full registry (previous entries kept, new ones appended).
    """
    prev = (
        previous.select("atena_no", "inquiry_no")
        if previous is not None
        else pl.DataFrame(schema={"atena_no": pl.String, "inquiry_no": pl.String})
    )
    start = int(prev["inquiry_no"].cast(pl.Int64).max() or 0) if prev.height else 0  # type: ignore[arg-type]
    new = (
        pl.DataFrame({"atena_no": atena_numbers})
        .unique()
        .join(prev, on="atena_no", how="anti")
        .sort("atena_no")
        .with_columns(
            (pl.int_range(1, pl.len() + 1, dtype=pl.Int64) + start)
            .cast(pl.String)
            .str.zfill(INQUIRY_NO_DIGITS)
            .alias("inquiry_no")
        )
    )
    registry = pl.concat([prev, new])
    if registry.height >= 10**INQUIRY_NO_DIGITS:
        raise ValueError("照会番号が10桁を超えました")
    return registry


def build_requests(extract_records: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """One request row per 点検対象 record, with its 照会番号 (sorted by 照会番号)."""
    in_scope = extract_records.filter(pl.col("scope") == Scope.IN_SCOPE.value)
    return (
        in_scope.select("round_id", "extract_id", "atena_no", "my_number")
        .join(registry, on="atena_no", how="left")
        .sort("inquiry_no")
    )


def request_file_name(agency: str, jimu: str, round_id: str, seq: int) -> str:
    return f"request_{agency}_{jimu}_{round_id}_{seq:03d}.csv"


def write_request_files(
    requests: pl.DataFrame,
    out_dir: Path,
    *,
    agency: str,
    agency_name: str,
    jimu: str,
    jimu_name: str,
    round_id: str,
    max_records_per_file: int,
    now: datetime,
) -> tuple[pl.DataFrame, RequestManifest]:
    """Write F2 files and the manifest. Returns the requests with ``request_file`` set."""
    fields = ("inquiry_no", "my_number")
    bad = requests.filter(~pl.all_horizontal([in_jis0208_expr(pl.col(f)) for f in fields]))
    if bad.height:
        raise TenkenInputError(
            [
                Problem("NOT_JIS0208", column="照会番号/個人番号", detail=f"照会番号 {n}")
                for n in bad["inquiry_no"]
            ]
        )
    private_dir(out_dir)
    n = requests.height
    chunks = max(1, -(-n // max_records_per_file))
    files: list[RequestFile] = []
    names: list[str] = []
    for seq in range(1, chunks + 1):
        part = requests.slice((seq - 1) * max_records_per_file, max_records_per_file)
        name = request_file_name(agency, jimu, round_id, seq)
        text = part.select(
            (pl.concat_str([pl.col("inquiry_no"), pl.col("my_number")], separator=",") + "\r\n").str.join("")
        ).item()
        body = text.encode("shift_jis")
        write_private(out_dir / name, body)
        files.append(RequestFile(name, part.height, hashlib.sha256(body).hexdigest(), len(body)))
        names.extend([name] * part.height)
    manifest = RequestManifest(
        agency=agency,
        agency_name=agency_name,
        jimu=jimu,
        jimu_name=jimu_name,
        round_id=round_id,
        created_at=now.isoformat(timespec="seconds"),
        total_records=n,
        files=tuple(files),
    )
    write_private(
        out_dir / "manifest.json",
        json.dumps(manifest.to_dict(), ensure_ascii=False, indent=2).encode("utf-8"),
    )
    # for `sha256sum -c SHA256SUMS` (or certutil on the terminal)
    write_private(
        out_dir / "SHA256SUMS",
        "".join(f"{f.sha256}  {f.name}\n" for f in files).encode("ascii"),
    )
    # files of an earlier run of this round that the new set does not replace go last: a crash
    # part-way never leaves the folder empty, and SHA256SUMS tells whether the set is complete
    current = {f.name for f in files}
    for stale in out_dir.glob(f"request_{agency}_{jimu}_{round_id}_*.csv"):
        if stale.name not in current:
            stale.unlink()
    out = requests.with_columns(pl.Series("request_file", names, dtype=pl.String))
    return out, manifest


def save_registry(path: Path, registry: pl.DataFrame) -> None:
    write_private_parquet(path, registry)


def load_registry(path: Path) -> pl.DataFrame | None:
    return pl.read_parquet(path) if path.exists() else None
