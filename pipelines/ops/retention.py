"""保存期間: delete a closed round's files that hold 個人番号, and record every deletion.

Manual 12. asks that data holding 個人番号 be deleted as soon as it is no longer needed. A
round (agency × 事務 × 点検回) is **closed** when its phase 2 has completed (照合 wrote F4)
and the case store holds no open case of it; it closes at the later of the two moments (the
phase-2 completion, the last change to one of its cases). ``retention.days_after_close`` days
later its files that hold 個人番号 or personal data are deleted:

* F2 request files, F4 照合結果.csv, F5 確認作業リスト.xlsx, error reports;
* the inputs tenken keeps (the inbox and demo folders of the round);
* the stage outputs in the store (``store/<asset>/<agency>/<jimu>.parquet``) while they
  still belong to that round (a later round of the partition has replaced them otherwise);
* the F2, F4 and F5 files written to an output folder outside the home (``--out``), where
  the instance recorded them — only if that round was the last to write there, and an F2
  file only if it still has the SHA-256 its manifest recorded (anything else is kept and
  listed). The output folders themselves stay.

What reports and audit need stays: the manifests and SHA256SUMS (what was sent), 照合設定.json
(how it was judged), the 照会番号 registry (照会番号 → 宛名番号, no 個人番号), the figures of
定期報告, the case store, the Dagster instance (every run and check) and the evidence. Files
tenken does not know are never deleted; they are listed so someone can look.

**Abandoned rounds.** A round whose phase 1 completed (F2 written) but whose phase 2 never did
would otherwise keep its F2 files and its extract for ever. Such a round is **abandoned**, and
from then on treated as closed, at the earlier of:

* the moment a later 点検回 of the same agency × 事務 completed its phase 1 (the new request
  replaces it: its 照会番号 will never be answered for the old round), and
* ``retention.abandoned_after_days`` (default 365) days after its own last phase-1 completion
  (住基ネット answers within days; a year without 照合 means the round was given up).

It then follows the same clock as a closed round: its files go ``days_after_close`` days after
it was abandoned (a results file arriving late in that window can still be matched). Rounds
found on disk that the instance knows nothing about are never deleted (kept and listed).

Every deletion is recorded first, then carried out (``削除記録.csv``: what, when, how many
rows, SHA-256, by whom), so a crash half-way never loses the record; running the purge
again finishes the job and records the rest.
"""

from __future__ import annotations

import getpass
import hashlib
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path

import polars as pl

from pipelines.cases.store import CaseStore
from pipelines.files.csv_writer import write_csv_cp932
from pipelines.home import HomeLayout
from pipelines.privacy import remove_quietly
from pipelines.stages.match_result import F4_FILE, SETTINGS_FILE
from pipelines.stages.mismatch_review import F5_FILE
from schemas.cases import OPEN_STATES
from schemas.config import RetentionSettings

RECORD_FILE = "削除記録.csv"

#: the stage outputs that hold 個人番号 (periodic_report holds figures only and stays)
STORE_ASSETS = ("extract", "inquiry_request", "inquiry_result", "match_result", "mismatch_review")
#: folders under data/ where tenken keeps a round's inputs: <folder>/<agency>/<jimu>/<round>/
INPUT_FOLDERS = ("inbox", "demo")


@dataclass(frozen=True, order=True)
class RoundKey:
    agency: str
    jimu: str
    round_id: str

    def __str__(self) -> str:
        return f"{self.agency}/{self.jimu}/{self.round_id}"


class Action(Enum):
    DELETE = "削除"
    KEEP = "保存"


@dataclass(frozen=True)
class FileRule:
    """What a file of a round folder is, and whether it goes when the round's time is up."""

    pattern: str  # glob relative to the round folder
    kind: str  # what staff and auditors call it
    action: Action
    header: bool = True  # a CSV's first line is a header (rows = lines - 1)


#: the round folder, as data: everything else found there is unknown and kept
ROUND_FILES: tuple[FileRule, ...] = (
    FileRule("request/request_*.csv", "照会要求（F2）", Action.DELETE, header=False),
    FileRule("request/manifest.json", "照会要求のマニフェスト（件数・SHA-256）", Action.KEEP),
    FileRule("request/SHA256SUMS", "照会要求のハッシュ一覧", Action.KEEP),
    FileRule(f"result/{F4_FILE}", "照合結果（F4）", Action.DELETE),
    FileRule(f"result/{F5_FILE}", "確認作業リスト（F5）", Action.DELETE),
    FileRule(f"result/{SETTINGS_FILE}", "照合設定（判定規則と設定ハッシュ）", Action.KEEP),
    FileRule("errors/*.csv", "誤り一覧", Action.DELETE),
    FileRule("inquiry_numbers.parquet", "照会番号の対応（照会番号→宛名番号、個人番号なし）", Action.KEEP),
)


@dataclass(frozen=True)
class RoundStatus:
    """What is known about a round: from the Dagster instance and from the case store."""

    key: RoundKey
    phase2_completed_at: datetime | None = None
    open_cases: int = 0
    last_case_change_at: datetime | None = None
    phase1_completed_at: datetime | None = None
    #: when a later round of the same agency × 事務 completed its phase 1
    superseded_at: datetime | None = None

    @property
    def closed_at(self) -> datetime | None:
        if self.phase2_completed_at is None or self.open_cases:
            return None
        moments = [self.phase2_completed_at, self.last_case_change_at]
        return max(m for m in moments if m is not None)

    def abandoned_at(self, settings: RetentionSettings) -> datetime | None:
        """When a round that never got its phase 2 counts as abandoned (module docstring);
        None for a matched round, or one the instance never saw complete phase 1."""
        if self.phase2_completed_at is not None or self.phase1_completed_at is None:
            return None
        limit = self.phase1_completed_at + timedelta(days=settings.abandoned_after_days)
        return min(limit, self.superseded_at) if self.superseded_at else limit


@dataclass(frozen=True)
class WrittenFile:
    """A file tenken wrote for a round outside the home (``--out``), as the instance recorded it."""

    path: Path
    kind: str
    sha256: str | None = None  # when recorded (F2: the manifest); a file that differs is kept


@dataclass(frozen=True)
class RoundFile:
    path: Path
    kind: str
    action: Action
    rows: int | None
    size: int
    sha256: str


@dataclass(frozen=True)
class RoundPlan:
    """One round: whether its time is up, and what would be deleted and kept."""

    status: RoundStatus
    due: date | None  # the first day its files may be deleted
    verdict: str
    files: tuple[RoundFile, ...] = field(default_factory=tuple)
    closed_at: datetime | None = None  # closed (or abandoned) at; None while open

    @property
    def purge(self) -> bool:
        return self.verdict == VERDICT_DUE

    @property
    def to_delete(self) -> tuple[RoundFile, ...]:
        return tuple(f for f in self.files if f.action is Action.DELETE) if self.purge else ()


VERDICT_DUE = "削除する（保存期間終了）"


def _rows(path: Path, header: bool) -> int | None:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return int(pl.scan_parquet(path).select(pl.len()).collect().item())
    if suffix == ".csv":
        lines = sum(1 for line in path.read_bytes().splitlines() if line.strip())
        return max(lines - (1 if header else 0), 0)
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True)
        except (zipfile.BadZipFile, KeyError, OSError):
            return None  # not a workbook any more: still deleted, its rows unknown
        try:
            return max((book.worksheets[0].max_row or 1) - 1, 0)
        finally:
            book.close()
    return None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _describe(path: Path, kind: str, action: Action, header: bool = True) -> RoundFile:
    # only what would be deleted is opened (rows, hash): a kept file is listed, not read
    if action is Action.DELETE:
        return RoundFile(path, kind, action, _rows(path, header), path.stat().st_size, _sha256(path))
    return RoundFile(path, kind, action, None, path.stat().st_size, "")


def round_files(layout: HomeLayout, key: RoundKey, written: Sequence[WrittenFile] = ()) -> list[RoundFile]:
    """Every file tenken keeps for ``key`` in the home or wrote for it elsewhere, with what
    retention does to it."""
    found: list[RoundFile] = []
    folder = layout.round_dir(key.agency, key.jimu, key.round_id)
    known: set[Path] = set()
    for rule in ROUND_FILES:
        for path in sorted(folder.glob(rule.pattern)):
            if path.is_file():
                known.add(path)
                found.append(_describe(path, rule.kind, rule.action, rule.header))
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p not in known):
        found.append(_describe(path, "tenken が作っていないファイル（削除しない）", Action.KEEP))
    for name in INPUT_FOLDERS:
        inputs = layout.data / name / key.agency / key.jimu / key.round_id
        for path in sorted(p for p in inputs.rglob("*") if p.is_file()):
            found.append(_describe(path, f"取り込んだ入力（{name}）", Action.DELETE))
    for asset in STORE_ASSETS:
        path = layout.store / asset / key.agency / f"{key.jimu}.parquet"
        if path.is_file() and _stored_round(path) == key.round_id:
            found.append(_describe(path, f"段階の中間データ（{asset}）", Action.DELETE))
    listed = {f.path for f in found}
    for w in written:
        if not w.path.is_file() or w.path in listed:
            continue
        if w.sha256 is not None and _sha256(w.path) != w.sha256:
            found.append(
                _describe(w.path, f"{w.kind}（出力先、記録と内容が違うので削除しない）", Action.KEEP)
            )
        else:
            found.append(_describe(w.path, f"{w.kind}（出力先）", Action.DELETE))
    return found


def _stored_round(path: Path) -> str | None:
    frame = pl.read_parquet(path, columns=["round_id"], n_rows=1)
    return frame["round_id"][0] if frame.height else None


def rounds_on_disk(layout: HomeLayout) -> set[RoundKey]:
    """Every agency × 事務 × 点検回 that has a folder in the home."""
    keys = set()
    for top in (layout.data / "rounds", *(layout.data / name for name in INPUT_FOLDERS)):
        for folder in top.glob("*/*/*"):
            if folder.is_dir():
                agency, jimu, round_id = folder.relative_to(top).parts
                keys.add(RoundKey(agency, jimu, round_id))
    return keys


@dataclass(frozen=True)
class CaseActivity:
    open_cases: int
    last_change_at: datetime | None


def case_activity(store: CaseStore) -> dict[RoundKey, CaseActivity]:
    """Per round: how many of its cases are open, and when one last changed (the case store)."""
    activity: dict[RoundKey, CaseActivity] = {}
    with store.reading() as conn:
        partitions = store.counts(conn).select("agency", "jimu").unique().iter_rows()
        for agency, jimu in partitions:
            per_round = (
                store.cases_frame(conn, agency, jimu)
                .group_by("round_id")
                .agg(
                    pl.col("state").is_in(list(OPEN_STATES)).sum().alias("open"),
                    pl.col("updated_at").max().alias("last"),
                )
            )
            for round_id, open_cases, last in per_round.iter_rows():
                activity[RoundKey(agency, jimu, round_id)] = CaseActivity(
                    int(open_cases), datetime.fromisoformat(last) if last else None
                )
    return activity


def statuses(
    phase2_completed: Mapping[RoundKey, datetime],
    cases: Mapping[RoundKey, CaseActivity],
    phase1_completed: Mapping[RoundKey, datetime] | None = None,
) -> list[RoundStatus]:
    """What the instance and the case store say, joined per round. A round is superseded
    when another round of its agency × 事務 completed phase 1 after it did."""
    phase1 = phase1_completed or {}

    def superseded(key: RoundKey) -> datetime | None:
        mine = phase1.get(key)
        later = [
            at
            for other, at in phase1.items()
            if mine is not None
            and other != key
            and (other.agency, other.jimu) == (key.agency, key.jimu)
            and at > mine
        ]
        return min(later, default=None)

    return [
        RoundStatus(
            key,
            phase2_completed.get(key),
            cases[key].open_cases if key in cases else 0,
            cases[key].last_change_at if key in cases else None,
            phase1.get(key),
            superseded(key),
        )
        for key in sorted(set(phase2_completed) | set(cases) | set(phase1))
    ]


def plan(
    layout: HomeLayout,
    statuses: Iterable[RoundStatus],
    settings: RetentionSettings,
    today: date,
    written: Mapping[RoundKey, Sequence[WrittenFile]] | None = None,
) -> list[RoundPlan]:
    """For every round on disk or known to the instance: is its time up, and what goes."""
    known = {s.key: s for s in statuses}
    written = written or {}
    plans = []
    for key in sorted(rounds_on_disk(layout) | set(known)):
        status = known.get(key, RoundStatus(key))
        abandoned = status.abandoned_at(settings)
        closed = status.closed_at
        if abandoned is not None and abandoned.date() <= today and not status.open_cases:
            closed = max(m for m in (abandoned, status.last_case_change_at) if m is not None)
        due = closed.date() + timedelta(days=settings.days_after_close) if closed else None
        if str(key) in settings.hold:
            verdict = "保存（設定 retention.hold で保留中）"
        elif status.phase2_completed_at is None and abandoned is None:
            verdict = "保存（第2段階（照合）が終わっていない）"
        elif abandoned is not None and today < abandoned.date():
            verdict = f"保存（第2段階（照合）待ち: {abandoned:%Y-%m-%d} までに照合がなければ放棄とみなす）"
        elif status.open_cases:
            verdict = f"保存（確認中の案件が {status.open_cases} 件ある）"
        elif due is not None and today < due:
            gone = "照合されないまま放棄、" if abandoned is not None else ""
            verdict = f"保存（{gone}保存期間中: {due:%Y-%m-%d} から削除）"
        else:
            verdict = VERDICT_DUE
        files = tuple(round_files(layout, key, written.get(key, ())))
        plans.append(RoundPlan(status, due, verdict, files, closed))
    return plans


RECORD_COLUMNS = {
    "削除日時": pl.String,
    "団体コード": pl.String,
    "事務": pl.String,
    "点検回": pl.String,
    "点検回の終了日時": pl.String,
    "保存日数": pl.Int64,
    "区分": pl.String,
    "ファイル": pl.String,
    "行数": pl.Int64,
    "バイト数": pl.Int64,
    "SHA-256": pl.String,
    "実行者": pl.String,
    "方法": pl.String,
}


def record_path(layout: HomeLayout) -> Path:
    return layout.data / "audit" / RECORD_FILE


def read_record(layout: HomeLayout) -> pl.DataFrame:
    path = record_path(layout)
    if not path.exists():
        return pl.DataFrame(schema=RECORD_COLUMNS)
    return pl.read_csv(path, encoding="cp932", schema=RECORD_COLUMNS)


@dataclass(frozen=True)
class PurgeOutcome:
    rounds: tuple[RoundKey, ...]
    files: int
    rows: int
    bytes: int
    record: Path


def purge(
    layout: HomeLayout,
    plans: Sequence[RoundPlan],
    settings: RetentionSettings,
    *,
    now: datetime,
    method: str,
    actor: str | None = None,
) -> PurgeOutcome:
    """Record, then delete, every file of the rounds whose time is up."""
    due = [p for p in plans if p.purge and p.to_delete]
    who = actor or getpass.getuser()
    rows = [
        {
            "削除日時": now.isoformat(timespec="seconds"),
            "団体コード": p.status.key.agency,
            "事務": p.status.key.jimu,
            "点検回": p.status.key.round_id,
            "点検回の終了日時": closed.isoformat(timespec="seconds") if (closed := p.closed_at) else "",
            "保存日数": settings.days_after_close,
            "区分": f.kind,
            "ファイル": shown(f.path, layout),
            "行数": f.rows,
            "バイト数": f.size,
            "SHA-256": f.sha256,
            "実行者": who,
            "方法": method,
        }
        for p in due
        for f in p.to_delete
    ]
    path = record_path(layout)
    if rows:
        record = pl.concat([read_record(layout), pl.DataFrame(rows, schema=RECORD_COLUMNS)])
        write_csv_cp932(record, path)
    for p in due:
        for f in p.to_delete:
            remove_quietly(f.path)
        _remove_empty_folders(layout, p.status.key)
    return PurgeOutcome(
        rounds=tuple(p.status.key for p in due),
        files=len(rows),
        rows=sum(r["行数"] or 0 for r in rows),  # type: ignore[misc]
        bytes=sum(r["バイト数"] for r in rows),  # type: ignore[misc]
        record=path,
    )


def shown(path: Path, layout: HomeLayout) -> str:
    """A path as the record and messages show it: relative inside the home, else absolute."""
    return str(path.relative_to(layout.home)) if path.is_relative_to(layout.home) else str(path)


def _remove_empty_folders(layout: HomeLayout, key: RoundKey) -> None:
    round_folder = layout.round_dir(key.agency, key.jimu, key.round_id)
    inputs = [layout.data / name / key.agency / key.jimu / key.round_id for name in INPUT_FOLDERS]
    for top in [round_folder, *inputs]:
        if not top.is_dir():
            continue
        for folder in sorted((d for d in top.rglob("*") if d.is_dir()), key=lambda d: -len(d.parts)):
            if not any(folder.iterdir()):
                folder.rmdir()
        # the round folder stays: it still holds what audit needs; an emptied input folder
        # goes, with its agency and 事務 folders when nothing else is left in them
        if top != round_folder:
            for folder in (top, top.parent, top.parent.parent):
                if any(folder.iterdir()):
                    break
                folder.rmdir()


def summary(plans: Sequence[RoundPlan]) -> Mapping[str, int]:
    """Counts for messages and metadata."""
    doomed = [f for p in plans for f in p.to_delete]
    return {
        "点検回": len(plans),
        "削除する点検回": sum(1 for p in plans if p.purge and p.to_delete),
        "削除するファイル": len(doomed),
        "削除する行数": sum(f.rows or 0 for f in doomed),
    }
