"""定期報告（月次） in Dagster: the national-format report of a month, and its schedule.

``monthly_report`` is partitioned by month and reads every agency × 事務 through the case
store (round history and case events as of the month's end), so re-materializing a closed
month gives the same figures. The schedule makes the report on the 1st of each month for
the month just closed.
"""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from assets.config import MonthlyReportConfig
from assets.guard import masked_errors
from assets.metadata import Key
from assets.resources import CaseStoreResource, TenkenWorkspace
from pipelines import clock
from pipelines.cases.store import describe
from pipelines.reporting import files as report_files
from pipelines.reporting import monthly

#: the current month is a partition too (its report is "as of now"); later ones are added as
#: they begin
monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=f"{monthly.FIRST_MONTH}-01", timezone=clock.TIME_ZONE, end_offset=1
)


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
    context: dg.AssetExecutionContext,
    config: MonthlyReportConfig,
    workspace: TenkenWorkspace,
    case_store: CaseStoreResource,
) -> Iterator[Any]:
    """The national-format monthly report of the month this partition names (YYYY-MM)."""
    month = context.partition_key[:7]
    layout = workspace.layout(context.instance)
    settings = workspace.settings(context.instance)
    default_dir = layout.home / "reports" / month
    with case_store.open(context.instance) as store:
        # always the all-agency report: a prefecture's roll-up never replaces the figures of the month
        full = monthly.build_monthly_report(store, settings, month)
        rollup = (
            monthly.build_monthly_report(store, settings, month, prefecture=config.prefecture)
            if config.prefecture
            else None
        )
        source = describe(store.url)
    chosen = Path(config.out_dir) if config.out_dir else default_dir
    metadata = _report_metadata(full, monthly.write_report(full, default_dir if rollup else chosen), "")
    if rollup is not None:
        prefix = f"{PREFECTURE_PREFIX}{rollup.only_prefecture}/"
        metadata |= _report_metadata(rollup, monthly.write_report(rollup, chosen), prefix)
    yield dg.Output(
        full.agency_jimu,
        metadata={"dagster/row_count": full.agency_jimu.height, "対象月": month, **metadata, "出所": source},
    )


#: the metadata of a prefecture's roll-up (``tenken report --prefecture``) is kept apart from the
#: all-agency figures under keys that begin with this and the prefecture code, e.g. ``都道府県 390003/``
PREFECTURE_PREFIX = "都道府県 "


def _report_metadata(report: monthly.MonthlyReport, files: monthly.ReportFiles, prefix: str) -> dict:
    """The figures and file paths of one report, each key prefixed (empty: the all-agency report)."""
    figures = report.agency_jimu
    status_counts = dict(figures.group_by("status").len().iter_rows())
    total = figures.select(pl.col("in_scope", "grade_b", "grade_c", "confirmed", "mislinked").sum()).row(
        0, named=True
    )
    entries: dict[str, Any] = {
        "対象範囲": f"都道府県 {report.only_prefecture} の団体" if report.only_prefecture else "全団体",
        Key.AS_OF: report.as_of.isoformat(timespec="seconds"),
        Key.MONTH_CLOSED: report.month_closed,
        Key.AGENCY_JIMU_TABLE: dg.MetadataValue.md(report_files.markdown(figures, "agency_name")),
        "都道府県別": dg.MetadataValue.md(report_files.markdown(report.prefecture, "prefecture_name")),
        **{f"状況/{k}": dg.MetadataValue.int(v) for k, v in sorted(status_counts.items())},
        "点検対象件数": dg.MetadataValue.int(int(total["in_scope"])),
        "本人確認作業終了件数": dg.MetadataValue.int(int(total["confirmed"])),
        "紐付け誤り件数": dg.MetadataValue.int(int(total["mislinked"])),
        Key.REPORT_XLSX: dg.MetadataValue.path(str(files.xlsx)),
        Key.REPORT_CSV: dg.MetadataValue.path(str(files.csv)),
        Key.REPORT_CHART: dg.MetadataValue.path(str(files.chart)),
    }
    return {prefix + key: value for key, value in entries.items()}


monthly_report_job = dg.define_asset_job(
    "monthly_report_job",
    selection=dg.AssetSelection.assets(monthly_report),
    description="定期報告（月次）を作る",
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
