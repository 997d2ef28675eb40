"""定期報告 (monthly) and the recheck calendar, in Dagster.

``monthly_report`` is partitioned by month and reads every agency × 事務 through the case
store (round history and case events as of the month's end), so re-materializing a closed
month gives the same figures. ``recheck_calendar`` shows, at a glance, which agency × 事務 is
overdue for its annual recheck; its check turns red when one is. The schedules: the report
on the 1st of each month for the month just closed, the calendar every morning, and the
recheck starter that begins phase 1 of a planned partition whose round is due and whose
extract is where the plan says.
"""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from assets.automation import PHASE1, phase1_job, phase1_run_config
from assets.checks import table_markdown
from assets.config import MonthlyReportConfig
from assets.guard import masked_errors
from assets.partitions import AGENCY, JIMU, PartitionScope, agency_partitions, jimu_partitions
from assets.resources import TenkenWorkspace
from pipelines import clock
from pipelines.cases.store import CaseStore, describe, store_url
from pipelines.reporting import calendar, monthly
from pipelines.reporting import files as report_files

#: the current month is a partition too (its report is "as of now"); later ones are added as
#: they begin
monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=f"{monthly.FIRST_MONTH}-01", timezone=clock.TIME_ZONE, end_offset=1
)


def _store(workspace: TenkenWorkspace, instance: dg.DagsterInstance) -> CaseStore:
    layout = workspace.layout(instance)
    settings = workspace.settings(instance)
    return CaseStore.open(store_url(settings.cases, layout.home), pg_schema=settings.cases.pg_schema)


@dg.asset(
    partitions_def=monthly_partitions,
    group_name="reporting",
    kinds={"polars", "excel"},
    description=(
        "定期報告（月次）: 月末時点の案件ストアから、団体×事務ごとの点検対象件数・A/B/C件数・"
        "本人確認作業終了件数・紐付け誤り件数と割合・閲覧された件数・解消件数・主な原因を、"
        "合計行・団体別・都道府県別の集計とともに .xlsx / .csv（cp932）/ グラフ（.png）で書き出す。"
        "未着手の区分も行として出る。粒度: 団体×事務で1行（+合計）。"
    ),
)
@masked_errors
def monthly_report(
    context: dg.AssetExecutionContext, config: MonthlyReportConfig, workspace: TenkenWorkspace
) -> Iterator[Any]:
    """The national-format monthly report of the month this partition names (YYYY-MM)."""
    month = context.partition_key[:7]
    layout = workspace.layout(context.instance)
    settings = workspace.settings(context.instance)
    with _store(workspace, context.instance) as store:
        report = monthly.build_monthly_report(store, settings, month, prefecture=config.prefecture or None)
        source = describe(store.url)
    out_dir = Path(config.out_dir) if config.out_dir else layout.home / "reports" / month
    files = monthly.write_report(report, out_dir)
    figures = report.agency_jimu
    status_counts = dict(figures.group_by("status").len().iter_rows())
    total = figures.select(pl.col("in_scope", "grade_b", "grade_c", "confirmed", "mislinked").sum()).row(
        0, named=True
    )
    yield dg.Output(
        figures,
        metadata={
            "dagster/row_count": figures.height,
            "対象月": month,
            "集計時点": report.as_of.isoformat(timespec="seconds"),
            "月末締め": report.month_closed,
            "団体×事務": dg.MetadataValue.md(report_files.markdown(figures, "agency_name")),
            "都道府県別": dg.MetadataValue.md(report_files.markdown(report.prefecture, "prefecture_name")),
            **{f"状況/{k}": dg.MetadataValue.int(v) for k, v in sorted(status_counts.items())},
            "点検対象件数": dg.MetadataValue.int(int(total["in_scope"])),
            "本人確認作業終了件数": dg.MetadataValue.int(int(total["confirmed"])),
            "紐付け誤り件数": dg.MetadataValue.int(int(total["mislinked"])),
            "報告書（xlsx）": dg.MetadataValue.path(str(files.xlsx)),
            "報告書（csv）": dg.MetadataValue.path(str(files.csv)),
            "グラフ": dg.MetadataValue.path(str(files.chart)),
            "出所": source,
        },
    )


@dg.asset(
    group_name="reporting",
    kinds={"polars"},
    check_specs=[dg.AssetCheckSpec("recheck_overdue", asset="recheck_calendar", blocking=False)],
    description=(
        "点検周期: 団体×事務ごとの前回の照合完了日・次回期限・状況（期限超過／期限間近／予定どおり／"
        "未実施）・未完了の案件数。期限超過があればチェックが赤になる。粒度: 団体×事務で1行。"
    ),
)
@masked_errors
def recheck_calendar(context: dg.AssetExecutionContext, workspace: TenkenWorkspace) -> Iterator[Any]:
    """One row per expected agency × 事務 with its last round, next due date and status."""
    settings = workspace.settings(context.instance)
    with _store(workspace, context.instance) as store:
        status = monthly.recheck_calendar(store, settings)
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
        check_name="recheck_overdue",
        passed=late.height == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        description="前回の照合完了から点検周期を過ぎた団体×事務がないこと",
        metadata={
            "期限超過": late.height,
            "期限超過の区分": table_markdown(late.rename(calendar.LABELS)),
        },
    )


monthly_report_job = dg.define_asset_job(
    "monthly_report_job",
    selection=dg.AssetSelection.assets(monthly_report),
    description="定期報告（月次）を作る",
)
recheck_calendar_job = dg.define_asset_job(
    "recheck_calendar_job",
    selection=dg.AssetSelection.assets(recheck_calendar),
    description="点検周期（期限超過の確認）を更新する",
)


@dg.schedule(
    job=monthly_report_job,
    cron_schedule="0 6 1 * *",
    execution_timezone=clock.TIME_ZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="毎月1日 6:00 に前月分の定期報告を作る",
)
def monthly_report_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    scheduled = context.scheduled_execution_time or clock.now()
    previous = (scheduled.astimezone(clock.JST).replace(day=1) - timedelta(days=1)).strftime("%Y-%m-01")
    return dg.RunRequest(run_key=f"monthly-{previous}", partition_key=previous)


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
def recheck_starter(context: dg.SensorEvaluationContext, workspace: TenkenWorkspace) -> dg.SensorResult:
    settings = workspace.settings(context.instance)
    if not any(p.extract_file for p in settings.recheck.plan):
        return dg.SensorResult(skip_reason="recheck.plan に extract_file のある区分がありません")
    with _store(workspace, context.instance) as store:
        starts = monthly.due_starts(store, settings, today=clock.today())
    requests: list[dg.RunRequest] = []
    add_agencies: set[str] = set()
    add_jimus: set[str] = set()
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
                run_config=phase1_run_config(start.extract_file, start.atena_file or "", start.round_id),
                tags={"tenken/source": "recheck_plan", "tenken/round": start.round_id},
            )
        )
        add_agencies.add(start.agency)
        add_jimus.add(start.jimu)
    partitions = []
    new_agencies = sorted(add_agencies - set(context.instance.get_dynamic_partitions(AGENCY)))
    new_jimus = sorted(add_jimus - set(context.instance.get_dynamic_partitions(JIMU)))
    if new_agencies:
        partitions.append(agency_partitions.build_add_request(new_agencies))
    if new_jimus:
        partitions.append(jimu_partitions.build_add_request(new_jimus))
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=partitions)
