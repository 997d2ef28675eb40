"""抽出 (extract) asset."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg

from assets.config import ExtractConfig
from assets.guard import masked_errors
from assets.lease import hold_partition
from assets.metadata import Key, counts_metadata
from assets.partitions import inspection_partitions, partition_scope
from assets.resources import CaseStoreResource, TenkenWorkspace
from assets.stages.contract import checked_output, input_failure, schema_check_spec
from pipelines import agencies, clock
from pipelines.errors import TenkenInputError
from pipelines.stages.extract import extract as run_extract
from schemas.extract import ExtractRecords


@dg.asset(
    partitions_def=inspection_partitions,
    group_name="inspection",
    kinds={"polars"},
    check_specs=[schema_check_spec("extract")],
    description=(
        "抽出: 業務システムの点検用元ファイル（F1、任意で統合宛名ファイル F1b）を取り込み、"
        "全行を検証して 点検対象／対象外（自動連携）／要修正 に分ける。"
        "粒度: F1 の1行につき1行（件数は必ずファイルの行数と一致する）。"
    ),
)
@masked_errors
def extract(
    context: dg.AssetExecutionContext,
    config: ExtractConfig,
    workspace: TenkenWorkspace,
    case_store: CaseStoreResource,
) -> Iterator[Any]:
    """One row per F1 data row of this agency × 事務 × 点検回, validated and scoped."""
    hold_partition(context, case_store)
    scope = partition_scope(context)
    layout = workspace.layout(context.instance)
    settings = workspace.settings(context.instance)
    today = clock.today()
    round_id = config.round_id or agencies.default_round(today)
    try:
        agency = agencies.agency(scope.agency, settings)
        spec = agencies.jimu(scope.jimu, settings)
        agencies.check_round(round_id)
        outcome = run_extract(
            Path(config.extract_file),
            f1b=Path(config.atena_file) if config.atena_file else None,
            settings=settings,
            jimu=spec,
            round_id=round_id,
            today=today,
        )
    except TenkenInputError as e:
        raise input_failure(e, layout, scope, round_id, "抽出") from None
    stats = outcome.stats
    for note in stats.notes:
        context.log.warning(note)
    context.log.info(
        f"抽出 {scope.agency}/{scope.jimu} 点検回 {round_id}: {stats.rows_read} 行 "
        f"(点検対象 {stats.in_scope}, 対象外 {stats.out_of_scope}, 要修正 {stats.needs_fix})"
    )
    yield from checked_output(
        outcome.records,
        {
            "団体": f"{agency.code} {agency.name}",
            "事務": f"{scope.jimu} {spec.name}",
            Key.ROUND: round_id,
            "文字コード": stats.encoding,
            "抽出ID": stats.extract_id,
            **counts_metadata(
                {
                    Key.ROWS_READ: stats.rows_read,
                    Key.IN_SCOPE: stats.in_scope,
                    Key.OUT_OF_SCOPE: stats.out_of_scope,
                    Key.NEEDS_FIX: stats.needs_fix,
                    "空行": stats.blank_records,
                    "誤りの件数": stats.problems,
                }
            ),
            "使わなかった列": ", ".join(stats.extra_columns) or "(なし)",
            Key.READ_NOTES: "\n".join(stats.notes) or "(なし)",
        },
        ExtractRecords,
        store=layout.store,
        asset="extract",
        scope=scope,
    )
