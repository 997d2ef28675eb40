"""定期報告 figures of one agency × 事務 partition.

Grain: one row per agency × 事務 × 点検回. The counts reconcile by construction:
``rows_read = out_of_scope + needs_fix + in_scope`` and
``in_scope = grade_a + grade_b + grade_c + not_inquired``.
"""

from __future__ import annotations

import polars as pl

from schemas.codes import Grade, Scope

#: code column → Japanese header, in report order
FIGURE_LABELS: dict[str, str] = {
    "agency": "団体コード",
    "agency_name": "団体名",
    "jimu": "事務",
    "jimu_name": "事務名",
    "round_id": "点検回",
    "rows_read": "抽出件数",
    "out_of_scope": "対象外件数",
    "needs_fix": "要修正件数",
    "in_scope": "点検対象件数",
    "grade_a": "A件数",
    "grade_b": "B件数",
    "grade_c": "C件数",
    "not_inquired": "未照会件数",
}


class ReconciliationError(AssertionError):
    """The counts of a partition do not add up: something was lost or counted twice."""


def partition_figures(
    extract_records: pl.DataFrame | pl.LazyFrame,
    match_results: pl.DataFrame | pl.LazyFrame | None,
    *,
    agency: str,
    agency_name: str,
    jimu: str,
    jimu_name: str,
) -> pl.DataFrame:
    """The figures row. Lazy frames are read for ``scope``, ``grade`` and ``round_id`` only."""
    queries = [
        extract_records.lazy().select(pl.col("scope").value_counts()).unnest("scope"),
        extract_records.lazy().select(pl.len().alias("rows"), pl.col("round_id").first()),
    ]
    if match_results is not None:
        queries.append(match_results.lazy().select(pl.col("grade").value_counts()).unnest("grade"))
    scope, head, *graded = pl.collect_all(queries)
    by_scope = dict(zip(scope["scope"].to_list(), scope["count"].to_list(), strict=True))
    grades: dict[str, int] = {}
    if graded:
        vc = graded[0]
        grades = dict(zip(vc["grade"].to_list(), vc["count"].to_list(), strict=True))
    rows_read = int(head["rows"].item())
    in_scope = by_scope.get(Scope.IN_SCOPE.value, 0)
    a, b, c = (grades.get(g.value, 0) for g in Grade)
    row = {
        "agency": agency,
        "agency_name": agency_name,
        "jimu": jimu,
        "jimu_name": jimu_name,
        "round_id": head["round_id"].item() if rows_read else "",
        "rows_read": rows_read,
        "out_of_scope": by_scope.get(Scope.OUT_OF_SCOPE.value, 0),
        "needs_fix": by_scope.get(Scope.NEEDS_FIX.value, 0),
        "in_scope": in_scope,
        "grade_a": a,
        "grade_b": b,
        "grade_c": c,
        "not_inquired": in_scope - (a + b + c),
    }
    check_reconciles(row)
    return pl.DataFrame([row])


def check_reconciles(row: dict[str, object]) -> None:
    def n(key: str) -> int:
        value = row[key]
        assert isinstance(value, int)
        return value

    if n("rows_read") != n("out_of_scope") + n("needs_fix") + n("in_scope"):
        raise ReconciliationError(f"抽出件数が合いません: {row}")
    if (
        n("in_scope") != n("grade_a") + n("grade_b") + n("grade_c") + n("not_inquired")
        or n("not_inquired") < 0
    ):
        raise ReconciliationError(f"点検対象件数が合いません: {row}")
