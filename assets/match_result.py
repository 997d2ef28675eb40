"""照合 (match_result) asset."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from assets.checks import counts_metadata, input_failure, outputs, schema_check_spec, table_markdown
from assets.config import OutputDirConfig
from assets.guard import masked_errors
from assets.partitions import inspection_partitions, partition_scope
from assets.resources import TenkenWorkspace
from pipelines import agencies
from pipelines.errors import Problem, TenkenInputError
from pipelines.match_result import audit_record, match, match_inputs, match_stats, write_match_outputs
from pipelines.matching.settings import MatchSettings
from schemas.match_result import MatchResults


@dg.asset(
    partitions_def=inspection_partitions,
    group_name="inspection",
    kinds={"polars", "csv"},
    check_specs=[schema_check_spec("match_result")],
    description=(
        "照合: 業務側の基本4情報と住基ネットの基本4情報を項目ごとに判定し"
        "（一致・表記ゆれ一致・不一致・比較不能）、マニュアル7.(6)の規則で"
        " A（確認不要）/B（要確認）/C（優先確認）に分類して照合結果.csv（F4, cp932）を書く。"
        "使った判定設定は照合設定.json として結果と一緒に保存する。粒度: 点検対象1件につき1行。"
    ),
)
@masked_errors
def match_result(
    context: dg.AssetExecutionContext,
    config: OutputDirConfig,
    workspace: TenkenWorkspace,
    extract: pl.DataFrame,
    inquiry_result: pl.DataFrame,
) -> Iterator[Any]:
    """One row per 点検対象 record: per-field judgements, 判定 A/B/C, 判定理由, 推定原因."""
    scope = partition_scope(context)
    layout = workspace.layout(context.instance)
    settings = workspace.settings(context.instance)
    round_id = inquiry_result["round_id"][0] if inquiry_result.height else extract["round_id"][0]
    try:
        if extract["extract_id"][0] != (
            inquiry_result["extract_id"][0] if inquiry_result.height else extract["extract_id"][0]
        ):
            raise TenkenInputError([Problem("EXTRACT_CHANGED")])
        match_settings = MatchSettings.build(
            scope.jimu, agencies.jimu(scope.jimu, settings), settings.matching
        )
        results = match(match_inputs(extract, inquiry_result), match_settings, extract)
    except TenkenInputError as e:
        raise input_failure(e, layout, scope, round_id, "照合") from None
    out_dir = (
        Path(config.out_dir) if config.out_dir else layout.result_dir(scope.agency, scope.jimu, round_id)
    )
    files = write_match_outputs(results, match_settings, out_dir)
    stats = match_stats(results)
    context.log.info(
        f"照合 {stats.records} 件: "
        f"A {stats.by_grade['A']} / B {stats.by_grade['B']} / C {stats.by_grade['C']}"
    )
    judgement_table = pl.DataFrame([{"項目": k, **v} for k, v in stats.by_judgement.items()]).fill_null(0)
    yield from outputs(
        results,
        {
            "点検回": round_id,
            **counts_metadata({f"{g}件数": n for g, n in stats.by_grade.items()}),
            "項目別の判定": table_markdown(judgement_table),
            "推定原因": dg.MetadataValue.json(stats.by_cause),
            "照合結果.csv": dg.MetadataValue.path(files["f4_path"]),
            "cp932で表せず〓にした文字数": dg.MetadataValue.int(files["cp932_replaced_chars"]),
            "照合設定ハッシュ": match_settings.digest(),
            "照合設定": dg.MetadataValue.json(audit_record(match_settings)),
        },
        MatchResults,
    )
