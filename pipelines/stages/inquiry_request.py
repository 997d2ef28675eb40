"""住基照会要求: stable 照会番号, the F2 files toward 住基ネット, and their manifest.

F2 (contract): no header, CRLF, Shift-JIS restricted to JIS X 0208:1990 + ASCII, fields
``照会番号,個人番号``, one line per 点検対象 row, split into files of at most N records,
named so that agency, 事務, 点検回 and sequence are visible, with a manifest (file names,
record counts, SHA-256) for the person carrying the files to the terminal.

照会番号 are stable: the first run of a round numbers the 宛名番号 in sorted order from 1;
a re-run of the same round reuses every number already given and numbers new 宛名番号 after
the highest one. The assignment is kept per round (``inquiry_numbers.parquet``).

**Rounds are told apart by the 照会番号.** Its first 3 digits are the round's *tag*, the
other 7 a sequence within the round (``schemas.inquiry_request``), so results brought back
for another round's requests (last year's F3 given for this year: the same people in the
same sorted order) never match this round's numbers and are refused naming both rounds
(``pipelines.stages.inquiry_result``). The tag of a round:

* a year round ``2026`` (the default, the 年度) takes its last 3 digits: ``026``;
* any other round id (``2026-05`` for a monthly plan, ``2026b``) takes a number 001–999
  from the SHA-256 of its id, so the same id gets the same tag on any machine;
* if another round of the same agency × 事務 already holds that tag, the next free one
  (after 999 comes 001); 000 is never given. A round keeps the tag of its first run: the
  registry records it, so re-running a round never renumbers it;
* registries written before tags existed (``000`` + the sequence, numbered from
  0000000001) keep their numbers, as the contract's stability requires: such a round is
  tag ``000``. Two rounds both made before tags cannot be told apart by their numbers;
  every round made since can be told from them and from each other.

A sequence holds 9,999,999 numbers a round (the largest municipality has under 4 million
residents); an agency × 事務 can have 999 tagged rounds (83 years of monthly rounds).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import polars as pl

from pipelines.errors import Problem, TenkenInputError
from pipelines.files.jis import in_jis0208_expr
from pipelines.privacy import private_dir, private_file, write_private
from schemas.codes import Scope
from schemas.inquiry_request import LEGACY_TAG, ROUND_TAG_DIGITS, SEQUENCE_DIGITS

#: tags 001–999 (000 is the legacy numbering)
_TAGS = 10**ROUND_TAG_DIGITS - 1
#: parquet metadata of a registry: the round it numbers and that round's tag
_ROUND_KEY, _TAG_KEY = "tenken.round_id", "tenken.round_tag"


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
    round_tag: str = ""  # the first 3 digits of every 照会番号 of the round

    def to_dict(self) -> dict[str, object]:
        return {
            "団体コード": self.agency,
            "団体名": self.agency_name,
            "事務": self.jimu,
            "事務名": self.jimu_name,
            "点検回": self.round_id,
            "作成日時": self.created_at,
            "件数合計": self.total_records,
            "照会番号の先頭3桁（点検回の記号）": self.round_tag,
            "ファイル": [
                {"ファイル名": f.name, "件数": f.records, "SHA-256": f.sha256, "バイト数": f.bytes}
                for f in self.files
            ],
        }


def preferred_round_tag(round_id: str) -> str:
    """The tag a round takes when no other round of its agency × 事務 holds it (module doc)."""
    if re.fullmatch(r"2[0-9]{3}", round_id) and int(round_id) % 10**ROUND_TAG_DIGITS:
        return round_id[-ROUND_TAG_DIGITS:]
    digest = int.from_bytes(hashlib.sha256(round_id.encode("utf-8")).digest()[:8], "big")
    return f"{digest % _TAGS + 1:0{ROUND_TAG_DIGITS}d}"


def choose_round_tag(round_id: str, taken: Mapping[str, Sequence[str]]) -> str:
    """``preferred_round_tag``, or the next tag no other round holds (``taken``: tag → rounds)."""
    start = int(preferred_round_tag(round_id))
    for step in range(_TAGS):
        tag = f"{(start - 1 + step) % _TAGS + 1:0{ROUND_TAG_DIGITS}d}"
        if not [r for r in taken.get(tag, ()) if r != round_id]:
            return tag
    raise TenkenInputError(
        [Problem("ROUND_TAGS_EXHAUSTED", column="点検回", detail=f"{round_id}（{_TAGS} 回分を使用済み）")]
    )


def registry_tag(path: Path) -> str:
    """The tag of the round a registry numbers (``LEGACY_TAG`` for one written before tags)."""
    return pl.read_parquet_metadata(path).get(_TAG_KEY, LEGACY_TAG)


def round_tags(registry_path: Path) -> dict[str, list[str]]:
    """tag → rounds, for every round of the agency × 事務 whose registry sits beside
    ``registry_path`` (``<rounds>/<agency>/<jimu>/<round>/inquiry_numbers.parquet``)."""
    tags: dict[str, list[str]] = {}
    for path in sorted(registry_path.parent.parent.glob(f"*/{registry_path.name}")):
        tags.setdefault(registry_tag(path), []).append(path.parent.name)
    return tags


@dataclass(frozen=True)
class InquiryRegistry:
    """宛名番号 → 照会番号 of one round of one agency × 事務, and the round's tag."""

    round_id: str
    tag: str
    numbers: pl.DataFrame  # atena_no, inquiry_no

    def extended(self, atena_numbers: pl.Series) -> InquiryRegistry:
        """Numbers for ``atena_numbers`` too: old ones kept, new ones after the highest."""
        return replace(self, numbers=assign_inquiry_numbers(atena_numbers, self.numbers, tag=self.tag))


def open_registry(path: Path, round_id: str) -> InquiryRegistry:
    """The registry of ``round_id`` at ``path``, or a new one with a tag no other round holds."""
    if path.exists():
        return InquiryRegistry(round_id, registry_tag(path), pl.read_parquet(path))
    empty = pl.DataFrame(schema={"atena_no": pl.String, "inquiry_no": pl.String})
    return InquiryRegistry(round_id, choose_round_tag(round_id, round_tags(path)), empty)


def save_registry(path: Path, registry: InquiryRegistry) -> None:
    with private_file(path) as fh:
        registry.numbers.write_parquet(fh, metadata={_ROUND_KEY: registry.round_id, _TAG_KEY: registry.tag})


def assign_inquiry_numbers(
    atena_numbers: pl.Series, previous: pl.DataFrame | None, *, tag: str = LEGACY_TAG
) -> pl.DataFrame:
    """宛名番号 → 照会番号 for this round, reusing ``previous`` (atena_no, inquiry_no).

    Returns the full registry (previous entries kept, new ones appended). New numbers are
    ``tag`` + the sequence after the highest one given; the default ``LEGACY_TAG`` is for
    numbers made outside a tenken home (tests, the simulator).
    """
    prev = (
        previous.select("atena_no", "inquiry_no")
        if previous is not None
        else pl.DataFrame(schema={"atena_no": pl.String, "inquiry_no": pl.String})
    )
    sequence = prev["inquiry_no"].str.slice(ROUND_TAG_DIGITS).cast(pl.Int64)
    highest = int(sequence.max() or 0) if prev.height else 0  # type: ignore[arg-type]
    new = (
        pl.DataFrame({"atena_no": atena_numbers})
        .unique()
        .join(prev, on="atena_no", how="anti")
        .sort("atena_no")
    )
    if highest + new.height >= 10**SEQUENCE_DIGITS:
        raise TenkenInputError(
            [
                Problem(
                    "INQUIRY_NO_EXHAUSTED",
                    column="照会番号",
                    detail=f"{highest + new.height:,} 件 > {10**SEQUENCE_DIGITS - 1:,} 件",
                )
            ]
        )
    numbered = new.with_columns(
        pl.concat_str(
            pl.lit(tag),
            (pl.int_range(1, pl.len() + 1, dtype=pl.Int64) + highest)
            .cast(pl.String)
            .str.zfill(SEQUENCE_DIGITS),
        ).alias("inquiry_no")
    )
    return pl.concat([prev, numbered])


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
        round_tag=",".join(requests["inquiry_no"].str.slice(0, ROUND_TAG_DIGITS).unique().sort()),
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
