"""F5 確認作業リスト.xlsx: written for staff from the case store, read back when they return it.

The sheet 確認作業リスト holds one row per case: open cases first, by priority, then the
closed ones. Comparison columns (and the previous round's outcome) are locked and grey; the
columns staff fill in are unlocked, pre-filled with what the store holds, and restricted to
the allowed values by Excel data validation (lists, and dates not in the future). The sheet
is protected without a password so filters and sorting still work.

A hidden sheet ``_検証`` keeps, per case, a keyed hash of the read-only cells and of the
staff cells as written, plus the partition the workbook belongs to. When the workbook comes
back, an edited comparison column is detected, and so is a row staff did not touch (it is
not applied over newer work in the store). The key lives in the store, so the hashes cannot
simply be recomputed by hand. Cell text is always written as text (never as a formula): a
name such as ``=HYPERLINK(...)`` stays inert, and a text cell starting with = + - @, tab or
CR also carries Excel's quote prefix (the apostrophe of a typed ``'=…``, kept in the style,
not the value), so editing the cell in Excel does not turn it into a formula either. The
value itself is unchanged, so the round trip and its hashes are unaffected.

Writing is in bulk: xlsxwriter lays the workbook out (formats, column widths, data
validation, protection, header rows, the 説明 sheet) without data rows, and polars builds the
data rows of the two big sheets as XML, a column at a time, streamed into the package in
place of xlsxwriter's empty ``<sheetData>``: the same cells, styles and escapes xlsxwriter
writes for an inline string (its ``constant_memory`` form), without its Python cost per cell
(≈13 µs). Only the keyed hashes of ``_検証`` are computed row by row.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

import fastexcel
import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from pipelines.errors import Problem, TenkenInputError
from pipelines.outputs import XLSX_OPTIONS
from pipelines.privacy import private_file
from schemas.cases import CASE_STAFF_COLUMNS, HISTORY_COLUMNS, OPEN_STATES, SPECS, STATES
from schemas.mismatch_review import CASE_COLUMNS

JST = ZoneInfo("Asia/Tokyo")

SHEET = "確認作業リスト"
CHECK_SHEET = "_検証"
HELP_SHEET = "説明"
FORMAT = "tenken-f5-cases-1"

#: every read-only column of F5, in order: (header, code column)
READONLY_COLUMNS: tuple[tuple[str, str], ...] = (*CASE_COLUMNS, *HISTORY_COLUMNS)
#: the first data row of the sheet as Excel numbers rows (row 1 is the header)
FIRST_ROW = 2
#: keys of the partition block in ``_検証`` (column F: key, column G: value)
META_KEYS = ("format", "agency", "jimu", "round_id", "store_id", "exported_at")


def _keyed(key: bytes, joined: pl.Series) -> pl.Series:
    return pl.Series(
        [hmac.digest(key, v.encode("utf-8"), "sha256").hex()[:32] for v in joined],
        dtype=pl.String,
    )


def _joined(frame: pl.DataFrame, columns: list[str]) -> pl.Series:
    return frame.select(
        pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in columns], separator="\x1f")
    ).to_series()


def readonly_hashes(frame: pl.DataFrame, key: bytes) -> pl.Series:
    """Keyed hash over the read-only cells of each row, as the workbook shows them (text)."""
    return _keyed(key, _joined(frame, [c for _, c in READONLY_COLUMNS]))


def staff_text(frame: pl.DataFrame) -> pl.DataFrame:
    """The staff columns in one canonical text form: trimmed, blank as "", dates YYYY-MM-DD.

    Both the store's values (export) and the cells read back (import, after date parsing)
    go through here, so equal content gives equal text and equal hashes.
    """
    out = []
    for col in CASE_STAFF_COLUMNS:
        c = pl.col(col.name)
        if frame.schema[col.name] == pl.Date:
            c = c.dt.strftime("%Y-%m-%d")
        out.append(c.cast(pl.String).str.strip_chars().fill_null("").alias(col.name))
    return frame.select(pl.col("case_id"), *out)


def staff_hashes(staff: pl.DataFrame, key: bytes) -> pl.Series:
    """Keyed hash over the canonical staff text of each row (``staff_text``)."""
    return _keyed(key, _joined(staff, [c.name for c in CASE_STAFF_COLUMNS]))


def sort_for_staff(frame: pl.DataFrame) -> pl.DataFrame:
    """Open cases first, the dangerous ones first (priority), then the closed ones."""
    return frame.sort(
        pl.col("state").is_in(list(OPEN_STATES)).not_(), "priority", "case_id", maintain_order=True
    )


#: first characters that make Excel evaluate what is typed into a cell (formula, DDE)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


#: rows of sheet XML built and compressed at a time (bounds memory for large rounds)
XML_CHUNK_ROWS = 50_000
#: xlsxwriter's escapes for cell text: control characters (but tab and newline) and the two
#: non-characters become ``_xHHHH_``, after a literal ``_xHHHH_`` got its underscore escaped
_CONTROL_ESCAPES = {chr(c): f"_x{c:04X}_" for c in (*range(0x00, 0x09), *range(0x0B, 0x20))} | {
    "\ufffe": "_xFFFE_",
    "\uffff": "_xFFFF_",
}
_XML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
#: both at once: no escape of one contains a character of the other
_CELL_ESCAPES = _CONTROL_ESCAPES | _XML_ESCAPES
#: white space that xlsxwriter keeps with ``xml:space="preserve"`` at either end of a text
_SPACE = r"[\t\n \x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
#: Excel's limit on the text of one cell (UTF-16 units); xlsxwriter truncates beyond it
_MAX_CELL_TEXT = 32767
#: day 0 of Excel's serial dates, for dates from 1900-03-01 on
_EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class _Cells:
    """One column of a sheet's data rows: values, cell style, and the style of a text that
    starts like a formula (``inert``, Excel's quote prefix)."""

    col: int
    values: pl.Expr
    xf: int
    inert: int | None = None
    is_date: bool = False


def _style(c: _Cells, text: pl.Expr) -> pl.Expr:
    if c.inert is None:
        return pl.lit(str(c.xf))
    starts = text.str.contains(r"^[=+\-@\t\r]")  # _FORMULA_START
    return pl.when(starts).then(pl.lit(str(c.inert))).otherwise(pl.lit(str(c.xf)))


def _cell(c: _Cells, ref: pl.Expr) -> pl.Expr:
    """The ``<c>`` element xlsxwriter writes for this value, or null for no cell (empty)."""
    if c.is_date:
        serial = (c.values - pl.lit(_EXCEL_EPOCH)).dt.total_days().cast(pl.String)
        return pl.concat_str(pl.lit('<c r="'), ref, pl.lit(f'" s="{c.xf}"><v>'), serial, pl.lit("</v></c>"))
    text = c.values
    # xlsxwriter's order: a literal _xHHHH_ first, then control characters, then XML
    literal = pl.when(text.str.contains("_x", literal=True))
    unescaped = literal.then(text.str.replace_all(r"(_x[0-9a-fA-F]{4}_)", "_x005F${1}")).otherwise(text)
    # xml:space="preserve" where the escaped text starts or ends with what Python's ``\s``
    # matches (control characters are escaped by then)
    preserve = pl.when(text.str.contains(rf"^{_SPACE}|{_SPACE}$"))
    return (
        pl.when(text != "")
        .then(
            pl.concat_str(
                pl.lit('<c r="'),
                ref,
                pl.lit('" s="'),
                _style(c, text),
                pl.lit('" t="inlineStr"><is><t'),
                preserve.then(pl.lit(' xml:space="preserve"')).otherwise(pl.lit("")),
                pl.lit(">"),
                unescaped.str.replace_many(_CELL_ESCAPES),
                pl.lit("</t></is></c>"),
            )
        )
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _rows_xml(frame: pl.DataFrame, cells: Sequence[_Cells], first_row: int) -> Iterator[bytes]:
    """``<row>`` elements for ``frame`` from Excel row ``first_row`` on, in chunks of bytes."""
    ordered = sorted(cells, key=lambda c: c.col)
    for offset in range(0, frame.height, XML_CHUNK_ROWS):
        part = frame.slice(offset, XML_CHUNK_ROWS)
        number = (pl.int_range(pl.len(), dtype=pl.Int64) + (first_row + offset)).cast(pl.String)
        xml = [_cell(c, pl.lit(xl_col_to_name(c.col)) + number) for c in ordered]
        rows = pl.concat_str(
            [pl.lit('<row r="'), number, pl.lit('">'), *xml, pl.lit("</row>")], ignore_nulls=True
        )
        yield part.select(rows.str.join("")).item().encode("utf-8")


def _as_written(text: pl.Expr) -> pl.Expr:
    """Text as xlsxwriter stores it: at most Excel's 32,767 UTF-16 units a cell."""
    return (
        pl.when(text.str.len_chars() > _MAX_CELL_TEXT // 2)
        .then(
            text.map_elements(_truncate, return_dtype=pl.String)  # only the rare very long values
        )
        .otherwise(text)
    )


def _truncate(text: str) -> str:
    units = text.encode("utf-16-le")
    if len(units) <= 2 * _MAX_CELL_TEXT:
        return text
    return units[: 2 * _MAX_CELL_TEXT].decode("utf-16-le", errors="ignore")


def _inject(package: bytes, out: IO[bytes], rows: Mapping[str, tuple[Iterator[bytes], str]]) -> None:
    """Copy the xlsx ``package`` to ``out``, adding ``rows[part]`` (chunks of ``<row>``
    XML, and the sheet's new dimension) after the rows xlsxwriter wrote in that sheet."""
    with (
        zipfile.ZipFile(io.BytesIO(package)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename not in rows:
                dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
                continue
            chunks, dimension = rows[info.filename]
            xml = re.sub(
                r'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>', data.decode("utf-8"), count=1
            )
            cut = xml.index("</sheetData>")
            with dst.open(info.filename, "w", force_zip64=True) as fh:  # compresslevel 1
                fh.write(xml[:cut].encode("utf-8"))
                for chunk in chunks:
                    fh.write(chunk)
                fh.write(xml[cut:].encode("utf-8"))


def write_workbook(
    cases: pl.DataFrame,
    path: Path,
    *,
    info: Mapping[str, str],
    meta: Mapping[str, str],
    key: bytes,
) -> int:
    """Write F5 (0600, atomic) from case records of the store. Returns rows written.

    ``cases`` holds the read-only columns (``READONLY_COLUMNS``) and the staff columns
    (``CASE_STAFF_COLUMNS``; dates as ``pl.Date``). ``meta`` names the partition (``META_KEYS``
    but ``format``); ``key`` is the store's workbook key.
    """
    frame = sort_for_staff(cases)
    n = frame.height
    staff = staff_text(frame)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, XLSX_OPTIONS)
    header = book.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top", "locked": True}
    )
    staff_header = book.add_format(
        {"bold": True, "bg_color": "#FFF2CC", "border": 1, "text_wrap": True, "valign": "top", "locked": True}
    )
    ro = book.add_format({"bg_color": "#F2F2F2", "locked": True})
    ro_inert = book.add_format({"bg_color": "#F2F2F2", "locked": True, "quote_prefix": True})
    ro_c = book.add_format({"bg_color": "#FCE4D6", "locked": True, "bold": True})
    editable = book.add_format({"locked": False})
    editable_inert = book.add_format({"locked": False, "quote_prefix": True})
    editable_date = book.add_format({"locked": False, "num_format": "yyyy/mm/dd"})

    sheet = book.add_worksheet(SHEET)
    # cells take their column's format (grey and locked, or open for input); only non-empty
    # cells are written, in bulk after xlsxwriter has laid the sheet out (``_inject``)
    for j, (title, code) in enumerate(READONLY_COLUMNS):
        sheet.write_string(0, j, title, header)
        wide = code in ("grade_reason", "likely_cause", "biz_address", "juki_address")
        sheet.set_column(j, j, 28 if wide else 14, ro)
    grade_col = [c for _, c in READONLY_COLUMNS].index("grade")
    if n:
        sheet.conditional_format(
            1, grade_col, n, grade_col, {"type": "cell", "criteria": "==", "value": '"C"', "format": ro_c}
        )
    base = len(READONLY_COLUMNS)
    today = datetime.now(JST).date()  # the day as the importer counts it (Japan)
    for k, col in enumerate(CASE_STAFF_COLUMNS):
        j = base + k
        sheet.write_string(0, j, col.contract, staff_header)
        sheet.set_column(j, j, col.width, editable_date if col.is_date else editable)
        if n == 0:
            continue
        if col.choices:
            sheet.data_validation(
                1,
                j,
                n,
                j,
                {
                    "validate": "list",
                    "source": list(col.choices),
                    "error_title": col.contract,
                    "error_message": "一覧から選んでください: " + "、".join(col.choices),
                },
            )
        elif col.is_date:
            sheet.data_validation(
                1,
                j,
                n,
                j,
                {
                    "validate": "date",
                    "criteria": "between",
                    "minimum": datetime(2000, 1, 1),
                    "maximum": "=TODAY()",
                    "error_title": col.contract,
                    "error_message": f"日付（{today:%Y/%m/%d} 以前）を入力してください",
                },
            )
    last_col = base + len(CASE_STAFF_COLUMNS) - 1
    sheet.freeze_panes(1, 3)
    sheet.autofilter(0, 0, max(n, 1), last_col)
    sheet.protect(
        "",
        {
            "autofilter": True,
            "sort": True,
            "format_columns": True,
            "format_rows": True,
            "select_locked_cells": True,
            "select_unlocked_cells": True,
        },
    )

    check = book.add_worksheet(CHECK_SHEET)
    check.write_row(0, 0, ["case_id", "readonly_hash", "staff_hash"])
    block = {"format": FORMAT, **meta}
    check.write_string(0, 5, META_KEYS[0])
    check.write_string(0, 6, block.get(META_KEYS[0], ""))
    check.hide()

    _write_help(book, info, n)
    # the style numbers of the data cells' formats; asking registers a format in styles.xml
    # even though no cell xlsxwriter writes uses it (the data cells are added below)
    xf = {f: f._get_xf_index() for f in (ro, ro_inert, editable, editable_inert, editable_date)}
    book.close()

    data = [
        _Cells(j, _as_written(pl.col(code).cast(pl.String)), xf[ro], xf[ro_inert])
        for j, (_, code) in enumerate(READONLY_COLUMNS)
    ]
    for k, col in enumerate(CASE_STAFF_COLUMNS):
        if frame.schema[col.name] == pl.Date:
            data.append(_Cells(base + k, pl.col(col.name), xf[editable_date], is_date=True))
        else:
            values = _as_written(pl.col(col.name).cast(pl.String))
            data.append(_Cells(base + k, values, xf[editable], xf[editable_inert]))
    # ``_検証``: a row of hashes per case; rows 2–6 also hold the rest of the partition block
    rest = [(k, block.get(k, "")) for k in META_KEYS[1:]]
    height = max(n, len(rest))
    padding = [None] * (height - n)
    checks = pl.DataFrame(
        {
            "case_id": [*frame["case_id"], *padding],
            "readonly_hash": [*readonly_hashes(frame, key), *padding],
            "staff_hash": [*staff_hashes(staff, key), *padding],
            "meta_key": [k for k, _ in rest] + [None] * (height - len(rest)),
            "meta_value": [v for _, v in rest] + [None] * (height - len(rest)),
        },
        schema=dict.fromkeys(("case_id", "readonly_hash", "staff_hash", "meta_key", "meta_value"), pl.String),
    )
    plain = 0  # xlsxwriter's default style, as write_column/write_string without a format
    check_cells = [
        _Cells(j, pl.col(c), plain)
        for j, c in (
            (0, "case_id"),
            (1, "readonly_hash"),
            (2, "staff_hash"),
            (5, "meta_key"),
            (6, "meta_value"),
        )
    ]
    rows = {
        "xl/worksheets/sheet1.xml": (
            _rows_xml(frame, data, FIRST_ROW),
            f"A1:{xl_col_to_name(last_col)}{n + 1}",
        ),
        "xl/worksheets/sheet2.xml": (_rows_xml(checks, check_cells, FIRST_ROW), f"A1:G{height + 1}"),
    }
    with private_file(path) as fh:
        _inject(buffer.getvalue(), fh, rows)
    return n


def _write_help(book: xlsxwriter.Workbook, info: Mapping[str, str], n: int) -> None:
    help_sheet = book.add_worksheet(HELP_SHEET)
    help_sheet.set_column(0, 0, 22)
    help_sheet.set_column(1, 1, 100)
    lines = [
        (
            "確認作業リスト",
            "B（要確認）・C（優先確認）と要修正の案件。未完了の案件を優先度の小さい順に並べています。",
        ),
        (
            "入力する列",
            "黄色の見出しの列のみ入力できます（灰色の列は照合結果で、変更すると取り込めません）。",
        ),
        ("状態", "確認が進んだら「状態」を選び、その状態に必要な列を記入してください（下の表）。"),
        ("確認者", "担当者とは別の人が確認してください（横断的ガイドライン: 登録の二人確認）。"),
        ("個人番号", "下4桁のみ表示しています。番号は業務システムで宛名番号から確認してください。"),
        ("返却", "記入したファイルは受付フォルダ returned/ に置くか、tenken cases import で取り込みます。"),
        *[(k, v) for k, v in info.items()],
        ("作成日時", datetime.now(JST).isoformat(timespec="seconds")),
        ("件数", str(n)),
        ("", ""),
        ("状態ごとに必要な記入", ""),
    ]
    for spec in STATES:
        needs = "、".join(
            dict.fromkeys(
                next(c.contract for c in CASE_STAFF_COLUMNS if c.name == r.field)
                + (f"（{'・'.join(v or '空欄' for v in r.one_of)}）" if r.one_of else "")
                + (f"［確認結果が{'・'.join(r.only_if[1])}のとき］" if r.only_if else "")
                for r in SPECS[spec.state].requires
            )
        )
        lines.append((spec.state.value, f"{spec.meaning}。必要: {needs or 'なし'}"))
    for row, (k, v) in enumerate(lines):
        help_sheet.write_string(row, 0, k)
        help_sheet.write_string(row, 1, v)


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
