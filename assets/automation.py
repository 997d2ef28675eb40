"""Jobs and the inbox sensor: the two phases of a round.

Phase 1 (``phase1_request``) ends when F2 is written; days later F3 comes back and phase 2
(``phase2_match``) runs. Both are partitioned by agency × 事務; re-running a partition is
safe (照会番号 are stable, outputs are replaced atomically, cases keep their ids).
"""

import time

import dagster as dg

from assets.extract import extract
from assets.inquiry_request import inquiry_request
from assets.inquiry_result import inquiry_result
from assets.match_result import match_result
from assets.mismatch_review import mismatch_review
from assets.partitions import AGENCY, JIMU, PartitionScope, agency_partitions, jimu_partitions
from assets.periodic_report import periodic_report
from assets.resources import TenkenWorkspace
from pipelines.ops.inbox import Arrival, scan

PHASE1 = "phase1_request"
PHASE2 = "phase2_match"

phase1_job = dg.define_asset_job(
    PHASE1,
    selection=dg.AssetSelection.assets(extract, inquiry_request),
    description="第1段階: 抽出 → 住基照会要求（F2 を書いて終わる）",
)
phase2_job = dg.define_asset_job(
    PHASE2,
    selection=dg.AssetSelection.assets(inquiry_result, match_result, mismatch_review, periodic_report),
    description="第2段階: 照会結果 → 照合 → 不一致確認 → 定期報告",
)

SETTLE_SECONDS = 10.0


def phase1_run_config(extract_file: str, atena_file: str = "", round_id: str = "", out_dir: str = "") -> dict:
    return {
        "ops": {
            "extract": {
                "config": {"extract_file": extract_file, "atena_file": atena_file, "round_id": round_id}
            },
            "inquiry_request": {"config": {"out_dir": out_dir}},
        }
    }


def phase2_run_config(result_path: str, round_id: str = "", out_dir: str = "") -> dict:
    return {
        "ops": {
            "inquiry_result": {"config": {"result_path": result_path, "round_id": round_id}},
            "match_result": {"config": {"out_dir": out_dir}},
            "mismatch_review": {"config": {"out_dir": out_dir}},
        }
    }


def run_request(arrival: Arrival) -> dg.RunRequest:
    key = PartitionScope(arrival.agency, arrival.jimu).key
    tags = {"tenken/source": "inbox", "tenken/round": arrival.round_id}
    if arrival.phase == 1:
        extract_file, *atena = (str(p) for p in arrival.files)
        return dg.RunRequest(
            run_key=arrival.run_key,
            job_name=PHASE1,
            partition_key=key,
            run_config=phase1_run_config(extract_file, atena[0] if atena else "", arrival.round_id),
            tags=tags,
        )
    return dg.RunRequest(
        run_key=arrival.run_key,
        job_name=PHASE2,
        partition_key=key,
        run_config=phase2_run_config(str(arrival.files[0].parent), arrival.round_id),
        tags=tags,
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
    agencies = sorted({a.agency for a in runnable} - set(context.instance.get_dynamic_partitions(AGENCY)))
    jimus = sorted({a.jimu for a in runnable} - set(context.instance.get_dynamic_partitions(JIMU)))
    requests = []
    if agencies:
        requests.append(agency_partitions.build_add_request(agencies))
    if jimus:
        requests.append(jimu_partitions.build_add_request(jimus))
    return dg.SensorResult(
        run_requests=[run_request(a) for a in runnable],
        dynamic_partitions_requests=requests,
    )
