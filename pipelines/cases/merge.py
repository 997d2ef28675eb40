"""A run of 照合 merged into the case store without losing staff work.

The cases 不一致確認 builds for a round (every B, C and 要修正 record, stable ids) are compared
with the cases the store already holds for that round:

* a case not yet in the store opens as 未着手, linked to the latest case of an earlier round
  for the same 宛名番号 (its id, state and 確認結果 are shown in F5);
* a case still there keeps everything staff entered; only the comparison columns are
  refreshed (an event lists what changed); a case closed as 再照合で一致 that differs again
  reopens in the state it had;
* a case whose record is now A (business data corrected) closes as 再照合で一致 — unless it
  was found to be a 紐付け誤り, whose 閲覧・漏えい decisions are still owed: it stays open and
  the rematch is noted;
* a case whose record is gone (left the extract, or a 要修正 row that was fixed) is never
  dropped: it stays as it is and the fact is noted once.

Running the same merge twice changes nothing the second time. Grain of the comparison:
one row per case; the Python loop runs over changed cases only. New cases (all of them on
the first run of a round) are built as frames: their records, and their 案件作成 events with
the changes text made by polars (``audit.initial_changes``), written in bulk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from pipelines.cases.audit import EVENT_INPUT_COLUMNS, NewEvent, events_input, initial_changes, json_literal
from pipelines.cases.machine import closes_on_rematch
from pipelines.cases.store import CASE_COLUMNS_IN_ORDER, CaseStore, CaseUpdate, timestamp
from pipelines.cases.tables import (
    HISTORY_FIELDS,
    MASKED_TEXT_FIELDS,
    RECORD_FIELDS,
    SNAPSHOT_FIELDS,
    STAFF_FIELDS,
)
from pipelines.privacy import mask_expr, scrub_column
from schemas.cases import SYSTEM_ACTOR, CaseState, EventKind
from schemas.codes import Grade

#: what the 案件作成 event of a new case records: every field it is opened with but the state
#: (which is the event's to_state); fields left blank are not listed
OPENED_FIELDS: tuple[str, ...] = tuple(f for f in RECORD_FIELDS if f != "state")


@dataclass
class MergePlan:
    """What a merge writes: ``inserts`` (new case records, one row per case, every column of
    ``cases``; each gets a 案件作成 event, written first) and the ``updates`` and ``events``
    of the cases already in the store."""

    inserts: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=dict.fromkeys(CASE_COLUMNS_IN_ORDER, pl.String))
    )
    updates: list[CaseUpdate] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def event_frame(self, key: bytes) -> pl.DataFrame:
        """Every event of the plan, in order (``audit.EVENT_INPUT_COLUMNS``): the 案件作成
        events of the new cases, then the events of the cases already in the store."""
        opened = pl.concat(
            [
                self.inserts.select(
                    "agency",
                    "jimu",
                    "case_id",
                    pl.lit(EventKind.OPENED.value, dtype=pl.String).alias("kind"),
                    pl.lit(None, dtype=pl.String).alias("from_state"),
                    pl.col("state").alias("to_state"),
                ),
                initial_changes(self.inserts, OPENED_FIELDS, key),
            ],
            how="horizontal",
        ).with_columns(
            pl.lit(SYSTEM_ACTOR, dtype=pl.String).alias("actor"),
            pl.lit(None, dtype=pl.String).alias("reviewer"),
        )
        others = events_input(self.events, key)
        others = others.with_columns(json_literal(pl.col("changes")).alias("changes_literal"))
        columns = [*EVENT_INPUT_COLUMNS, "changes_literal"]
        return pl.concat([opened.select(columns), others.select(columns)])


def case_snapshots(candidates: pl.DataFrame) -> pl.DataFrame:
    """The cases of ``build_cases`` as the store keeps them: the number masked to its last 4
    digits, number-like runs masked in every data text field (``MASKED_TEXT_FIELDS``), text
    columns."""
    masked = candidates.with_columns(mask_expr("my_number").alias("my_number_masked"))
    snaps = masked.select(
        "case_id",
        "round_id",
        *(
            pl.col(c).cast(pl.Int64) if c == "priority" else pl.col(c).cast(pl.String)
            for c in SNAPSHOT_FIELDS
        ),
    )
    return snaps.with_columns(scrub_column(snaps[c]) for c in MASKED_TEXT_FIELDS)


def _latest_previous(previous: pl.DataFrame) -> pl.DataFrame:
    """Per 宛名番号, the latest case of an earlier round."""
    return (
        previous.filter(pl.col("atena_no").is_not_null())
        .sort("opened_at", "round_id", "case_id")
        .group_by("atena_no", maintain_order=True)
        .last()
        .select(
            "atena_no",
            pl.col("case_id").alias("previous_case_id"),
            pl.col("state").alias("previous_state"),
            pl.col("outcome").alias("previous_outcome"),
        )
    )


def plan_merge(
    agency: str,
    jimu: str,
    candidates: pl.DataFrame,
    graded: pl.DataFrame,
    existing: pl.DataFrame,
    previous: pl.DataFrame,
    *,
    at: str,
) -> MergePlan:
    """What the store must change so that it reflects this run of 照合.

    Args:
        candidates: the round's cases from ``build_cases`` (with ``my_number``).
        graded: the round's ``match_result`` (``inquiry_no``, ``atena_no``, ``grade``).
        existing: the store's cases of this agency × 事務 × round.
        previous: the store's cases of this agency × 事務 in other rounds.
        at: the time recorded on new and updated cases.
    """
    plan = MergePlan()
    snaps = case_snapshots(candidates)
    plan.inserts = _new_cases(agency, jimu, snaps, existing, previous, at)
    updated, reopened = _refresh_cases(plan, agency, jimu, snaps, existing)
    closed, noted = _close_or_note_gone(plan, agency, jimu, snaps, existing, graded)
    plan.counts = {
        "新規": plan.inserts.height,
        "照合結果の更新": updated,
        "再照合で一致": closed,
        "再開": reopened,
        "注記": noted,
    }
    return plan


def _new_cases(
    agency: str, jimu: str, snaps: pl.DataFrame, existing: pl.DataFrame, previous: pl.DataFrame, at: str
) -> pl.DataFrame:
    """The records of cases not yet in the store: 未着手, linked to the latest case of an
    earlier round for the same 宛名番号."""
    new = snaps.join(existing.select("case_id"), on="case_id", how="anti").join(
        _latest_previous(previous), on="atena_no", how="left"
    )
    return new.select(
        pl.lit(agency, dtype=pl.String).alias("agency"),
        pl.lit(jimu, dtype=pl.String).alias("jimu"),
        "case_id",
        "round_id",
        *SNAPSHOT_FIELDS,
        *HISTORY_FIELDS,
        *(
            pl.lit(CaseState.NOT_STARTED.value if f == "state" else None, dtype=pl.String).alias(f)
            for f in STAFF_FIELDS
        ),
        pl.lit(True).alias("in_latest_match"),
        pl.lit(None, dtype=pl.String).alias("state_before_rematch"),
        pl.lit(at, dtype=pl.String).alias("opened_at"),
        pl.lit(at, dtype=pl.String).alias("updated_at"),
    ).select(CASE_COLUMNS_IN_ORDER)


def _refresh_cases(
    plan: MergePlan, agency: str, jimu: str, snaps: pl.DataFrame, existing: pl.DataFrame
) -> tuple[int, int]:
    """Cases still there: comparison columns refreshed, staff work kept; a case closed as
    再照合で一致 that differs again reopens. Returns (updated, reopened)."""
    both = snaps.join(existing, on="case_id", how="inner", suffix="_old")
    differs = pl.any_horizontal([pl.col(f).ne_missing(pl.col(f"{f}_old")) for f in SNAPSHOT_FIELDS])
    touched = both.filter(
        differs | ~pl.col("in_latest_match") | (pl.col("state") == CaseState.REMATCHED.value)
    )
    reopened = updated = 0
    for row in touched.iter_rows(named=True):
        changes: dict[str, tuple[Any, Any]] = {
            f: (row[f"{f}_old"], row[f]) for f in SNAPSHOT_FIELDS if row[f"{f}_old"] != row[f]
        }
        if not row["in_latest_match"]:
            changes["in_latest_match"] = (False, True)
        key = (agency, jimu, row["case_id"])
        values = {f: new_value for f, (_, new_value) in changes.items()}
        if row["state"] == CaseState.REMATCHED.value:
            target = row["state_before_rematch"] or CaseState.NOT_STARTED.value
            changes["state_before_rematch"] = (row["state_before_rematch"], None)
            values |= {"state": target, "state_before_rematch": None}
            plan.events.append(
                NewEvent(
                    agency,
                    jimu,
                    row["case_id"],
                    EventKind.REOPENED,
                    row["state"],
                    target,
                    changes,
                    SYSTEM_ACTOR,
                )
            )
            reopened += 1
        else:
            plan.events.append(
                NewEvent(
                    agency,
                    jimu,
                    row["case_id"],
                    EventKind.REMATCH_UPDATED,
                    row["state"],
                    None,
                    changes,
                    SYSTEM_ACTOR,
                )
            )
            updated += 1
        plan.updates.append(CaseUpdate(key, values))
    return updated, reopened


def _close_or_note_gone(
    plan: MergePlan, agency: str, jimu: str, snaps: pl.DataFrame, existing: pl.DataFrame, graded: pl.DataFrame
) -> tuple[int, int]:
    """Cases whose record is gone: closed as 再照合で一致 when the record is now A (unless a
    紐付け誤り still owes its decisions), otherwise kept and noted once. Returns (closed, noted)."""
    gone = existing.filter(pl.col("in_latest_match")).join(snaps.select("case_id"), on="case_id", how="anti")
    grade_a = graded.filter(pl.col("grade") == Grade.A.value)
    open_cases = snaps.select("case_id", "atena_no")
    gone = gone.with_columns(
        pl.when(pl.col("inquiry_no").is_not_null())
        .then(pl.col("inquiry_no").is_in(grade_a["inquiry_no"].implode()))
        .otherwise(pl.col("atena_no").is_in(grade_a["atena_no"].implode()))
        .alias("now_a")
    ).join(open_cases.rename({"case_id": "successor"}), on="atena_no", how="left")
    closed = noted = 0
    for row in gone.iter_rows(named=True):
        key = (agency, jimu, row["case_id"])
        state = CaseState(row["state"])
        if row["now_a"] and closes_on_rematch(state, row["outcome"] or ""):
            changes = {"in_latest_match": (True, False), "state_before_rematch": (None, state.value)}
            plan.updates.append(
                CaseUpdate(
                    key,
                    {
                        "state": CaseState.REMATCHED.value,
                        "in_latest_match": False,
                        "state_before_rematch": state.value,
                    },
                )
            )
            plan.events.append(
                NewEvent(
                    agency,
                    jimu,
                    row["case_id"],
                    EventKind.REMATCHED,
                    state.value,
                    CaseState.REMATCHED.value,
                    changes,
                    SYSTEM_ACTOR,
                )
            )
            closed += 1
            continue
        if row["now_a"]:
            note = "再照合で一致しました（紐付け誤りの閲覧有無・漏えい等報告の判断は残っています）"
            if state is CaseState.DONE:
                note = "再照合で一致しました（完了済み）"
        elif row["successor"]:
            note = f"要修正が解消され、照会済みの案件 {row['successor']} に引き継がれました"
        else:
            note = "最新の照合に該当する記録がありません（抽出から外れたか、要修正が解消されました）"
        plan.updates.append(CaseUpdate(key, {"in_latest_match": False}))
        plan.events.append(
            NewEvent(
                agency,
                jimu,
                row["case_id"],
                EventKind.NOTED,
                state.value,
                None,
                {"in_latest_match": (True, False), "注記": (None, note)},
                SYSTEM_ACTOR,
            )
        )
        noted += 1
    return closed, noted


def merge_round(
    store: CaseStore,
    agency: str,
    jimu: str,
    round_id: str,
    candidates: pl.DataFrame,
    graded: pl.DataFrame,
    *,
    source: str,
    recorded_by: str | None = None,
) -> dict[str, int]:
    """Merge one run of 照合 into the store, in one transaction. Returns what changed."""
    with store.writing() as conn:
        at = timestamp()
        existing = store.cases_frame(conn, agency, jimu, round_id=round_id)
        previous = store.cases_frame(conn, agency, jimu, exclude_round=round_id)
        plan = plan_merge(
            agency,
            jimu,
            candidates.filter(pl.col("round_id") == round_id),
            graded.select("inquiry_no", "atena_no", "grade"),
            existing,
            previous,
            at=at,
        )
        store.insert_cases(conn, plan.inserts)
        store.update_cases(conn, plan.updates, at)
        events = plan.event_frame(store.key)
        store.append_events(conn, events, at=at, source=source, recorded_by=recorded_by)
        if plan.inserts.height:
            store.refresh_statistics(conn)
    return plan.counts
