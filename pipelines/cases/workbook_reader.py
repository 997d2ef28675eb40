"""Reading back an F5 確认作業リスト.xlsx that staff returned (before any validation).

Whole-file problems (not a workbook, not ours, a column deleted) refuse the file here; the
row-level checks against the store are the importer's (``pipelines.cases.importer``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import polars as pl

from pipelines.cases.workbook import CHECK_SHEET, FIRST_ROW, FORMAT, READONLY_COLUMNS, SHEET
from pipelines.errors import Problem, TenkenInputError
from schemas.cases import CASE_STAFF_COLUMNS


@dataclass(frozen=True)
class ReturnedWorkbook:
    """A workbook staff sent back, as read (before any validation against the store).

    ``rows``: one row per non-blank sheet row: ``excel_row`` (the row number Excel shows),
    the read-only columns and the staff columns, all as text (dates as Excel wrote them).
    ``checks``: ``case_id``, ``readonly_hash``, ``staff_hash`` as exported.
    """

    path: Path
    sha256: str
    meta: dict[str, str]
    rows: pl.DataFrame
    checks: pl.DataFrame


def _refuse(code: str, path: Path, detail: str | None = None, column: str | None = None) -> TenkenInputError:
    return TenkenInputError([Problem(code, file=path.name, column=column, detail=detail)])


def read_meta(path: Path) -> dict[str, str]:
    """The partition block of a returned workbook (which agency × 事務 × round it is)."""
    reader = _open(path)
    return _meta(reader, path)


def _open(path: Path) -> fastexcel.ExcelReader:
    if not path.is_file():
        raise _refuse("FILE_NOT_FOUND", path)
    try:
        reader = fastexcel.read_excel(str(path))
    except Exception as e:  # calamine reports every kind of unreadable file differently
        raise _refuse("WORKBOOK_UNREADABLE", path, type(e).__name__) from None
    if SHEET not in reader.sheet_names or CHECK_SHEET not in reader.sheet_names:
        raise _refuse("WORKBOOK_NOT_F5", path)
    return reader


def _meta(reader: fastexcel.ExcelReader, path: Path) -> dict[str, str]:
    raw = reader.load_sheet_by_name(CHECK_SHEET, header_row=None, dtypes="string").to_polars()
    if raw.width < 7:
        raise _refuse("WORKBOOK_NOT_F5", path)
    pairs = raw.select(raw.columns[5], raw.columns[6]).drop_nulls(raw.columns[5]).rows()
    meta = {str(k): str(v or "") for k, v in pairs}
    if meta.get("format") != FORMAT or not meta.get("agency") or not meta.get("jimu"):
        raise _refuse("WORKBOOK_NOT_F5", path)
    return meta


def read_workbook(path: Path) -> ReturnedWorkbook:
    """Read a returned F5. Whole-file problems (not a workbook, not ours, a column deleted)
    raise ``TenkenInputError``; row-level checks are the importer's."""
    reader = _open(path)
    meta = _meta(reader, path)
    sheet = reader.load_sheet_by_name(SHEET, dtypes="string").to_polars()
    wanted = {
        title: code
        for title, code in (*READONLY_COLUMNS, *((c.contract, c.name) for c in CASE_STAFF_COLUMNS))
    }
    missing = [title for title in wanted if title not in sheet.columns]
    if missing:
        raise _refuse("WORKBOOK_COLUMN_MISSING", path, "、".join(missing))
    rows = (
        sheet.select(list(wanted))
        .rename(wanted)
        .with_row_index("excel_row", offset=FIRST_ROW)
        .with_columns(pl.col("excel_row").cast(pl.Int64))
    )
    rows = rows.filter(pl.any_horizontal([pl.col(c).is_not_null() for c in wanted.values()]))
    checks_raw = reader.load_sheet_by_name(CHECK_SHEET, dtypes="string").to_polars()
    checks = checks_raw.select(pl.col("case_id"), pl.col("readonly_hash"), pl.col("staff_hash")).drop_nulls(
        "case_id"
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return ReturnedWorkbook(path=path, sha256=digest, meta=meta, rows=rows, checks=checks)
