"""定期報告 (periodic_report) asset: this partition's figures."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import polars as pl

from assets.guard import masked_errors
from assets.lease import hold_partition
from assets.metadata import table_markdown
from assets.partitions import inspection_partitions, partition_scope
from assets.resources import CaseStoreResource, TenkenWorkspace
from assets.stages.rounds import record_phase
from pipelines import agencies
from pipelines.cases.rounds import PHASE_MATCHED
from pipelines.stages.periodic_report import FIGURE_LABELS, partition_figures


@dg.asset(
    partitions_def=inspection_partitions,
    group_name="inspection",
    # the round counts as matched only once its cases are in the store
    deps=["mismatch_review"],
    kinds={"polars"},
    description=(
        "定期報告（区分ごと）: この団体×事務の点検回の件数。抽出件数＝対象外＋要修正＋点検対象、"
        "点検対象＝A＋B＋C＋未照会 が必ず成り立つ（成り立たなければ失敗する）。"
        "件数は案件ストアの点検回の履歴にも記録され、月次の定期報告が読む。粒度: 団体×事務×点検回で1行。"
    ),
)
@masked_errors
def periodic_report(
    context: dg.AssetExecutionContext,
    workspace: TenkenWorkspace,
    case_store: CaseStoreResource,
    extract: pl.LazyFrame,
    match_result: pl.LazyFrame,
) -> Iterator[Any]:
    """One row for this agency × 事務 × 点検回 with the counts of every stage."""
    hold_partition(context, case_store)
    scope = partition_scope(context)
    settings = workspace.settings(context.instance)
    agency = agencies.agency(scope.agency, settings)
    spec = agencies.jimu(scope.jimu, settings)
    # lazy inputs: only the counts of 区分 and 判定 are read
    rounds = pl.collect_all(
        [frame.select(pl.col("round_id").first(), pl.len()) for frame in (match_result, extract)]
    )
    (match_round, match_rows), (extract_round, _) = rounds[0].row(0), rounds[1].row(0)
    same_round = bool(match_rows) and match_round == extract_round
    figures = partition_figures(
        extract,
        match_result if same_round else None,
        agency=scope.agency,
        agency_name=agency.name,
        jimu=scope.jimu,
        jimu_name=spec.name,
    )
    row = figures.row(0, named=True)
    if same_round:
        record_phase(context, case_store, row, phase=PHASE_MATCHED)
    labelled = figures.rename(FIGURE_LABELS)
    yield dg.Output(
        figures,
        metadata={
            "dagster/row_count": 1,
            "件数": table_markdown(labelled),
            **{FIGURE_LABELS[k]: dg.MetadataValue.int(v) for k, v in row.items() if isinstance(v, int)},
        },
    )
