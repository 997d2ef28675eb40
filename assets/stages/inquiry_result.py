"""照会結果 (inquiry_result) asset."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from assets.config import InquiryResultConfig
from assets.guard import masked_errors
from assets.lease import hold_partition
from assets.metadata import Key, counts_metadata
from assets.partitions import inspection_partitions, partition_scope
from assets.resources import CaseStoreResource, TenkenWorkspace
from assets.stages.contract import checked_output, input_failure, schema_check_spec
from pipelines.errors import Problem, TenkenInputError
from pipelines.stages.inquiry_request import round_tags
from pipelines.stages.inquiry_result import read_results, result_files
from schemas.codes import RESULT_LABELS, ResultCode
from schemas.inquiry_result import InquiryResults


@dg.asset(
    partitions_def=inspection_partitions,
    group_name="inspection",
    kinds={"polars", "csv"},
    check_specs=[schema_check_spec("inquiry_result")],
    description=(
        "照会結果: 住基ネットの結果CSV（F3）を読み、送った照会要求と突き合わせる。"
        "送った照会番号がすべて1回ずつ、同じ個人番号で返っていなければ全件を列挙して止める。"
        "粒度: 照会番号1件につき1行。"
    ),
)
@masked_errors
def inquiry_result(
    context: dg.AssetExecutionContext,
    config: InquiryResultConfig,
    workspace: TenkenWorkspace,
    case_store: CaseStoreResource,
    inquiry_request: pl.DataFrame,
) -> Iterator[Any]:
    """One row per 照会番号: what 住基ネット answered for the number that was sent."""
    hold_partition(context, case_store)
    scope = partition_scope(context)
    layout = workspace.layout(context.instance)
    settings = workspace.settings(context.instance)
    round_id = inquiry_request["round_id"][0] if inquiry_request.height else config.round_id
    try:
        if config.round_id and config.round_id != round_id:
            raise TenkenInputError(
                [
                    Problem(
                        "ROUND_MISMATCH",
                        column="点検回",
                        detail=f"指定 {config.round_id} / 照会要求 {round_id}",
                    )
                ]
            )
        paths = result_files(Path(config.result_path))
        registry = layout.inquiry_registry(scope.agency, scope.jimu, round_id)
        results, stats = read_results(paths, inquiry_request, settings, rounds_by_tag=round_tags(registry))
    except TenkenInputError as e:
        raise input_failure(e, layout, scope, round_id, "照会結果") from None
    labelled = {RESULT_LABELS[ResultCode(k)]: v for k, v in stats.by_code.items()}
    for note in stats.notes:
        context.log.warning(note)
    context.log.info(f"照会結果 {stats.rows} 件 ({labelled})")
    yield from checked_output(
        results,
        {
            Key.ROUND: round_id,
            "結果ファイル": ", ".join(stats.files),
            Key.READ_NOTES: "\n".join(stats.notes) or "(なし)",
            **counts_metadata(labelled, prefix="処理結果_"),
        },
        InquiryResults,
        store=layout.store,
        asset="inquiry_result",
        scope=scope,
    )
