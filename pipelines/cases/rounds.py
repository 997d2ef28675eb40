"""Round history: what each agency × 事務 had done, and when, as the store knew it then.

Phase 1 (住基照会要求 written) and phase 2 (照合 done) each append one row with the round's
counts. Nothing is updated in place, so ``rounds_as_of`` gives a past month's figures exactly
as they stood at that month's end, however often a round was re-run later. The monthly
定期報告 and the recheck calendar both read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import polars as pl
import sqlalchemy as sa

from pipelines.cases.audit import stamp
from pipelines.cases.tables import ROUND_COUNTS, round_history
from pipelines.clock import now

PHASE_REQUESTED = 1
PHASE_MATCHED = 2

#: the columns ``rounds_as_of`` returns (grain: one row per agency × 事務 × 点検回)
ROUNDS_SCHEMA: dict[str, pl.DataType] = {
    "agency": pl.String(),
    "jimu": pl.String(),
    "round_id": pl.String(),
    "phase": pl.Int64(),
    "started_at": pl.String(),
    "completed_at": pl.String(),
    **{name: pl.Int64() for name in ROUND_COUNTS},
}


def record_round(
    conn: sa.Connection,
    figures: Mapping[str, object],
    *,
    phase: int,
    at: datetime | None = None,
    run_id: str | None = None,
) -> None:
    """Append the counts of one completed phase of a round (``figures``: a partition row of
    ``pipelines.stages.periodic_report.partition_figures``)."""
    if phase not in (PHASE_REQUESTED, PHASE_MATCHED):
        raise ValueError(f"phase must be 1 or 2, not {phase}")
    row = {
        "recorded_at": stamp(at or now()),
        "agency": figures["agency"],
        "jimu": figures["jimu"],
        "round_id": figures["round_id"],
        "phase": phase,
        "run_id": run_id,
        **{name: int(figures[name]) for name in ROUND_COUNTS},  # type: ignore[call-overload]
    }
    conn.execute(sa.insert(round_history), [row])


def rounds_as_of(conn: sa.Connection, moment: datetime | None = None) -> pl.DataFrame:
    """Every round known at ``moment`` (default: now) with its latest counts then.

    ``phase`` is the furthest phase reached by then, ``started_at`` the first record of the
    round and ``completed_at`` its first phase 2 (null while only requested): re-running
    照合 later corrects the figures but does not move the date the round was completed.
    """
    until = stamp(moment or now())
    rows = conn.execute(
        sa.select(round_history).where(round_history.c.recorded_at <= until).order_by(round_history.c.seq)
    ).all()
    history = pl.DataFrame(
        [r._asdict() for r in rows],
        schema={
            "seq": pl.Int64,
            "recorded_at": pl.String,
            "agency": pl.String,
            "jimu": pl.String,
            "round_id": pl.String,
            "phase": pl.Int64,
            **dict.fromkeys(ROUND_COUNTS, pl.Int64),
            "run_id": pl.String,
        },
        orient="row",
    )
    keys = ["agency", "jimu", "round_id"]
    matched = pl.col("phase") == PHASE_MATCHED
    return (
        history.sort("seq")
        .group_by(keys, maintain_order=True)
        .agg(
            pl.col("phase").max(),
            pl.col("recorded_at").first().alias("started_at"),
            pl.col("recorded_at").filter(matched).first().alias("completed_at"),
            # the figures of the furthest phase, as last recorded
            *(pl.col(c).filter(pl.col("phase") == pl.col("phase").max()).last() for c in ROUND_COUNTS),
        )
        .select(list(ROUNDS_SCHEMA))
        .cast(ROUNDS_SCHEMA)  # type: ignore[arg-type]
        .sort(keys)
    )
