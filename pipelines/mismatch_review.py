"""不一致確認: the cases of a round (every B and C, every 要修正 row) and the F5 workbook.

Grain: one row per case. Cases are sorted by priority (dangerous first), then case id.
"""

from __future__ import annotations

import polars as pl

from pipelines.errors import CATALOGUE
from pipelines.privacy import mask_expr
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


def build_cases(extract_records: pl.DataFrame, match_results: pl.DataFrame | None) -> pl.DataFrame:
    """The cases of one agency × 事務 × 点検回 (MismatchCases), dangerous first."""
    text_cols = [c for _, c in CASE_COLUMNS if c not in ("case_id", "priority", "my_number_masked")]
    parts = []
    if match_results is not None and match_results.height:
        graded = match_results.filter(pl.col("grade").is_in([Grade.B.value, Grade.C.value]))
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
    needs_fix = extract_records.filter(pl.col("scope") == Scope.NEEDS_FIX.value)
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


def masked_numbers(cases: pl.DataFrame) -> pl.DataFrame:
    """The workbook shows only the last 4 digits of 個人番号."""
    return cases.with_columns(mask_expr("my_number").alias("my_number_masked"))
