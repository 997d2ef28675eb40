"""推定原因: the likely cause of each B and C, computed from the data, most specific first.

Staff work the dangerous cases first, so each case also gets a ``priority`` (1 = first).
The causes are declared as ordered data like the classification rules; the first that
applies wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pipelines.matching.levels import first_match
from schemas.codes import Grade, ResultCode


@dataclass(frozen=True)
class Cause:
    label: str
    priority: int  # 1 = work first
    condition: pl.Expr


def _j(field: str, value: str) -> pl.Expr:
    return pl.col(f"judgement_{field}") == value


def causes() -> tuple[Cause, ...]:
    not_found = pl.col("result_code") == ResultCode.NOT_FOUND.value
    deleted = pl.col("result_code") == ResultCode.DELETED.value
    error = pl.col("result_code") == ResultCode.ERROR.value
    duplicated = pl.col("number_shared_by").is_not_null()
    return (
        Cause("番号重複（同じ個人番号が別の宛名番号にもある）", 1, duplicated),
        Cause("該当なし（存在しない個人番号）", 1, not_found),
        Cause("消除者", 2, deleted),
        Cause("照会エラー（再照会が必要）", 3, error),
    )


def add_causes(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``likely_cause`` and ``priority`` to B and C rows (null/9 for A)."""
    is_case = pl.col("grade").is_in([Grade.B.value, Grade.C.value])
    found = [(is_case & c.condition, c) for c in causes()]
    default_prio = (
        pl.when(pl.col("grade") == Grade.C.value)
        .then(pl.lit(4))
        .when(pl.col("grade") == Grade.B.value)
        .then(pl.lit(6))
        .otherwise(pl.lit(9))
    )
    return frame.with_columns(
        first_match([(cond, pl.lit(c.label)) for cond, c in found], pl.lit(None, dtype=pl.String)).alias(
            "likely_cause"
        ),
        first_match([(cond, pl.lit(c.priority)) for cond, c in found], default_prio)
        .cast(pl.Int8)
        .alias("priority"),
    )
