"""点検周期 in Dagster: which agency × 事務 is due or overdue for its annual recheck.

``recheck_calendar`` gives each agency × 事務 its last completed round, next due date and
status; its ``recheck_overdue`` check turns red in the UI when one is overdue. A schedule
refreshes it every morning, and the ``recheck_starter`` sensor begins phase 1 of a planned
partition whose round is due and whose extract is where the plan says.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg

from assets.guard import masked_errors
from assets.jobs import PHASE1, on_instance, phase1_job, phase1_run_config
from assets.metadata import table_markdown
from assets.partitions import PartitionScope, partition_requests
from assets.resources import CaseStoreResource, TenkenWorkspace
from pipelines import clock
from pipelines.reporting import calendar

RECHECK_OVERDUE = "recheck_overdue"


@dg.asset(
    group_name="reporting",
    kinds={"polars"},
    check_specs=[
        dg.AssetCheckSpec(
            RECHECK_OVERDUE,
            asset="recheck_calendar",
            blocking=False,
            description="前回の照合完了から点検周期を過ぎた団体×事務がないこと（あれば赤）",
        )
    ],
    description=(
        "点検周期: 団体×事務ごとの前回の照合完了日・次回期限・状況（期限超過／期限間近／予定どおり／"
        "未実施）・未完了の案件数。期限超過があればチェックが赤になる。粒度: 団体×事務で1行。"
    ),
)
@masked_errors
def recheck_calendar(
    context: dg.AssetExecutionContext, workspace: TenkenWorkspace, case_store: CaseStoreResource
) -> Iterator[Any]:
    """One row per expected agency × 事務 with its last round, next due date and status."""
    settings = workspace.settings(context.instance)
    with case_store.open(context.instance) as store:
        status = calendar.recheck_calendar(store, settings)
    labelled = status.rename(calendar.LABELS)
    late = calendar.overdue(status)
    counts = dict(status.group_by("status").len().iter_rows())
    yield dg.Output(
        status,
        metadata={
            "dagster/row_count": status.height,
            "点検周期": table_markdown(labelled),
            **{f"状況/{k}": dg.MetadataValue.int(v) for k, v in sorted(counts.items())},
        },
    )
    yield dg.AssetCheckResult(
        check_name=RECHECK_OVERDUE,
        passed=late.height == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        description="前回の照合完了から点検周期を過ぎた団体×事務がないこと",
        metadata={
            "期限超過": late.height,
            "期限超過の区分": table_markdown(late.rename(calendar.LABELS)),
        },
    )


recheck_calendar_job = dg.define_asset_job(
    "recheck_calendar_job",
    selection=dg.AssetSelection.assets(recheck_calendar),
    description="点検周期（期限超過の確認）を更新する",
)


@dg.schedule(
    job=recheck_calendar_job,
    cron_schedule="30 6 * * *",
    execution_timezone=clock.TIME_ZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="毎朝 6:30 に点検周期を更新する（期限超過ならチェックが赤になる）",
)
def recheck_calendar_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    scheduled = context.scheduled_execution_time or clock.now()
    return dg.RunRequest(run_key=f"calendar-{scheduled:%Y-%m-%d}")


@dg.sensor(
    job=phase1_job,
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "点検計画（tenken.yaml の recheck.plan）で期限が来た団体×事務の第1段階を、"
        "計画に書かれた F1 の置き場所にファイルがあれば始める"
    ),
)
def recheck_starter(
    context: dg.SensorEvaluationContext, workspace: TenkenWorkspace, case_store: CaseStoreResource
) -> dg.SensorResult:
    settings = workspace.settings(context.instance)
    if not any(p.extract_file for p in settings.recheck.plan):
        return dg.SensorResult(skip_reason="recheck.plan に extract_file のある区分がありません")
    with case_store.open(context.instance) as store:
        starts = calendar.due_starts(store, settings, today=clock.today())
    requests: list[dg.RunRequest] = []
    scopes: list[PartitionScope] = []
    for start in starts:
        extract = Path(start.extract_file)
        if not extract.is_file():
            context.log.warning(f"{start.agency} {start.jimu}: 期限ですが F1 がありません（{extract}）")
            continue
        version = f"{extract.stat().st_size}-{extract.stat().st_mtime_ns}"
        requests.append(
            dg.RunRequest(
                # one run per partition, round and file version: the same F1 never starts
                # twice, a corrected one (after a refused start) does
                run_key=f"recheck-{start.agency}-{start.jimu}-{start.round_id}-{version}",
                job_name=PHASE1,
                partition_key=PartitionScope(start.agency, start.jimu).key,
                run_config=on_instance(
                    phase1_run_config(start.extract_file, start.atena_file or "", start.round_id),
                    settings.instance,
                ),
                tags={"tenken/source": "recheck_plan", "tenken/round": start.round_id},
            )
        )
        scopes.append(PartitionScope(start.agency, start.jimu))
    return dg.SensorResult(
        run_requests=requests, dynamic_partitions_requests=partition_requests(context.instance, scopes)
    )
