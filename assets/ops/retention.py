"""保存期間 in Dagster: when each round's phase 2 completed, and the purge as a job.

When a round's 照合 completed is read from the instance itself: the latest ``match_result``
materialization of the partition whose ``点検回`` metadata names the round. Where its F2, F4
and F5 went (``--out``) is read from the same records. The purge job
runs the same plan as ``tenken purge``; its schedule is off by default (turn it on in the
UI, or run ``tenken purge`` from the OS scheduler) so nothing is deleted before the IT
division has chosen ``retention.days_after_close``.
"""

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import dagster as dg
from pydantic import Field

from assets.metadata import Key, metadata_values
from assets.partitions import PartitionScope
from assets.resources import TenkenWorkspace
from pipelines import clock
from pipelines.cases.store import CaseStore, store_url
from pipelines.home import HomeLayout
from pipelines.ops import retention
from pipelines.ops.retention import CaseActivity, RoundKey, RoundPlan, WrittenFile
from schemas.config import TenkenSettings

#: the materializations that mark phase 1 / phase 2 of a round as completed, and its round metadata
PHASE1_ASSET = "inquiry_request"
PHASE2_ASSET = "match_result"


def _materializations(instance: dg.DagsterInstance, asset: str) -> Iterator[tuple[RoundKey, float, dict]]:
    """Every materialization of ``asset`` that names its round: (round, when, metadata)."""
    cursor = None
    while True:
        page = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset)), limit=1000, cursor=cursor
        )
        for record in page.records:
            mat = record.asset_materialization
            if mat is None or mat.partition is None or Key.ROUND not in mat.metadata:
                continue
            scope = PartitionScope.parse(mat.partition)
            key = RoundKey(scope.agency, scope.jimu, str(mat.metadata[Key.ROUND].value))
            yield key, record.timestamp, metadata_values(mat)
        if not page.has_more:
            return
        cursor = page.cursor


def completions(instance: dg.DagsterInstance, asset: str) -> dict[RoundKey, datetime]:
    """Per round, when ``asset`` was last materialized for it (from the instance's event log)."""
    completed: dict[RoundKey, datetime] = {}
    for key, timestamp, _ in _materializations(instance, asset):
        at = datetime.fromtimestamp(timestamp, clock.JST)
        completed[key] = max(at, completed.get(key, at))
    return completed


def phase2_completions(instance: dg.DagsterInstance) -> dict[RoundKey, datetime]:
    """Per round, when its 照合 last completed."""
    return completions(instance, PHASE2_ASSET)


#: where the stages record the files they wrote for people: (asset, metadata key, what it is)
WRITTEN = (
    ("match_result", Key.F4_FILE, "照合結果（F4）"),
    ("mismatch_review", Key.F5_FILE, "確認作業リスト（F5）"),
)


def written_files(instance: dg.DagsterInstance) -> dict[RoundKey, list[WrittenFile]]:
    """Per round, the F2/F4/F5 files it wrote, wherever they went; a path a later round
    wrote again belongs to that later round (the file there is no longer this round's)."""
    latest: dict[Path, tuple[float, RoundKey, WrittenFile]] = {}

    def saw(key: RoundKey, timestamp: float, file: WrittenFile) -> None:
        if file.path not in latest or latest[file.path][0] < timestamp:
            latest[file.path] = (timestamp, key, file)

    for key, timestamp, meta in _materializations(instance, "inquiry_request"):
        folder, manifest = meta.get(Key.OUT_DIR), meta.get(Key.MANIFEST)
        if isinstance(manifest, dict) and folder:
            for f in manifest.get("ファイル", []):
                saw(
                    key,
                    timestamp,
                    WrittenFile(Path(str(folder)) / f["ファイル名"], "照会要求（F2）", f["SHA-256"]),
                )
    for asset, meta_key, kind in WRITTEN:
        for key, timestamp, meta in _materializations(instance, asset):
            if meta.get(meta_key):
                saw(key, timestamp, WrittenFile(Path(str(meta[meta_key])), kind))
    by_round: dict[RoundKey, list[WrittenFile]] = {}
    for _, key, file in latest.values():
        by_round.setdefault(key, []).append(file)
    return by_round


def case_activity(settings: TenkenSettings, home: Path) -> dict[RoundKey, CaseActivity]:
    """What the case store says about open cases; nothing when no store was ever created."""
    url = store_url(settings.cases, home)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return {}
    with CaseStore.for_settings(settings.cases, home) as store:
        return retention.case_activity(store)


def purge_plan(
    instance: dg.DagsterInstance, layout: HomeLayout, settings: TenkenSettings, today: datetime
) -> list[RoundPlan]:
    """The retention plan of every round, from the instance, the case store and the disk."""
    statuses = retention.statuses(
        phase2_completions(instance),
        case_activity(settings, layout.home),
        completions(instance, PHASE1_ASSET),
    )
    return retention.plan(layout, statuses, settings.retention, today.date(), written_files(instance))


class PurgeConfig(dg.Config):
    dry_run: bool = Field(default=False, description="削除せず、削除する予定のものだけを記録する")


@dg.op(description="保存期間が終わった点検回の、個人番号を含むファイルを削除し、削除記録を残す")
def purge_closed_rounds(
    context: dg.OpExecutionContext, config: PurgeConfig, workspace: TenkenWorkspace
) -> None:
    layout = workspace.layout(context.instance)
    settings = workspace.settings(context.instance)
    now = clock.now()
    plans = purge_plan(context.instance, layout, settings, now)
    counts = retention.summary(plans)
    planned = "（予定）" if config.dry_run else ""
    for p in plans:
        if p.purge and p.to_delete:
            context.log.info(f"{p.status.key}: {len(p.to_delete)} ファイルを削除{planned}")
    context.log.info(", ".join(f"{k} {v}" for k, v in counts.items()))
    if not config.dry_run:
        outcome = retention.purge(layout, plans, settings.retention, now=now, method="Dagster retention_job")
        context.log.info(f"削除記録: {outcome.record}")


@dg.job(description="保存期間: 終了した点検回のファイル削除（tenken purge と同じ）")
def retention_job() -> None:
    purge_closed_rounds()


retention_schedule = dg.ScheduleDefinition(
    name="retention_schedule",
    job=retention_job,
    cron_schedule="30 3 * * *",
    execution_timezone=clock.TIME_ZONE,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="毎日 3:30 に保存期間の終わった点検回を削除する（既定は停止。IT 部門が有効にする）",
)
