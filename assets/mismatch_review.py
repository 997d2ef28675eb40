"""不一致確認 (mismatch_review) asset."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from assets.checks import counts_metadata, outputs, schema_check_spec
from assets.config import OutputDirConfig
from assets.partitions import inspection_partitions, partition_scope
from assets.resources import TenkenWorkspace
from pipelines import agencies
from pipelines.mismatch_review import F5_FILE, build_cases, masked_numbers
from pipelines.workbook import write_workbook
from schemas.mismatch_review import MismatchCases


@dg.asset(
    partitions_def=inspection_partitions,
    group_name="inspection",
    kinds={"polars", "excel"},
    check_specs=[schema_check_spec("mismatch_review")],
    description=(
        "不一致確認: B・C と要修正の案件を優先度順に並べ、担当者が本人確認の結果を記入する"
        "確認作業リスト.xlsx（F5）を作る。案件番号は点検回と照会番号から作るので再実行しても変わらない。"
        "粒度: 案件1件につき1行。"
    ),
)
def mismatch_review(
    context: dg.AssetExecutionContext,
    config: OutputDirConfig,
    workspace: TenkenWorkspace,
    extract: pl.DataFrame,
    match_result: pl.DataFrame,
) -> Iterator[Any]:
    """One row per case (B, C, 要修正) of this agency × 事務 × 点検回, dangerous first."""
    scope = partition_scope(context)
    layout = workspace.layout(context.instance)
    settings = workspace.settings(context.instance)
    round_id = extract["round_id"][0]
    cases = build_cases(extract, match_result)
    out_dir = (
        Path(config.out_dir) if config.out_dir else layout.result_dir(scope.agency, scope.jimu, round_id)
    )
    agency = agencies.agency(scope.agency, settings)
    spec = agencies.jimu(scope.jimu, settings)
    rows = write_workbook(
        masked_numbers(cases),
        out_dir / F5_FILE,
        info={
            "団体": f"{agency.code} {agency.name}",
            "事務": f"{scope.jimu} {spec.name}",
            "点検回": round_id,
        },
    )
    by_grade = cases["grade"].value_counts()
    counts = dict(zip(by_grade["grade"].to_list(), by_grade["count"].to_list(), strict=True))
    context.log.info(f"確認作業リスト {rows} 件: {out_dir / F5_FILE}")
    yield from outputs(
        cases,
        {
            "点検回": round_id,
            **counts_metadata({f"案件_{k}": v for k, v in counts.items()}),
            "確認作業リスト": dg.MetadataValue.path(str(out_dir / F5_FILE)),
        },
        MismatchCases,
    )
