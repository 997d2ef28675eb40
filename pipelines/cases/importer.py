"""A returned F5 workbook: read it, validate every row, then apply all of it or nothing.

Every row is checked before anything is written, inside the same write transaction that
would apply it (so what was checked is what is changed):

* the case id is known, and appears once (``CASE_ID_UNKNOWN``, ``CASE_ID_DUPLICATE``);
* no cell holds a formula (``WORKBOOK_FORMULA``, found by ``workbook_reader``);
* the read-only comparison cells are as exported (``CASE_READONLY_EDITED``, keyed hashes);
* values come from the lists, dates are dates and not in the future, 是正日 is not before
  確認日, 確認者 is not 担当者 as a person (``CASE_VALUE_NOT_ALLOWED``, ``CASE_DATE_*``,
  ``CASE_REVIEWER_SAME``; ``pipelines.cases.staff``);
* no free-text or name cell holds something that looks like a 個人番号, in any grouping
  (``CASE_MYNUMBER_IN_TEXT``; the message never shows it), and 担当者 / 確認者 hold no
  control or format character (``CASE_NAME_CHARACTERS``);
* the state moves forward along the flow with everything each state requires
  (``CASE_BACKWARD``, ``CASE_TRANSITION``, ``CASE_FIELD_REQUIRED``), and a decided 確認結果
  stays (``CASE_OUTCOME_CHANGED``);
* a row staff edited for a case that changed in the store since the export is refused
  (``CASE_STALE``) rather than overwriting newer work.

Rows equal to the store are no-ops and rows staff did not touch are skipped, so importing
the same file twice changes nothing the second time. An import report (one line per row, or
per problem when refused) is written next to the file.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.cases.audit import NewEvent, stamp
from pipelines.cases.machine import plan_move
from pipelines.cases.staff import holds_invisible, person_key
from pipelines.cases.store import CaseStore, CaseUpdate
from pipelines.cases.workbook import READONLY_COLUMNS, readonly_hashes, staff_hashes, staff_text
from pipelines.cases.workbook_reader import ReturnedWorkbook, read_workbook
from pipelines.clock import now
from pipelines.dates import parse_dates
from pipelines.errors import Problem, TenkenInputError, problems_from_frame
from pipelines.files.csv_writer import write_csv_cp932
from pipelines.privacy import masked_number_expr, my_number_in_text, scrub_column
from schemas.cases import (
    CASE_STAFF_COLUMNS,
    DATE_FIELDS,
    DATE_ORDER,
    FINAL_OUTCOMES,
    CaseState,
    EventKind,
    staff_column,
)

REPORT_SUFFIX = "_取込結果.csv"
_TIME_OF_DAY = r"^(\S+?)(?:[ T]00:00(?::00(?:\.0+)?)?)?$"
_HEADER: dict[str, str] = {code: title for title, code in READONLY_COLUMNS} | {
    c.name: c.contract for c in CASE_STAFF_COLUMNS
}
#: problems are listed in the order a person reads the row: left to right
_COLUMN_ORDER = {title: i for i, title in enumerate(_HEADER.values())}

APPLIED = "適用"
UNCHANGED = "変更なし"
SKIPPED = "変更なし（書き出し後に更新済みの案件で、この行は未記入）"
REJECTED = "却下"


@dataclass
class ImportPlan:
    """What a returned workbook would change, or why it cannot be applied."""

    problems: list[Problem] = field(default_factory=list)
    updates: list[CaseUpdate] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # one per sheet row, for the report

    @property
    def applied(self) -> int:
        return len(self.updates)

    @property
    def state_changes(self) -> int:
        """Cases whose state moved (a row that went several steps counts once)."""
        return sum(1 for u in self.updates if "state" in u.values)


@dataclass(frozen=True)
class ImportResult:
    agency: str
    jimu: str
    applied: int
    state_changes: int
    unchanged: int
    events: int
    report: Path


def _problem_frame(frame: pl.DataFrame, code: str, column: str | None, detail: pl.Expr) -> pl.DataFrame:
    return frame.select(
        pl.col("excel_row").alias("line"),
        pl.lit(column, dtype=pl.String).alias("column"),
        pl.lit(code).alias("code"),
        detail.cast(pl.String).alias("detail"),
    )


def _readonly_problems(edited: pl.DataFrame, current: pl.DataFrame) -> pl.DataFrame:
    """CASE_READONLY_EDITED for rows whose comparison cells do not hash as exported, naming
    the columns that differ from the store (what was exported, unless 照合 ran again since)."""
    codes = [c for _, c in READONLY_COLUMNS if c != "case_id"]
    store = current.select(
        "case_id", *(pl.col(c).cast(pl.String).fill_null("").alias(f"_s_{c}") for c in codes)
    )
    differing = pl.concat_list(
        [pl.when(pl.col(c).fill_null("") != pl.col(f"_s_{c}")).then(pl.lit(_HEADER[c])) for c in codes]
    ).list.drop_nulls()
    named = edited.join(store, on="case_id", how="left").with_columns(differing.alias("_cols"))
    return named.select(
        pl.col("excel_row").alias("line"),
        pl.col("_cols").list.first().alias("column"),
        pl.lit("CASE_READONLY_EDITED").alias("code"),
        pl.when(pl.col("_cols").list.len() > 0).then(pl.col("_cols").list.join("、")).alias("detail"),
    )


def _parse_staff_dates(rows: pl.DataFrame, today: date) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Date cells → canonical YYYY-MM-DD text; problems for what is not a date or in the future."""
    problems = []
    for name in DATE_FIELDS:
        text = pl.col(name).str.strip_chars()
        # Excel date cells arrive as "2026-11-20 00:00:00"; typed text stays as typed
        rows = rows.with_columns(pl.coalesce(text.str.extract(_TIME_OF_DAY, 1), text).alias(f"_{name}"))
        rows = parse_dates(rows, f"_{name}", today=today, prefix=f"_{name}")
        bad = rows.filter(pl.col(f"_{name}_problem").is_not_null())
        for code, when in (
            ("CASE_DATE_FUTURE", pl.col(f"_{name}_problem") == "DATE_FUTURE"),
            ("CASE_DATE_FORMAT", pl.col(f"_{name}_problem") != "DATE_FUTURE"),
        ):
            problems.append(_problem_frame(bad.filter(when), code, _HEADER[name], pl.col(f"_{name}")))
        rows = rows.with_columns(
            pl.when(pl.col(f"_{name}_date").is_not_null())
            .then(pl.col(f"_{name}_date").dt.strftime("%Y-%m-%d"))
            .otherwise(pl.col(name))
            .alias(name)
        ).drop(f"_{name}", f"_{name}_date", f"_{name}_problem")
    return rows, problems


def _typed(name: str, text: str) -> Any:
    if text == "":
        return None
    if name in DATE_FIELDS:
        return date.fromisoformat(text)
    return text


@dataclass(frozen=True)
class RowCheck:
    """One rule for the rows staff changed: where ``refused`` holds, a problem ``code`` in
    ``column`` with ``detail``. The rules are data, like the row rules of 抽出."""

    code: str
    column: str | None
    refused: pl.Expr
    detail: pl.Expr


#: the staff columns people type free text or a name into (no list, not a date)
FREE_TEXT_COLUMNS = tuple(c for c in CASE_STAFF_COLUMNS if not c.choices and not c.is_date)
#: the staff columns that name a person (two-person rule)
PEOPLE = ("assignee", "reviewer")


def _number_flag(name: str) -> str:
    return f"_number_in_{name}"


def with_number_flags(rows: pl.DataFrame) -> pl.DataFrame:
    """Mark the free-text cells that hold a 個人番号 (``my_number_in_text``) for ``row_checks``."""
    return rows.with_columns(
        my_number_in_text(rows[c.name]).alias(_number_flag(c.name)) for c in FREE_TEXT_COLUMNS
    )


def row_checks() -> list[RowCheck]:
    """Every check of a changed row's values, in the order a person reads the row."""
    checks = []
    for col in CASE_STAFF_COLUMNS:
        if not col.choices:
            continue
        allowed = pl.col(col.name).is_in(list(col.choices)) | (pl.col(col.name) == "")
        if col.name == "state":
            allowed = allowed | (pl.col("state") == pl.col("_cur_state"))
        shown = pl.format("「{}」。選べる値: {}", pl.col(col.name), pl.lit("、".join(col.choices)))
        checks.append(RowCheck("CASE_VALUE_NOT_ALLOWED", col.contract, ~allowed, shown))
    # free text goes into the append-only audit trail, which can never be erased: a 個人番号
    # typed there in any grouping is refused rather than kept for ever (a mistyped number is
    # still someone's, so the check digit is not asked); the message never shows it
    for col in FREE_TEXT_COLUMNS:
        checks.append(
            RowCheck(
                "CASE_MYNUMBER_IN_TEXT",
                col.contract,
                pl.col(_number_flag(col.name)),
                masked_number_expr(pl.col(col.name)),
            )
        )
    for name in PEOPLE:
        checks.append(
            RowCheck(
                "CASE_NAME_CHARACTERS",
                staff_column(name).contract,
                holds_invisible(pl.col(name)).fill_null(False),
                pl.lit("制御文字・書式文字（ゼロ幅スペースなど）"),
            )
        )
    same_person = (pl.col("reviewer") != "") & (
        person_key(pl.col("reviewer")) == person_key(pl.col("assignee"))
    )
    checks.append(
        RowCheck("CASE_REVIEWER_SAME", staff_column("reviewer").contract, same_person, pl.col("reviewer"))
    )
    for earlier, later in DATE_ORDER:
        wrong = (pl.col(earlier) != "") & (pl.col(later) != "") & (pl.col(later) < pl.col(earlier))
        shown = pl.format(
            "{} {}、{} {}",
            pl.lit(staff_column(earlier).contract),
            pl.col(earlier),
            pl.lit(staff_column(later).contract),
            pl.col(later),
        )
        checks.append(RowCheck("CASE_DATE_ORDER", staff_column(later).contract, wrong, shown))
    outcome_changed = pl.col("_cur_outcome").is_in(list(FINAL_OUTCOMES)) & (
        pl.col("outcome") != pl.col("_cur_outcome")
    )
    checks.append(
        RowCheck(
            "CASE_OUTCOME_CHANGED",
            staff_column("outcome").contract,
            outcome_changed,
            pl.format("記入済み「{}」→「{}」", pl.col("_cur_outcome"), pl.col("outcome")),
        )
    )
    return checks


def plan_import(book: ReturnedWorkbook, current: pl.DataFrame, key: bytes, today: date) -> ImportPlan:
    """Validate ``book`` against the store's cases of its agency × 事務 (``current``)."""
    plan = ImportPlan()
    rows, found = _known_rows(book, current, key)
    rows, date_problems = _parse_staff_dates(rows, today)
    found += date_problems
    rows = _against_store(rows, current, key)
    found.append(
        _problem_frame(
            rows.filter(pl.col("_status") == "stale"),
            "CASE_STALE",
            None,
            pl.format("現在の状態「{}」", pl.col("_cur_state")),
        )
    )
    changed = with_number_flags(rows.filter(pl.col("_status") == "changed"))
    found += [
        _problem_frame(changed.filter(check.refused), check.code, check.column, check.detail)
        for check in row_checks()
    ]
    bad_lines = set(pl.concat([f.select("line") for f in found]).to_series().to_list())
    moves, move_problems = _moves(changed.filter(~pl.col("excel_row").is_in(list(bad_lines))), book.path.name)
    plan.problems = sorted(
        problems_from_frame(pl.concat(found), book.path.name) + move_problems,
        key=lambda p: (p.line or 0, _COLUMN_ORDER.get(p.column or "", -1), p.code),
    )
    if not plan.problems:
        _plan_changes(plan, moves, rows, (book.meta["agency"], book.meta["jimu"]))
    return plan


def _known_rows(
    book: ReturnedWorkbook, current: pl.DataFrame, key: bytes
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """The rows of cases the store knows and this workbook exported, with unchanged
    read-only cells; problems for every other row (blank, duplicated, unknown, edited)."""
    found: list[pl.DataFrame] = [book.formulas]  # formula cells (read as their cached value, or blank)
    rows = book.rows.with_columns(pl.col("case_id").str.strip_chars())
    blank_id = rows.filter(pl.col("case_id").is_null() | (pl.col("case_id") == ""))
    found.append(_problem_frame(blank_id, "CASE_ID_UNKNOWN", "案件番号", pl.lit("案件番号が空欄")))
    rows = rows.filter(pl.col("case_id").is_not_null() & (pl.col("case_id") != ""))
    dup = rows.filter(pl.col("case_id").is_duplicated())
    found.append(_problem_frame(dup, "CASE_ID_DUPLICATE", "案件番号", pl.col("case_id")))

    known = current.select("case_id", pl.lit(True).alias("_known"))
    rows = rows.join(known, on="case_id", how="left").join(
        book.checks.rename({"staff_hash": "exported_staff_hash"}), on="case_id", how="left"
    )
    unknown = rows.filter(pl.col("_known").is_null())
    found.append(_problem_frame(unknown, "CASE_ID_UNKNOWN", "案件番号", pl.col("case_id")))
    not_exported = rows.filter(pl.col("_known").is_not_null() & pl.col("readonly_hash").is_null())
    found.append(
        _problem_frame(
            not_exported,
            "CASE_ID_UNKNOWN",
            "案件番号",
            pl.format("{}（この確認作業リストにない案件番号）", pl.col("case_id")),
        )
    )
    rows = rows.filter(pl.col("_known").is_not_null() & pl.col("readonly_hash").is_not_null())
    edited = rows.filter(readonly_hashes(rows, key) != pl.col("readonly_hash"))
    if edited.height:
        found.append(_readonly_problems(edited, current))
        rows = rows.join(edited.select("case_id"), on="case_id", how="anti")
    return rows, found


def _against_store(rows: pl.DataFrame, current: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """Each row beside the store's staff values (``_cur_*``) with its ``_status``: unchanged,
    untouched since the export (skipped), stale (the store changed since), or changed."""
    staff_names = [c.name for c in CASE_STAFF_COLUMNS]
    store_staff = staff_text(current)
    rows = pl.concat([rows.drop(staff_names), staff_text(rows).drop("case_id")], how="horizontal").join(
        store_staff.rename({n: f"_cur_{n}" for n in staff_names}).with_columns(
            staff_hashes(store_staff, key).alias("_store_hash")
        ),
        on="case_id",
        how="left",
    )
    # a cleared 状態 cell means "no change of state", not a state of its own
    rows = rows.with_columns(
        pl.when(pl.col("state") == "").then(pl.col("_cur_state")).otherwise(pl.col("state")).alias("state")
    )
    rows = rows.with_columns(staff_hashes(rows.select("case_id", *staff_names), key).alias("_row_hash"))
    same_as_store = pl.all_horizontal([pl.col(n) == pl.col(f"_cur_{n}") for n in staff_names])
    untouched = pl.col("_row_hash") == pl.col("exported_staff_hash")
    stale = pl.col("_store_hash") != pl.col("exported_staff_hash")
    return rows.with_columns(
        pl.when(same_as_store)
        .then(pl.lit(UNCHANGED))
        .when(untouched)
        .then(pl.lit(SKIPPED))
        .when(stale)
        .then(pl.lit("stale"))
        .otherwise(pl.lit("changed"))
        .alias("_status")
    )


Move = tuple[dict[str, Any], CaseState, Any]


def _moves(changed: pl.DataFrame, file: str) -> tuple[list[Move], list[Problem]]:
    """The state machine on each changed row (B/C cases staff touched, never a whole file)."""
    staff_names = [c.name for c in CASE_STAFF_COLUMNS]
    moves: list[Move] = []
    problems: list[Problem] = []
    for row in changed.iter_rows(named=True):
        record = {name: row[name] for name in staff_names}
        current_state = CaseState(row["_cur_state"])
        target = CaseState(row["state"]) if row["state"] else current_state
        move = plan_move(current_state, target, record)
        problems += [
            Problem(f.code, file=file, line=row["excel_row"], column=_HEADER[f.field], detail=f.detail)
            for f in move.findings
        ]
        moves.append((row, current_state, move))
    return moves, problems


def _plan_changes(
    plan: ImportPlan, moves: list[Move], rows: pl.DataFrame, partition: tuple[str, str]
) -> None:
    """The updates and events of a valid import, and one report line per sheet row."""
    staff_names = [c.name for c in CASE_STAFF_COLUMNS]
    for row, current_state, move in moves:
        key_ = (*partition, row["case_id"])
        changes = {
            name: (_typed(name, row[f"_cur_{name}"]), _typed(name, row[name]))
            for name in staff_names
            if name != "state" and row[name] != row[f"_cur_{name}"]
        }
        values = {name: new for name, (_old, new) in changes.items()}
        actor = row["assignee"] or row["_cur_assignee"] or "（担当者未記入）"
        reviewer = row["reviewer"] or None
        states = (current_state, *move.path)
        if move.path:
            values["state"] = move.path[-1].value
            for i, (before, after) in enumerate(itertools.pairwise(states)):
                plan.events.append(
                    NewEvent(
                        *key_,
                        EventKind.MOVED,
                        before.value,
                        after.value,
                        changes if i == 0 else {},
                        actor,
                        reviewer,
                    )
                )
        else:
            plan.events.append(
                NewEvent(*key_, EventKind.RECORDED, current_state.value, None, changes, actor, reviewer)
            )
        plan.updates.append(CaseUpdate(key_, values))
        plan.rows.append(
            {
                "line": row["excel_row"],
                "case_id": row["case_id"],
                "result": APPLIED,
                "from_state": current_state.value,
                "to_state": states[-1].value,
                "what": "、".join(_HEADER[n] for n in changes),
            }
        )
    for row in rows.filter(pl.col("_status") != "changed").iter_rows(named=True):
        plan.rows.append(
            {
                "line": row["excel_row"],
                "case_id": row["case_id"],
                "result": row["_status"],
                "from_state": row["_cur_state"],
                "to_state": row["_cur_state"],
                "what": "",
            }
        )
    plan.rows.sort(key=lambda r: r["line"])


def report_path(workbook: Path) -> Path:
    return workbook.with_name(workbook.stem + REPORT_SUFFIX)


def write_report(
    path: Path,
    plan: ImportPlan | None,
    problems: list[Problem],
    case_ids: dict[int, str] | None = None,
) -> Path:
    """The import report next to the returned file (cp932 CSV for Excel).

    ``case_ids`` (sheet row → case id) names the case of each refused row when known.
    """
    case_ids = case_ids or {}
    columns = [
        "行",
        "案件番号",
        "列",
        "結果",
        "変更前の状態",
        "変更後の状態",
        "内容",
        "期待される値",
        "コード",
    ]
    lines: list[list[Any]] = []
    if problems:
        lines.append(
            [
                None,
                None,
                None,
                "取り込みませんでした",
                None,
                None,
                f"誤り {len(problems)} 件。どの行も取り込んでいません",
                None,
                None,
            ]
        )
        lines += [
            [
                p.line,
                case_ids.get(p.line) if p.line is not None else None,
                p.column,
                REJECTED,
                None,
                None,
                p.message + (f"（{p.detail}）" if p.detail else ""),
                p.expected,
                p.code,
            ]
            for p in problems
        ]
    elif plan is not None:
        lines += [
            [
                r["line"],
                r["case_id"],
                None,
                r["result"],
                r["from_state"],
                r["to_state"],
                r["what"] or None,
                None,
                None,
            ]
            for r in plan.rows
        ]
    frame = pl.DataFrame(lines, schema=dict.fromkeys(columns, pl.String), orient="row", strict=False)
    # a 案件番号 cell is quoted as staff left it: it may hold anything they typed
    frame = frame.with_columns(pl.col("行").cast(pl.Int64), scrub_column(frame["案件番号"]))
    write_csv_cp932(frame, path)
    return path


def import_workbook(
    store: CaseStore,
    path: Path,
    *,
    expected: tuple[str, str] | None = None,
    recorded_by: str | None = None,
) -> ImportResult:
    """Validate ``path`` completely, then apply it in one transaction (or raise, storing nothing).

    ``expected`` (agency, 事務) is the partition the file was dropped for; a workbook of another
    partition is refused. Raises ``TenkenInputError`` with every problem; the report is
    written next to the file either way.
    """
    report = report_path(path)
    book: ReturnedWorkbook | None = None
    try:
        book = read_workbook(path)
        agency, jimu = book.meta["agency"], book.meta["jimu"]
        if expected is not None and expected != (agency, jimu):
            raise TenkenInputError(
                [
                    Problem(
                        "WORKBOOK_PARTITION",
                        file=path.name,
                        detail=f"ファイル {agency} {jimu}、フォルダ {expected[0]} {expected[1]}",
                    )
                ]
            )
        with store.writing() as conn:
            current = store.cases_frame(conn, agency, jimu)
            moment = now()
            plan = plan_import(book, current, store.key, moment.date())
            if plan.problems:
                raise TenkenInputError(plan.problems)
            at = stamp(moment)
            store.update_cases(conn, plan.updates, at)
            written = store.append_events(
                conn, plan.events, at=at, source=str(path), source_sha256=book.sha256, recorded_by=recorded_by
            )
    except TenkenInputError as e:
        rows = dict(book.rows.select("excel_row", "case_id").iter_rows()) if book is not None else {}
        write_report(report, None, e.problems, rows)
        raise e.with_report(str(report)) from None
    write_report(report, plan, [])
    unchanged = sum(1 for r in plan.rows if r["result"] != APPLIED)
    return ImportResult(agency, jimu, plan.applied, plan.state_changes, unchanged, written, report)
