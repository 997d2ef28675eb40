"""不一致確認: the cases of a round (every B and C, every 要修正 row) and the F5 workbook.

Grain: one row per case. Cases are sorted by priority (dangerous first), then case id.
``build_cases`` finds the cases in one run of 照合; ``review_round`` merges them into the
case store (``pipelines.cases``), applies a workbook staff returned, and writes F5 from the
store, so staff work survives every re-run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.cases.importer import ImportResult, import_workbook
from pipelines.cases.merge import merge_round
from pipelines.cases.store import CaseStore, timestamp
from pipelines.cases.workbook import sort_for_staff
from pipelines.cases.workbook_writer import write_workbook
from pipelines.errors import CATALOGUE
from schemas.cases import ReviewedCases
from schemas.codes import Grade, Scope
from schemas.mismatch_review import CASE_COLUMNS

F5_FILE = "確認作業リスト.xlsx"
NEEDS_FIX_PRIORITY = 5


def _problem_text(codes: pl.Expr) -> pl.Expr:
    """``MYNUMBER_CHECK_DIGIT,DATE_FUTURE`` → the Japanese messages, for 判定理由."""
    return (
        codes.str.split(",")
        .list.eval(pl.element().replace_strict({k: v[0] for k, v in CATALOGUE.items()}, default=pl.element()))
        .list.join("・")
    )


Frame = pl.DataFrame | pl.LazyFrame


def build_cases(extract_records: Frame, match_results: Frame | None) -> pl.DataFrame:
    """The cases of one agency × 事務 × 点検回 (MismatchCases), dangerous first.

    Lazy frames are read for the B, C and 要修正 rows only.
    """
    text_cols = [c for _, c in CASE_COLUMNS if c not in ("case_id", "priority", "my_number_masked")]
    parts = []
    graded = (
        match_results.lazy().filter(pl.col("grade").is_in([Grade.B.value, Grade.C.value])).collect()
        if match_results is not None
        else None
    )
    if graded is not None and graded.height:
        parts.append(
            graded.select(
                pl.format("{}-{}", pl.col("round_id"), pl.col("inquiry_no")).alias("case_id"),
                "round_id",
                pl.col("priority").cast(pl.Int64),
                "my_number",
                *[
                    (pl.col(c).dt.strftime("%Y%m%d") if graded.schema[c] == pl.Date else pl.col(c)).alias(c)
                    for c in text_cols
                ],
            )
        )
    needs_fix = extract_records.lazy().filter(pl.col("scope") == Scope.NEEDS_FIX.value).collect()
    if needs_fix.height:
        parts.append(
            needs_fix.select(
                pl.format("{}-R{}", pl.col("round_id"), pl.col("line").cast(pl.String).str.zfill(7)).alias(
                    "case_id"
                ),
                "round_id",
                pl.lit(NEEDS_FIX_PRIORITY, dtype=pl.Int64).alias("priority"),
                "my_number",
                pl.lit(Scope.NEEDS_FIX.value).alias("grade"),
                _problem_text(pl.col("problem_codes")).alias("grade_reason"),
                pl.lit("入力誤り（業務データの修正が必要）").alias("likely_cause"),
                pl.lit(None, dtype=pl.String).alias("likely_owner"),
                "atena_no",
                pl.lit(None, dtype=pl.String).alias("inquiry_no"),
                *[
                    pl.lit(None, dtype=pl.String).alias(f"judgement_{f}")
                    for f in ("name", "kana", "birth_date", "sex", "municipality", "town")
                ],
                pl.col("name").alias("biz_name"),
                pl.lit(None, dtype=pl.String).alias("juki_name"),
                pl.col("name_kana").alias("biz_kana"),
                pl.lit(None, dtype=pl.String).alias("juki_kana"),
                pl.col("birth_date_text").alias("biz_birth_date"),
                pl.lit(None, dtype=pl.String).alias("juki_birth_date"),
                pl.col("sex").alias("biz_sex"),
                pl.lit(None, dtype=pl.String).alias("juki_sex"),
                pl.col("address").alias("biz_address"),
                pl.lit(None, dtype=pl.String).alias("juki_address"),
            )
        )
    columns = ["case_id", "round_id", "priority", "my_number", *text_cols]
    if not parts:
        return pl.DataFrame(schema={c: (pl.Int64 if c == "priority" else pl.String) for c in columns})
    cases = pl.concat([p.select(columns) for p in parts], how="vertical").sort(["priority", "case_id"])
    return cases


def export_workbook(
    store: CaseStore, agency: str, jimu: str, round_id: str, path: Path, *, info: Mapping[str, str]
) -> int:
    """Write F5 for one agency × 事務 × 点検回 from the store (staff inputs pre-filled)."""
    cases, _ = _export(store, agency, jimu, round_id, path, info=info)
    return cases.height


def _export(
    store: CaseStore, agency: str, jimu: str, round_id: str, path: Path, *, info: Mapping[str, str]
) -> tuple[pl.DataFrame, tuple[int, str]]:
    """``export_workbook``, returning the case records written and the chain head of the
    same read: 不一致確認 reports both, and reading 77k cases again costs a second (1M rows)."""
    with store.reading() as conn:
        cases = store.cases_frame(conn, agency, jimu, round_id=round_id)
        head = store.head(conn)
        meta = {
            "agency": agency,
            "jimu": jimu,
            "round_id": round_id,
            "store_id": store.meta(conn, "store_id"),
            "exported_at": timestamp(),
        }
    write_workbook(cases, path, info=info, meta=meta, key=store.key)
    return cases, head


@dataclass(frozen=True)
class ReviewOutcome:
    """What one materialization of 不一致確認 did to the case store."""

    cases: pl.DataFrame  # ReviewedCases of the round
    merged: dict[str, int] | None  # None when 照合 is of another round than the extract
    imported: ImportResult | None
    workbook_rows: int
    head: tuple[int, str]  # the audit chain's last sequence number and hash


def review_round(
    store: CaseStore,
    extract_records: Frame,
    match_results: Frame,
    *,
    agency: str,
    jimu: str,
    workbook: Path,
    info: Mapping[str, str],
    source: str,
    returned_file: Path | None = None,
) -> ReviewOutcome:
    """不一致確認 for one partition: merge 照合 into the store, apply a returned workbook if
    given (all or nothing; raises ``TenkenInputError``), and write F5 from the store.
    """
    round_id = extract_records.lazy().select(pl.col("round_id").first()).collect().item()
    candidates = build_cases(extract_records, match_results)
    # what the merge needs of every 照合 row (the A rows close cases)
    graded = match_results.lazy().select("round_id", "inquiry_no", "atena_no", "grade").collect()
    same_round = graded.height == 0 or graded["round_id"][0] == round_id
    merged = None
    if same_round:
        merged = merge_round(store, agency, jimu, round_id, candidates, graded, source=source)
    imported = None
    if returned_file is not None:
        imported = import_workbook(store, returned_file, expected=(agency, jimu))
    stored, head = _export(store, agency, jimu, round_id, workbook, info=info)
    numbers = candidates.select("case_id", "my_number")
    cases = (
        stored.join(numbers, on="case_id", how="left")
        .select(*ReviewedCases.to_schema().columns)
        .pipe(sort_for_staff)
    )
    return ReviewOutcome(cases, merged, imported, stored.height, head)
