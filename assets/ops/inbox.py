"""The inbox sensors: files dropped into ``<home>/data/inbox`` start the right run.

``inbox_sensor`` starts phase 1 when an F1 has settled and phase 2 when the F3 files have
(``pipelines.ops.inbox`` says where each goes); ``returned_workbook_sensor`` imports an F5
that staff filled in. Whoever starts a run (sensor, CLI, UI launchpad), it is recorded in the
same instance.
"""

from __future__ import annotations

import time

import dagster as dg

from assets.jobs import (
    CASES_IMPORT,
    PHASE1,
    PHASE2,
    cases_import_job,
    import_run_config,
    on_instance,
    phase1_job,
    phase1_run_config,
    phase2_job,
    phase2_run_config,
)
from assets.partitions import PartitionScope, is_known, partition_requests
from assets.resources import TenkenWorkspace
from pipelines.ops.inbox import SETTLE_SECONDS, Arrival, ReturnedArrival, scan, scan_returned
from schemas.config import InstanceSettings


def run_request(arrival: Arrival, instance: InstanceSettings) -> dg.RunRequest:
    key = PartitionScope(arrival.agency, arrival.jimu).key
    tags = {"tenken/source": "inbox", "tenken/round": arrival.round_id}
    if arrival.phase == 1:
        extract_file, *atena = (str(p) for p in arrival.files)
        return dg.RunRequest(
            run_key=arrival.run_key,
            job_name=PHASE1,
            partition_key=key,
            run_config=on_instance(
                phase1_run_config(extract_file, atena[0] if atena else "", arrival.round_id), instance
            ),
            tags=tags,
        )
    return dg.RunRequest(
        run_key=arrival.run_key,
        job_name=PHASE2,
        partition_key=key,
        run_config=on_instance(phase2_run_config(str(arrival.files[0].parent), arrival.round_id), instance),
        tags=tags,
    )


def import_request(arrival: ReturnedArrival, instance: InstanceSettings) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=arrival.run_key,
        job_name=CASES_IMPORT,
        partition_key=PartitionScope(arrival.agency, arrival.jimu).key,
        run_config=on_instance(import_run_config(str(arrival.file)), instance),
        tags={"tenken/source": "inbox", "tenken/round": arrival.round_id},
    )


@dg.sensor(
    jobs=[phase1_job, phase2_job],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "受付フォルダ（<home>/data/inbox/<団体>/<事務>/<点検回>/）に置かれた F1・F3 で該当区分の実行を始める"
    ),
)
def inbox_sensor(context: dg.SensorEvaluationContext, workspace: TenkenWorkspace) -> dg.SensorResult:
    layout = workspace.layout(context.instance)
    settings = workspace.settings(context.instance)
    arrivals, skipped = scan(
        layout.inbox,
        now=time.time(),
        settle_seconds=SETTLE_SECONDS,
        request_dir_of=layout.request_dir,
    )
    for s in skipped:
        context.log.info(f"受付フォルダ {s.path}: {s.reason}")
    runnable = []
    for a in arrivals:
        if a.jimu not in settings.jimu:
            context.log.warning(f"事務 {a.jimu} は設定にありません: {a.files[0].parent}")
            continue
        runnable.append(a)
    return dg.SensorResult(
        run_requests=[run_request(a, settings.instance) for a in runnable],
        dynamic_partitions_requests=partition_requests(
            context.instance, [PartitionScope(a.agency, a.jimu) for a in runnable]
        ),
    )


@dg.sensor(
    jobs=[cases_import_job],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "受付フォルダ（<home>/data/inbox/<団体>/<事務>/<点検回>/returned/）に置かれた"
        "記入済みの確認作業リストを取り込む"
    ),
)
def returned_workbook_sensor(
    context: dg.SensorEvaluationContext, workspace: TenkenWorkspace
) -> dg.SensorResult:
    layout = workspace.layout(context.instance)
    instance = workspace.settings(context.instance).instance
    requests = []
    for arrival in scan_returned(layout.inbox, now=time.time(), settle_seconds=SETTLE_SECONDS):
        if not is_known(context.instance, PartitionScope(arrival.agency, arrival.jimu)):
            # cases only exist for partitions that have been run
            context.log.warning(f"{arrival.file}: {arrival.agency} {arrival.jimu} はまだ照合されていません")
            continue
        requests.append(import_request(arrival, instance))
    return dg.SensorResult(run_requests=requests)
