"""不一致確認 (mismatch_review) asset: the case store of a partition and its F5 workbook."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from pydantic import Field

from assets.guard import masked_errors
from assets.lease import hold_partition
from assets.metadata import Key, counts_metadata, table_markdown
from assets.partitions import inspection_partitions, partition_scope
from assets.resources import CaseStoreResource, TenkenWorkspace
from assets.stages.contract import checked_output, schema_check_spec
from pipelines import agencies
from pipelines.cases.store import describe
from pipelines.errors import TenkenInputError
from pipelines.stages.mismatch_review import F5_FILE, review_round
from schemas.cases import CaseState, ReviewedCases


class MismatchReviewConfig(dg.Config):
    """Where F5 goes, and optionally a workbook staff returned (``tenken cases import``)."""

    out_dir: str = Field(
        default="", description="出力先フォルダ（既定: <home>/data/rounds/<団体>/<事務>/<点検回>/result）"
    )
    returned_file: str = Field(
        default="",
        description="担当者が記入して返した確認作業リスト（.xlsx）。すべての行を検証してから一括で取り込む",
    )


def import_failure(error: TenkenInputError) -> dg.Failure:
    return dg.Failure(
        description=str(error),
        metadata={
            "誤りの件数": len(error.problems),
            "誤りのコード": ",".join(sorted(error.codes)),
            **({Key.IMPORT_REPORT: dg.MetadataValue.path(error.report_path)} if error.report_path else {}),
        },
        allow_retries=False,
    )


@dg.asset(
    partitions_def=inspection_partitions,
    group_name="inspection",
    kinds={"polars", "excel", "sql"},
    check_specs=[schema_check_spec("mismatch_review")],
    description=(
        "不一致確認: B・C と要修正を案件として案件ストアに保存し（再実行しても担当者の記入は残る。"
        "A になった案件は「再照合で一致」で閉じる）、返却された確認作業リストを検証して取り込み、"
        "案件ストアから確認作業リスト.xlsx（F5）を作る。すべての変更はハッシュ連鎖の監査ログに残る。"
        "粒度: 点検回の案件1件につき1行。"
    ),
)
@masked_errors
def mismatch_review(
    context: dg.AssetExecutionContext,
    config: MismatchReviewConfig,
    workspace: TenkenWorkspace,
    case_store: CaseStoreResource,
    extract: pl.LazyFrame,
    match_result: pl.LazyFrame,
) -> Iterator[Any]:
    """One row per case (B, C, 要修正) of this agency × 事務 × 点検回, with its state."""
    hold_partition(context, case_store)
    scope = partition_scope(context)
    layout = workspace.layout(context.instance)
    settings = workspace.settings(context.instance)
    # lazy inputs: only the B, C and 要修正 rows (and the 判定 of the rest) are read
    round_id = extract.select(pl.col("round_id").first()).collect().item()
    out_dir = (
        Path(config.out_dir) if config.out_dir else layout.result_dir(scope.agency, scope.jimu, round_id)
    )
    agency = agencies.agency(scope.agency, settings)
    spec = agencies.jimu(scope.jimu, settings)
    with case_store.open(context.instance) as store:
        try:
            outcome = review_round(
                store,
                extract,
                match_result,
                agency=scope.agency,
                jimu=scope.jimu,
                workbook=out_dir / F5_FILE,
                info={
                    "団体": f"{agency.code} {agency.name}",
                    "事務": f"{scope.jimu} {spec.name}",
                    "点検回": round_id,
                },
                source=f"照合 実行ID {context.run.run_id}",
                returned_file=Path(config.returned_file) if config.returned_file else None,
            )
        except TenkenInputError as e:
            raise import_failure(e) from None
    cases = outcome.cases
    by_state = dict(cases.group_by("state").len().iter_rows())
    by_state_grade = (
        cases.group_by("state", "grade")
        .len()
        .pivot("grade", index="state", values="len", sort_columns=True)
        .fill_null(0)
        .sort(pl.col("state").replace_strict({s.value: i for i, s in enumerate(CaseState)}))
    )
    metadata: dict[str, Any] = {
        Key.ROUND: round_id,
        **counts_metadata({f"状態_{s.value}": by_state.get(s.value, 0) for s in CaseState}),
        "状態×判定": table_markdown(by_state_grade.rename({"state": "状態"})),
        "案件ストア": describe(store.url),
        Key.AUDIT_EVENTS: dg.MetadataValue.int(outcome.head[0]),
        Key.AUDIT_HEAD: outcome.head[1],
        Key.F5_FILE: dg.MetadataValue.path(str(out_dir / F5_FILE)),
    }
    if outcome.merged is not None:
        metadata["再照合の反映"] = dg.MetadataValue.json(outcome.merged)
    if outcome.imported is not None:
        imported = outcome.imported
        metadata |= {
            "取込ファイル": dg.MetadataValue.path(config.returned_file),
            Key.IMPORT_APPLIED: dg.MetadataValue.int(imported.applied),
            Key.IMPORT_STATE_CHANGES: dg.MetadataValue.int(imported.state_changes),
            Key.IMPORT_UNCHANGED: dg.MetadataValue.int(imported.unchanged),
            Key.IMPORT_REPORT: dg.MetadataValue.path(str(imported.report)),
        }
        context.log.info(
            f"確認作業リストを取り込みました: 適用 {imported.applied} 件、変更なし {imported.unchanged} 件"
        )
    context.log.info(f"確認作業リスト {outcome.workbook_rows} 件: {out_dir / F5_FILE}")
    yield from checked_output(
        cases, metadata, ReviewedCases, store=layout.store, asset="mismatch_review", scope=scope
    )
