"""Writing F5 確認作業リスト.xlsx for staff from the case store.

Cell text is always written as text (never as a formula): a name such as
``=HYPERLINK(...)`` stays inert, and a text cell starting with = + - @, tab or CR also carries
Excel's quote prefix (the apostrophe of a typed ``'=…``, kept in the style, not the value), so
editing the cell in Excel does not turn it into a formula either. The value itself is
unchanged, so the round trip and its hashes are unaffected.

Writing is in bulk (``pipelines.files.xlsx``): xlsxwriter lays the workbook out (formats,
column widths, data validation, protection, header rows, the 説明 sheet) without data rows,
and polars builds the data rows of the two big sheets as XML. Only the keyed hashes of
``_検証`` are computed row by row.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import polars as pl
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from pipelines.cases.tables import MASKED_TEXT_FIELDS
from pipelines.cases.workbook import (
    CHECK_SHEET,
    FIRST_ROW,
    FORMAT,
    HELP_SHEET,
    META_KEYS,
    READONLY_COLUMNS,
    SHEET,
    readonly_hashes,
    sort_for_staff,
    staff_hashes,
    staff_text,
)
from pipelines.clock import now, today
from pipelines.files.xlsx import (
    DEFAULT_STYLE,
    XLSX_OPTIONS,
    Cells,
    as_written,
    inject_rows,
    rows_xml,
    style_number,
)
from pipelines.privacy import private_file, scrub_column
from schemas.cases import CASE_STAFF_COLUMNS, SPECS, STATES

#: the case sheet's staff columns start after every read-only column
STAFF_BASE = len(READONLY_COLUMNS)
#: the last column of the case sheet (0-based)
LAST_COL = STAFF_BASE + len(CASE_STAFF_COLUMNS) - 1
_WIDE = ("grade_reason", "likely_cause", "biz_address", "juki_address")


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
    # a case stored before number-like runs were masked on merge is masked here too, before
    # the keyed hashes, so the workbook and its hashes agree
    frame = sort_for_staff(cases)
    frame = frame.with_columns(scrub_column(frame[c]) for c in MASKED_TEXT_FIELDS if c in frame.columns)
    n = frame.height
    block = {"format": FORMAT, **meta}
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, XLSX_OPTIONS)
    styles = _Styles(book)
    _lay_out_case_sheet(book, styles, n)
    _lay_out_check_sheet(book, block)
    _write_help(book, info, n)
    # the style numbers of the data cells' formats; asking registers a format in styles.xml
    # even though no cell xlsxwriter writes uses it (the data cells are injected below)
    cells = _case_cells(frame, styles)
    book.close()

    checks = _check_rows(frame, block, key)
    rows = {
        "xl/worksheets/sheet1.xml": (
            rows_xml(frame, cells, FIRST_ROW),
            f"A1:{xl_col_to_name(LAST_COL)}{n + 1}",
        ),
        "xl/worksheets/sheet2.xml": (
            rows_xml(checks, _CHECK_CELLS, FIRST_ROW),
            f"A1:G{checks.height + 1}",
        ),
    }
    with private_file(path) as fh:
        inject_rows(buffer.getvalue(), fh, rows)
    return n


class _Styles:
    """The formats of F5: blue read-only headers, yellow staff headers, grey locked cells."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        head = {"bold": True, "border": 1, "text_wrap": True, "valign": "top", "locked": True}
        self.header = book.add_format({**head, "bg_color": "#DDEBF7"})
        self.staff_header = book.add_format({**head, "bg_color": "#FFF2CC"})
        self.ro = book.add_format({"bg_color": "#F2F2F2", "locked": True})
        self.ro_inert = book.add_format({"bg_color": "#F2F2F2", "locked": True, "quote_prefix": True})
        self.ro_c = book.add_format({"bg_color": "#FCE4D6", "locked": True, "bold": True})
        self.editable = book.add_format({"locked": False})
        self.editable_inert = book.add_format({"locked": False, "quote_prefix": True})
        self.editable_date = book.add_format({"locked": False, "num_format": "yyyy/mm/dd"})


def _lay_out_case_sheet(book: xlsxwriter.Workbook, styles: _Styles, n: int) -> None:
    """Headers, column formats, validation lists, filter and protection; no data rows.

    Cells take their column's format (grey and locked, or open for input); only non-empty
    cells are written, in bulk after xlsxwriter has laid the sheet out.
    """
    sheet = book.add_worksheet(SHEET)
    for j, (title, code) in enumerate(READONLY_COLUMNS):
        sheet.write_string(0, j, title, styles.header)
        sheet.set_column(j, j, 28 if code in _WIDE else 14, styles.ro)
    grade_col = [c for _, c in READONLY_COLUMNS].index("grade")
    if n:
        c_rule = {"type": "cell", "criteria": "==", "value": '"C"', "format": styles.ro_c}
        sheet.conditional_format(1, grade_col, n, grade_col, c_rule)
    for k, col in enumerate(CASE_STAFF_COLUMNS):
        j = STAFF_BASE + k
        sheet.write_string(0, j, col.contract, styles.staff_header)
        sheet.set_column(j, j, col.width, styles.editable_date if col.is_date else styles.editable)
        if n:
            validation = _validation(col.contract, col.choices, col.is_date)
            if validation:
                sheet.data_validation(1, j, n, j, validation)
    sheet.freeze_panes(1, 3)
    sheet.autofilter(0, 0, max(n, 1), LAST_COL)
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


def _validation(title: str, choices: tuple[str, ...], is_date: bool) -> dict[str, object] | None:
    """Excel's data validation of a staff column: a list of the allowed values, or a date
    not after today (the day as the importer counts it, in Japan)."""
    if choices:
        return {
            "validate": "list",
            "source": list(choices),
            "error_title": title,
            "error_message": "一覧から選んでください: " + "、".join(choices),
        }
    if is_date:
        return {
            "validate": "date",
            "criteria": "between",
            "minimum": datetime(2000, 1, 1),
            "maximum": "=TODAY()",
            "error_title": title,
            "error_message": f"日付（{today():%Y/%m/%d} 以前）を入力してください",
        }
    return None


def _lay_out_check_sheet(book: xlsxwriter.Workbook, block: Mapping[str, str]) -> None:
    """The hidden ``_検証`` sheet: its header and the first key of the partition block."""
    check = book.add_worksheet(CHECK_SHEET)
    check.write_row(0, 0, ["case_id", "readonly_hash", "staff_hash"])
    check.write_string(0, 5, META_KEYS[0])
    check.write_string(0, 6, block.get(META_KEYS[0], ""))
    check.hide()


def _case_cells(frame: pl.DataFrame, styles: _Styles) -> list[Cells]:
    """How each column of the case sheet is written: text as xlsxwriter would, dates as
    serial numbers, each in its column's style."""
    xf = {
        name: style_number(getattr(styles, name))
        for name in ("ro", "ro_inert", "editable", "editable_inert", "editable_date")
    }
    cells = [
        Cells(j, as_written(pl.col(code).cast(pl.String)), xf["ro"], xf["ro_inert"])
        for j, (_, code) in enumerate(READONLY_COLUMNS)
    ]
    for k, col in enumerate(CASE_STAFF_COLUMNS):
        if frame.schema[col.name] == pl.Date:
            cells.append(Cells(STAFF_BASE + k, pl.col(col.name), xf["editable_date"], is_date=True))
        else:
            values = as_written(pl.col(col.name).cast(pl.String))
            cells.append(Cells(STAFF_BASE + k, values, xf["editable"], xf["editable_inert"]))
    return cells


_CHECK_COLUMNS = ((0, "case_id"), (1, "readonly_hash"), (2, "staff_hash"), (5, "meta_key"), (6, "meta_value"))
_CHECK_CELLS = [Cells(j, pl.col(c), DEFAULT_STYLE) for j, c in _CHECK_COLUMNS]


def _check_rows(frame: pl.DataFrame, block: Mapping[str, str], key: bytes) -> pl.DataFrame:
    """``_検証``: a row of keyed hashes per case; rows 2–6 also hold the rest of the
    partition block (key in column F, value in column G)."""
    n = frame.height
    rest = [(k, block.get(k, "")) for k in META_KEYS[1:]]
    height = max(n, len(rest))
    padding = [None] * (height - n)
    return pl.DataFrame(
        {
            "case_id": [*frame["case_id"], *padding],
            "readonly_hash": [*readonly_hashes(frame, key), *padding],
            "staff_hash": [*staff_hashes(staff_text(frame), key), *padding],
            "meta_key": [k for k, _ in rest] + [None] * (height - len(rest)),
            "meta_value": [v for _, v in rest] + [None] * (height - len(rest)),
        },
        schema=dict.fromkeys([c for _, c in _CHECK_COLUMNS], pl.String),
    )


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
        ("作成日時", now().isoformat(timespec="seconds")),
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
