"""The annual recheck calendar: when each agency × 事務 last completed a round, when the next
is due, and which are overdue.

The guideline asks for a recheck about once a year for every 事務 whose people are never
seen (seed 002); the interval is configurable per agency × 事務 (``recheck:`` in tenken.yaml).
A round is *completed* when its phase 2 (照合) has run; a partition that has never completed
one is due now but not overdue (nothing to measure the interval from).

Grain: one row per expected agency × 事務.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from pipelines import agencies
from pipelines.cases.audit import cases_as_of
from pipelines.cases.rounds import PHASE_MATCHED, rounds_as_of
from pipelines.cases.store import CaseStore
from pipelines.clock import now
from pipelines.reporting.monthly import expected_partitions
from schemas.cases import OPEN_STATES
from schemas.config import TenkenSettings

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


def _calendar(
    rounds: pl.DataFrame, cases: pl.DataFrame, settings: TenkenSettings, today: date
) -> pl.DataFrame:
    expected = expected_partitions(settings, rounds)
    open_cases = (
        cases.filter(pl.col("state").is_in(OPEN_STATES))
        .group_by("agency", "jimu")
        .agg(pl.len().cast(pl.Int64).alias("open_cases"))
    )
    parts = pl.concat([expected, rounds.select("agency", "jimu")]).unique()
    intervals = parts.with_columns(
        pl.struct("agency", "jimu")
        .map_elements(  # a few hundred partitions, not a data path
            lambda p: settings.recheck.interval(p["agency"], p["jimu"]), return_dtype=pl.Int64
        )
        .alias("interval_months")
    )
    return recheck_status(
        expected,
        rounds.select("agency", "jimu", "round_id", "phase", "completed_at").filter(
            pl.col("phase") >= PHASE_MATCHED
        ),
        open_cases,
        intervals,
        today=today,
        due_soon_days=settings.recheck.due_soon_days,
    )


def _calendar_inputs(store: CaseStore) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every round and every case as of now, in one read of the store."""
    with store.reading() as conn:
        rounds = rounds_as_of(conn)
        # the same replay as the monthly report, so both count open cases alike
        cases = cases_as_of(conn, now(), fields=("round_id",))
    return rounds, cases


def recheck_calendar(
    store: CaseStore, settings: TenkenSettings, *, today: date | None = None
) -> pl.DataFrame:
    """Last completed round, next due date, status and open cases per expected agency × 事務."""
    rounds, cases = _calendar_inputs(store)
    return _calendar(rounds, cases, settings, today or now().date())


@dataclass(frozen=True)
class DueStart:
    """Phase 1 of a planned agency × 事務 that is due, with where its extract is dropped."""

    agency: str
    jimu: str
    round_id: str
    extract_file: str
    atena_file: str | None


def due_starts(store: CaseStore, settings: TenkenSettings, *, today: date) -> list[DueStart]:
    """The planned partitions that are due (期限超過 or 未実施) and can start by themselves."""
    rounds, cases = _calendar_inputs(store)
    status = _calendar(rounds, cases, settings, today)
    due = status.filter(pl.col("status").is_in([STATUS_OVERDUE, STATUS_NEVER]))
    return starts_for(settings, due, rounds, today=today)


def starts_for(
    settings: TenkenSettings, due: pl.DataFrame, rounds: pl.DataFrame, *, today: date
) -> list[DueStart]:
    """The planned partitions among ``due`` (rows of ``recheck_calendar``) that can start by
    themselves: those with an ``extract_file``, in a round they have not begun yet.

    The round is the 年度 (``2026``) for intervals of a year or more, the month (``2026-05``)
    for shorter ones; a partition that already has that round, in any phase, is left alone
    (someone started it by hand, or it is waiting for 住基ネット)."""
    begun = {(r["agency"], r["jimu"], r["round_id"]) for r in rounds.iter_rows(named=True)}
    wanted = {(r["agency"], r["jimu"]) for r in due.iter_rows(named=True)}
    starts = []
    for p in settings.recheck.plan:
        if not p.extract_file or (p.agency, p.jimu) not in wanted:
            continue
        yearly = settings.recheck.interval(p.agency, p.jimu) >= 12
        round_id = agencies.default_round(today) if yearly else f"{today:%Y-%m}"
        if (p.agency, p.jimu, round_id) not in begun:
            starts.append(DueStart(p.agency, p.jimu, round_id, p.extract_file, p.atena_file))
    return starts
