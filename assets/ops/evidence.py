"""証跡: the Great Expectations suites of ``pipelines.ops.evidence`` as asset checks.

One check named ``evidence`` per boundary stage (抽出, 住基照会要求, 照会結果, 照合). They are
separate from the blocking pandera checks on purpose: pandera is the gate and stops the
graph; these are the evidence an auditor reads, so they never block (a failure is an ERROR
on the asset, with the unmet expectations and a link to the Data Docs page). The Data Docs
of every run are kept under ``<home>/evidence/<agency>/<jimu>/`` (証跡一覧.html lists them).
"""

import warnings
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import polars as pl

from assets.guard import masked_errors
from assets.metadata import Key, metadata_values
from assets.partitions import inspection_partitions, partition_scope
from assets.resources import TenkenWorkspace
from assets.stages.extract import extract
from assets.stages.inquiry_request import inquiry_request
from assets.stages.inquiry_result import inquiry_result
from assets.stages.match_result import match_result
from pipelines import clock
from pipelines.ops import evidence
from pipelines.ops.evidence import Suite

EVIDENCE_CHECK = "evidence"


def _latest_metadata(context: dg.AssetCheckExecutionContext, asset: str) -> dict[str, object]:
    """The metadata of the asset's latest materialization of this partition (file paths)."""
    page = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[context.partition_key]), limit=1
    )
    mat = page.records[0].asset_materialization if page.records else None
    return metadata_values(mat)


def _evidence(
    context: dg.AssetCheckExecutionContext, workspace: TenkenWorkspace, build: Callable[[], Suite]
) -> dg.AssetCheckResult:
    settings = workspace.settings(context.instance)
    if not settings.evidence.enabled:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description="証跡（Great Expectations）を作成していません（設定 evidence.enabled: false）",
        )
    scope = partition_scope(context)  # type: ignore[arg-type]
    docs = workspace.layout(context.instance).evidence_dir(scope.agency, scope.jimu)
    outcome = evidence.validate(build(), docs, context.run.run_id)
    unmet = [{"対象": u.batch, "期待": u.meaning, "実際": u.observed} for u in outcome.unmet]
    page = outcome.pages[0] if outcome.pages else outcome.index
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR,
        description="すべての期待を満たしています"
        if outcome.success
        else f"満たさない期待が {len(unmet)} 件あります",
        metadata={
            "期待ごとの結果": dg.MetadataValue.table(
                [
                    dg.TableRecord(
                        {
                            "対象": c.batch,
                            "期待": c.meaning,
                            "結果": "合格" if c.passed else "不合格",
                            "観測値": c.observed,
                        }
                    )
                    for c in outcome.checked
                ],
                schema=EXPECTATION_TABLE,
            ),
            "検証時刻（日本時間）": outcome.validated_at,
            "期待の数": dg.MetadataValue.int(outcome.evaluated),
            "満たさない期待": dg.MetadataValue.json(unmet),
            # paths as text: a browser will not open file:// links from the UI, but they can be copied
            "証跡（Data Docs）": dg.MetadataValue.path(str(page)),
            "証跡一覧": dg.MetadataValue.path(str(outcome.index)),
            "証跡一覧を開くコマンド": f"tenken evidence --agency {scope.agency} --jimu {scope.jimu} --open",
            "ページ": dg.MetadataValue.json([str(p) for p in outcome.pages]),
            "所要時間（秒）": dg.MetadataValue.float(round(outcome.seconds, 2)),
        },
    )


#: the columns of 期待ごとの結果 (observed values are counts and flags: the suites see no resident data)
EXPECTATION_TABLE = dg.TableSchema(
    columns=[
        dg.TableColumn("対象", "string", description="検証した集計（1行が何か）"),
        dg.TableColumn("期待", "string", description="満たすべきこと"),
        dg.TableColumn("結果", "string", description="合格 / 不合格"),
        dg.TableColumn("観測値", "string", description="観測した値・件数"),
    ]
)


def _check(asset: dg.AssetsDefinition, description: str, **ins: dg.AssetIn) -> Callable:
    def decorate(fn: Callable) -> dg.AssetChecksDefinition:
        # a check with partitions_def is a preview API in dagster 1.13; it records the partition
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dg.PreviewWarning)
            return dg.asset_check(
                asset=asset,
                name=EVIDENCE_CHECK,
                partitions_def=inspection_partitions,
                additional_ins=ins or None,
                description=description,
            )(fn)

    return decorate


@_check(
    extract,
    (
        "証跡: F1 の全行に区分があり（F1 の行数 = 対象外 + 要修正 + 点検対象）、"
        "宛名番号が一意で、点検対象の個人番号と生年月日が正しいこと"
    ),
)
@masked_errors
def extract_evidence(
    context: dg.AssetCheckExecutionContext, workspace: TenkenWorkspace, extract: pl.DataFrame
) -> dg.AssetCheckResult:
    today = clock.today()
    return _evidence(context, workspace, lambda: evidence.extract_suite(extract, today))


@_check(
    inquiry_request,
    (
        "証跡: 点検対象1件につき照会要求1件（過不足なし）、照会番号が一意、"
        "F2 ファイルがマニフェストの件数・SHA-256 と一致すること"
    ),
    extract=dg.AssetIn("extract"),
)
@masked_errors
def inquiry_request_evidence(
    context: dg.AssetCheckExecutionContext,
    workspace: TenkenWorkspace,
    inquiry_request: pl.LazyFrame,
    extract: pl.LazyFrame,
) -> dg.AssetCheckResult:
    out_dir = Path(str(_latest_metadata(context, "inquiry_request")[Key.OUT_DIR]))
    return _evidence(
        context,
        workspace,
        lambda: evidence.inquiry_request_suite(inquiry_request, extract, evidence.request_files(out_dir)),
    )


@_check(
    inquiry_result,
    (
        "証跡: 照会要求1件につき結果1件（送っていない・返っていない照会番号なし）、"
        "個人番号が送ったものと同じ、処理結果が正しいこと"
    ),
    inquiry_request=dg.AssetIn("inquiry_request"),
)
@masked_errors
def inquiry_result_evidence(
    context: dg.AssetCheckExecutionContext,
    workspace: TenkenWorkspace,
    inquiry_result: pl.LazyFrame,
    inquiry_request: pl.LazyFrame,
) -> dg.AssetCheckResult:
    return _evidence(
        context, workspace, lambda: evidence.inquiry_result_suite(inquiry_result, inquiry_request)
    )


@_check(
    match_result,
    (
        "証跡: 点検対象1件につき照合結果1件（A + B + C = 点検対象）、判定が正しく、"
        "孤立した照会番号がなく、照合結果.csv に全件があること"
    ),
    extract=dg.AssetIn("extract"),
    inquiry_request=dg.AssetIn("inquiry_request"),
)
@masked_errors
def match_result_evidence(
    context: dg.AssetCheckExecutionContext,
    workspace: TenkenWorkspace,
    match_result: pl.LazyFrame,
    extract: pl.LazyFrame,
    inquiry_request: pl.LazyFrame,
) -> dg.AssetCheckResult:
    f4 = _latest_metadata(context, "match_result").get(Key.F4_FILE)
    f4_rows = evidence.csv_rows(Path(str(f4))) if f4 else None
    return _evidence(
        context,
        workspace,
        lambda: evidence.match_result_suite(match_result, extract, inquiry_request, f4_rows),
    )


EVIDENCE_CHECKS = (extract_evidence, inquiry_request_evidence, inquiry_result_evidence, match_result_evidence)
