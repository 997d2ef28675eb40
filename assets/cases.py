"""Case work in Dagster: importing a returned F5, and the sensor that picks returned files up.

An import is a materialization of ``mismatch_review`` with ``returned_file`` set: the
asset checks the whole file, applies it in one transaction (or refuses it, storing
nothing), and writes F5 again from the store; its metadata then shows the counts by state
after the import. Whoever imports (CLI, sensor, UI launchpad), the run is recorded in the
same instance.
"""

import time

import dagster as dg

from assets.mismatch_review import mismatch_review
from assets.partitions import AGENCY, JIMU, PartitionScope
from assets.resources import TenkenWorkspace
from pipelines.cases.returned import ReturnedArrival, scan_returned

CASES_IMPORT = "cases_import"
SETTLE_SECONDS = 10.0

cases_import_job = dg.define_asset_job(
    CASES_IMPORT,
    selection=dg.AssetSelection.assets(mismatch_review),
    description="返却された確認作業リストを検証して案件ストアに取り込み、確認作業リストを作り直す",
)


def import_run_config(returned_file: str, out_dir: str = "") -> dict:
    return {"ops": {"mismatch_review": {"config": {"returned_file": returned_file, "out_dir": out_dir}}}}


def import_request(arrival: ReturnedArrival) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=arrival.run_key,
        job_name=CASES_IMPORT,
        partition_key=PartitionScope(arrival.agency, arrival.jimu).key,
        run_config=import_run_config(str(arrival.file)),
        tags={"tenken/source": "inbox", "tenken/round": arrival.round_id},
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
    agencies = set(context.instance.get_dynamic_partitions(AGENCY))
    jimus = set(context.instance.get_dynamic_partitions(JIMU))
    requests = []
    for arrival in scan_returned(layout.inbox, now=time.time(), settle_seconds=SETTLE_SECONDS):
        if arrival.agency not in agencies or arrival.jimu not in jimus:
            # cases only exist for partitions that have been run
            context.log.warning(f"{arrival.file}: {arrival.agency} {arrival.jimu} はまだ照合されていません")
            continue
        requests.append(import_request(arrival))
    return dg.SensorResult(run_requests=requests)
