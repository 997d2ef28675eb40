"""The annual recheck calendar: when each agency × 事務 last completed a round, when the next
is due, and which are overdue.

The guideline asks for a recheck about once a year for every 事務 whose people are never
seen (seed 002); the interval is configurable per agency × 事務 (``recheck:`` in tenken.yaml).
A round is *completed* when its phase 2 (照合) has run; a partition that has never completed
one is due now but not overdue (nothing to measure the interval from).

Grain: one row per expected agency × 事務.
"""

from __future__ import annotations

from datetime import date

import polars as pl

STATUS_OVERDUE = "期限超過"
STATUS_DUE_SOON = "期限間近"
STATUS_OK = "予定どおり"
STATUS_NEVER = "未実施"

STATUS_SCHEMA = {
    "agency": pl.String,
    "jimu": pl.String,
    "last_round": pl.String,
    "last_completed": pl.Date,
    "interval_months": pl.Int64,
    "next_due": pl.Date,
    "status": pl.String,
    "open_cases": pl.Int64,
}
LABELS = {
    "agency": "団体コード",
    "jimu": "事務",
    "last_round": "前回の点検回",
    "last_completed": "前回の照合完了日",
    "interval_months": "周期（月）",
    "next_due": "次回期限",
    "status": "状況",
    "open_cases": "未完了の案件",
}


def recheck_status(
    expected: pl.DataFrame,
    rounds: pl.DataFrame,
    open_cases: pl.DataFrame,
    intervals: pl.DataFrame,
    *,
    today: date,
    due_soon_days: int = 30,
) -> pl.DataFrame:
    """Last round, next due date and status of every expected partition.

    ``rounds``: agency, jimu, round_id, phase, completed_at (ISO text);
    ``open_cases``: agency, jimu, open_cases; ``intervals``: agency, jimu, interval_months.
    """
    parts = pl.concat([expected.select("agency", "jimu"), rounds.select("agency", "jimu")]).unique()
    done = (
        rounds.filter(pl.col("phase") >= 2)
        .with_columns(pl.col("completed_at").str.slice(0, 10).str.to_date("%Y-%m-%d").alias("completed"))
        .sort("completed_at")  # the full stamp: two rounds completed on one day keep their order
        .group_by("agency", "jimu")
        .agg(
            pl.col("round_id").last().alias("last_round"), pl.col("completed").last().alias("last_completed")
        )
    )
    frame = (
        parts.join(done, on=["agency", "jimu"], how="left")
        .join(intervals, on=["agency", "jimu"], how="left")
        .join(open_cases, on=["agency", "jimu"], how="left")
        .with_columns(pl.col("open_cases").fill_null(0).cast(pl.Int64))
        .with_columns(
            pl.col("last_completed")
            .dt.offset_by(pl.format("{}mo", pl.col("interval_months")))
            .alias("next_due")
        )
    )
    status = (
        pl.when(pl.col("last_completed").is_null())
        .then(pl.lit(STATUS_NEVER))
        .when(pl.col("next_due") < pl.lit(today))
        .then(pl.lit(STATUS_OVERDUE))
        .when(pl.col("next_due") <= pl.lit(today) + pl.duration(days=due_soon_days))
        .then(pl.lit(STATUS_DUE_SOON))
        .otherwise(pl.lit(STATUS_OK))
    )
    return (
        frame.with_columns(status.alias("status"))
        .select(list(STATUS_SCHEMA))
        .cast(STATUS_SCHEMA)  # type: ignore[arg-type]
        .sort("agency", "jimu")
    )


def overdue(status: pl.DataFrame) -> pl.DataFrame:
    return status.filter(pl.col("status") == STATUS_OVERDUE)
