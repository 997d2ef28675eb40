"""定期報告（月次）: F6 figures per agency × 事務, per agency and per prefecture, as of a month end.

Inputs are plain frames, so the same figures come out whoever asks and whenever:

* ``expected``: every agency × 事務 that should report (the registered partitions);
* ``rounds``: the latest round of each partition known at the month end (its phase and the
  counts of 照合), from the case store's round history;
* ``cases``: every case as it stood at the month end (state, 確認結果, 閲覧有無, 推定原因),
  replayed from the case store's events.

Definitions (the national report's figures, made precise):

Cases are the B and C cases of the round (要修正 records are input errors outside
点検対象件数). A case is open until 完了 or 再照合で一致 (the case store's definition).

* 本人確認作業終了件数: cases whose confirmation is over — 本人の番号と確認, 紐付け誤り, 是正済,
  完了, or closed by 再照合で一致. 確認中 and 確認不能 are not.
* 紐付け誤り件数: cases whose 確認結果 is 紐付け誤り; 割合 = that / 点検対象件数 × 100, 3 decimals.
* 閲覧された件数: of those, 閲覧有無 = 有. 誤紐付けを解消した件数: of those, 是正済 or 完了.
* 主な原因: the most frequent 推定原因 of the 紐付け誤り cases (ties: the first in name order).

A partition without any round is reported 未着手 with zero figures, not left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import polars as pl

from pipelines.agencies import agency as agency_info
from schemas.cases import OPEN_STATES as CASE_OPEN_STATES
from schemas.monthly_report import (
    ADDITIVE,
    FIGURES,
    KEYS,
    STATUS_CHECKING,
    STATUS_DONE,
    STATUS_NOT_STARTED,
    STATUS_REQUESTED,
    TOTAL_LABEL,
)

CONFIRMED_STATES = ("本人の番号と確認", "紐付け誤り", "是正済", "完了", "再照合で一致")
#: a case is open until 完了 (or closed by 再照合で一致): the case store's definition
OPEN_STATES = CASE_OPEN_STATES
RESOLVED_STATES = ("是正済", "完了")
#: the cases F6 counts: B and C (要修正 records are input errors, outside 点検対象件数)
REPORTED_GRADES = ("B", "C")
MISLINKED = "紐付け誤り"

ROUND_SCHEMA = {
    "agency": pl.String,
    "jimu": pl.String,
    "round_id": pl.String,
    "phase": pl.Int64,  # 1: request made, 2: matched
    "started_at": pl.String,
    "completed_at": pl.String,
    "out_of_scope": pl.Int64,
    "in_scope": pl.Int64,
    "grade_a": pl.Int64,
    "grade_b": pl.Int64,
    "grade_c": pl.Int64,
}
CASE_SCHEMA = {
    "agency": pl.String,
    "jimu": pl.String,
    "round_id": pl.String,
    "case_id": pl.String,
    "grade": pl.String,
    "state": pl.String,
    "outcome": pl.String,
    "viewed": pl.String,
    "likely_cause": pl.String,
}


def _names(
    expected: pl.DataFrame, jimu_names: Mapping[str, str], agency_names: Mapping[str, str]
) -> pl.DataFrame:
    """Agency, prefecture and 事務 names for each expected partition (a few hundred rows);
    ``agency_names`` (tenken.yaml ``agencies:``) names bodies outside the code table."""
    infos = {
        code: replace(info, name=agency_names.get(code) or info.name)
        for code in expected["agency"].unique().to_list()
        for info in [agency_info(code)]
    }
    prefs = {info.prefecture_code: agency_info(info.prefecture_code).name for info in infos.values()}
    return expected.with_columns(
        pl.col("agency")
        .replace_strict({c: i.name for c, i in infos.items()}, return_dtype=pl.String)
        .alias("agency_name"),
        pl.col("agency")
        .replace_strict({c: i.prefecture_code for c, i in infos.items()}, return_dtype=pl.String)
        .alias("prefecture"),
        pl.col("jimu")
        .replace_strict(jimu_names, default=pl.col("jimu"), return_dtype=pl.String)
        .alias("jimu_name"),
    ).with_columns(
        pl.col("prefecture").replace_strict(prefs, return_dtype=pl.String).alias("prefecture_name"),
    )


def _case_figures(cases: pl.DataFrame) -> pl.DataFrame:
    c = pl.col("state")
    mislinked = pl.col("outcome") == MISLINKED
    return cases.group_by("agency", "jimu", "round_id").agg(
        c.is_in(CONFIRMED_STATES).sum().cast(pl.Int64).alias("confirmed"),
        mislinked.sum().cast(pl.Int64).alias("mislinked"),
        (mislinked & (pl.col("viewed") == "有")).sum().cast(pl.Int64).alias("viewed"),
        (mislinked & c.is_in(RESOLVED_STATES)).sum().cast(pl.Int64).alias("resolved"),
        c.is_in(OPEN_STATES).sum().cast(pl.Int64).alias("_open"),
    )


def _main_cause(cases: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """The most frequent 推定原因 of the 紐付け誤り cases per group of ``keys``."""
    counts = (
        cases.filter((pl.col("outcome") == MISLINKED) & pl.col("likely_cause").is_not_null())
        .group_by([*keys, "likely_cause"])
        .len()
        .sort([*keys, "len", "likely_cause"], descending=[*([False] * len(keys)), True, False])
    )
    return (
        counts.group_by(keys, maintain_order=True)
        .first()
        .select(*keys, pl.col("likely_cause").alias("main_cause"))
    )


def _rate(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.col("in_scope") > 0)
        .then((pl.col("mislinked") * 100 / pl.col("in_scope")).round(3))
        .otherwise(pl.lit(0.0))
        .alias("mislink_rate")
    )


def reported_cases(cases: pl.DataFrame) -> pl.DataFrame:
    """The B and C cases, typed (the frame ``cases_as_of`` gives)."""
    return cases.select(list(CASE_SCHEMA)).cast(CASE_SCHEMA).filter(pl.col("grade").is_in(REPORTED_GRADES))  # type: ignore[arg-type]


def agency_jimu_figures(
    expected: pl.DataFrame,
    rounds: pl.DataFrame,
    cases: pl.DataFrame,
    jimu_names: Mapping[str, str],
    agency_names: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """One row per expected agency × 事務 with every F6 figure (no total row).

    Each partition is reported for its **latest round** known at the time: the one started
    last (a new 点検回 in phase 1 replaces the completed one, as 照会中); cases of earlier
    rounds are not counted again."""
    expected = pl.concat([expected.select("agency", "jimu"), rounds.select("agency", "jimu")]).unique()
    base = _names(expected, jimu_names, agency_names or {})
    latest = (
        rounds.cast(ROUND_SCHEMA)  # type: ignore[arg-type]
        .sort("started_at", "round_id", nulls_last=False)
        .group_by("agency", "jimu")
        .last()
    )
    cases = reported_cases(cases)
    in_round = cases.join(
        latest.select("agency", "jimu", "round_id"), on=["agency", "jimu", "round_id"], how="semi"
    )
    figures = (
        base.join(latest, on=["agency", "jimu"], how="left")
        .join(_case_figures(in_round), on=["agency", "jimu", "round_id"], how="left")
        .join(_main_cause(in_round, ["agency", "jimu"]), on=["agency", "jimu"], how="left")
        .with_columns(pl.col(c).fill_null(0) for c in ADDITIVE)
        .with_columns(
            pl.when(pl.col("round_id").is_null())
            .then(pl.lit(STATUS_NOT_STARTED))
            .when(pl.col("phase") < 2)
            .then(pl.lit(STATUS_REQUESTED))
            .when(pl.col("_open").fill_null(0) > 0)
            .then(pl.lit(STATUS_CHECKING))
            .otherwise(pl.lit(STATUS_DONE))
            .alias("status")
        )
    )
    return (
        _rate(figures)
        .select(
            "prefecture",
            "prefecture_name",
            "agency",
            "agency_name",
            "jimu",
            "jimu_name",
            "round_id",
            "status",
            *FIGURES,
        )
        .sort("agency", "jimu")
    )


def with_total(frame: pl.DataFrame, label_column: str) -> pl.DataFrame:
    """``frame`` followed by a 合計 row (additive figures summed, the rate recomputed)."""
    total = _rate(
        frame.select([pl.col(c).sum() for c in ADDITIVE]).with_columns(
            pl.lit(TOTAL_LABEL).alias(label_column)
        )
    )
    return pl.concat([frame, total], how="diagonal_relaxed")


def rollup(figures: pl.DataFrame, cases: pl.DataFrame, level: str) -> pl.DataFrame:
    """Sum the agency × 事務 figures per agency (``level='agency'``) or per prefecture."""
    keys = ["agency", "agency_name"] if level == "agency" else ["prefecture", "prefecture_name"]
    summed = figures.group_by(keys).agg(
        *[pl.col(c).sum() for c in ADDITIVE],
        pl.col("agency").n_unique().alias("agencies"),
    )
    rounds = figures.select("agency", "jimu", "round_id").drop_nulls()
    scoped = reported_cases(cases).join(rounds, on=["agency", "jimu", "round_id"], how="semi")
    if level != "agency":
        scoped = scoped.join(figures.select("agency", "prefecture").unique(), on="agency")
    causes = _main_cause(scoped, [keys[0]])
    columns = [*keys, *(["agencies"] if level != "agency" else []), *FIGURES]
    return _rate(summed.join(causes, on=keys[0], how="left")).select(columns).sort(keys[0])


def labelled(frame: pl.DataFrame) -> pl.DataFrame:
    """Japanese headers, in report order."""
    names = {**KEYS, **FIGURES}
    return frame.rename({c: names[c] for c in frame.columns if c in names})
