"""F5 確認作業リスト.xlsx: written for staff, read back when they return it.

The sheet 確認作業リスト holds one row per case, sorted by priority. Comparison columns
are locked and grey; the columns staff fill in are unlocked and restricted to the allowed
values by Excel data validation (lists, and dates not in the future). The sheet is
protected without a password so filters and sorting still work.

A hidden sheet ``_検証`` keeps, per case, a hash of the read-only cells as written, so an
edited comparison column is detected when the workbook comes back. Cell text is always
written as text (never as a formula): a name such as ``=HYPERLINK(...)`` stays inert.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from pipelines.privacy import write_private
from schemas.mismatch_review import CASE_COLUMNS, STAFF_COLUMNS

SHEET = "確認作業リスト"
CHECK_SHEET = "_検証"
HELP_SHEET = "説明"


def row_hashes(frame: pl.DataFrame) -> pl.Series:
    """sha256 over the read-only cells of each row, as the workbook shows them."""
    cols = [c for _, c in CASE_COLUMNS]
    joined = frame.select(
        pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in cols], separator="\x1f")
    ).to_series()
    return pl.Series("row_hash", [hashlib.sha256(v.encode("utf-8")).hexdigest()[:32] for v in joined])


def write_workbook(
    cases: pl.DataFrame,
    path: Path,
    *,
    info: Mapping[str, str],
    staff_values: pl.DataFrame | None = None,
) -> int:
    """Write F5 (0600, atomic). ``cases`` must have ``my_number_masked``. Returns rows written.

    ``staff_values`` (case_id + staff columns) pre-fills what staff already entered.
    """
    frame = cases
    if staff_values is not None:
        frame = frame.join(staff_values, on="case_id", how="left")
    for col in STAFF_COLUMNS:
        if col.name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(col.name))
    n = frame.height
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    header = book.add_format(
        {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top", "locked": True}
    )
    staff_header = book.add_format(
        {"bold": True, "bg_color": "#FFF2CC", "border": 1, "text_wrap": True, "valign": "top", "locked": True}
    )
    ro = book.add_format({"bg_color": "#F2F2F2", "locked": True})
    ro_c = book.add_format({"bg_color": "#FCE4D6", "locked": True, "bold": True})
    editable = book.add_format({"locked": False})
    editable_date = book.add_format({"locked": False, "num_format": "yyyy/mm/dd"})

    sheet = book.add_worksheet(SHEET)
    ro_cols = list(CASE_COLUMNS)
    for j, (title, code) in enumerate(ro_cols):
        sheet.write_string(0, j, title, header)
        values = frame[code].cast(pl.String).fill_null("").to_list() if code in frame.columns else [""] * n
        fmt = ro
        sheet.write_column(1, j, values, fmt)
        sheet.set_column(
            j, j, 14 if code not in ("grade_reason", "likely_cause", "biz_address", "juki_address") else 28
        )
    grade_col = [c for _, c in ro_cols].index("grade")
    if n:
        sheet.conditional_format(
            1, grade_col, n, grade_col, {"type": "cell", "criteria": "==", "value": '"C"', "format": ro_c}
        )
    base = len(ro_cols)
    today = datetime.now().date()
    for k, col in enumerate(STAFF_COLUMNS):
        j = base + k
        sheet.write_string(0, j, col.contract, staff_header)
        sheet.set_column(j, j, col.width, editable_date if col.is_date else editable)
        values = frame[col.name].cast(pl.String).fill_null("").to_list()
        for i, v in enumerate(values):
            if v:
                sheet.write_string(i + 1, j, v, editable)
            else:
                sheet.write_blank(i + 1, j, None, editable_date if col.is_date else editable)
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
    sheet.freeze_panes(1, 3)
    sheet.autofilter(0, 0, max(n, 1), base + len(STAFF_COLUMNS) - 1)
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
    check.write_row(0, 0, ["case_id", "row_hash"])
    check.write_column(1, 0, frame["case_id"].to_list())
    check.write_column(1, 1, row_hashes(frame).to_list())
    check.hide()

    help_sheet = book.add_worksheet(HELP_SHEET)
    help_sheet.set_column(0, 0, 22)
    help_sheet.set_column(1, 1, 80)
    lines = [
        ("確認作業リスト", "B（要確認）・C（優先確認）と要修正の案件。優先度の小さい順に確認してください。"),
        (
            "入力する列",
            "黄色の見出しの列のみ入力できます（灰色の列は照合結果で、変更すると取り込めません）。",
        ),
        ("確認者", "担当者とは別の人が確認してください（横断的ガイドライン: 登録の二人確認）。"),
        ("個人番号", "下4桁のみ表示しています。番号は業務システムで宛名番号から確認してください。"),
        *[(k, v) for k, v in info.items()],
        ("作成日時", datetime.now().isoformat(timespec="seconds")),
        ("件数", str(n)),
    ]
    for row, (key, value) in enumerate(lines):
        help_sheet.write_string(row, 0, key)
        help_sheet.write_string(row, 1, value)
    book.close()
    write_private(path, buffer.getvalue())
    return n
