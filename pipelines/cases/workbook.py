"""F5 確認作業リスト.xlsx: what the writer and the reader agree on.

The sheet 確認作業リスト holds one row per case: open cases first, by priority, then the
closed ones. Comparison columns (and the previous round's outcome) are locked and grey; the
columns staff fill in are unlocked, pre-filled with what the store holds, and restricted to
the allowed values by Excel data validation (lists, and dates not in the future). The sheet
is protected without a password so filters and sorting still work.

A hidden sheet ``_検証`` keeps, per case, a keyed hash of the read-only cells and of the
staff cells as written, plus the partition the workbook belongs to. When the workbook comes
back, an edited comparison column is detected, and so is a row staff did not touch (it is
not applied over newer work in the store). The key lives in the store, so the hashes cannot
simply be recomputed by hand.

Writing: ``pipelines.cases.workbook_writer``; reading back: ``pipelines.cases.workbook_reader``;
validating and applying a returned workbook: ``pipelines.cases.importer``.
"""

from __future__ import annotations

import hmac

import polars as pl

from pipelines.files.xlsx import as_written
from schemas.cases import CASE_STAFF_COLUMNS, HISTORY_COLUMNS, OPEN_STATES
from schemas.mismatch_review import CASE_COLUMNS

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
    """Keyed hash over the read-only cells of each row, as the workbook shows them: text,
    cut to what an Excel cell holds as the writer cuts it (``as_written``), so an export's
    hashes and those of its cells read back compare like with like even for a value longer
    than a cell holds (such a row would otherwise be refused as edited in every export)."""
    codes = [c for _, c in READONLY_COLUMNS]
    return _keyed(
        key, _joined(frame.select(as_written(pl.col(c).cast(pl.String)).alias(c) for c in codes), codes)
    )


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
