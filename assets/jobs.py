"""The jobs of a round, and the run configuration each one takes.

Phase 1 (``phase1_request``) ends when F2 is written; days later F3 comes back and phase 2
(``phase2_match``) runs. ``cases_import`` takes a workbook staff returned. All three are
partitioned by agency × 事務; re-running a partition is safe (照会番号 are stable, outputs
are replaced atomically, cases keep their ids). The CLI, the sensors and the UI launchpad
start them with the same run configuration.
"""

from __future__ import annotations

import dagster as dg

from assets.stages.extract import extract
from assets.stages.inquiry_request import inquiry_request
from assets.stages.inquiry_result import inquiry_result
from assets.stages.match_result import match_result
from assets.stages.mismatch_review import mismatch_review
from assets.stages.periodic_report import periodic_report
from schemas.config import InstanceSettings

PHASE1 = "phase1_request"
PHASE2 = "phase2_match"
CASES_IMPORT = "cases_import"

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
cases_import_job = dg.define_asset_job(
    CASES_IMPORT,
    selection=dg.AssetSelection.assets(mismatch_review),
    description="返却された確認作業リストを検証して案件ストアに取り込み、確認作業リストを作り直す",
)


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


def import_run_config(returned_file: str, out_dir: str = "") -> dict:
    return {"ops": {"mismatch_review": {"config": {"returned_file": returned_file, "out_dir": out_dir}}}}


def on_instance(run_config: dict, settings: InstanceSettings) -> dict:
    """``run_config`` as the deployment runs it: on Celery workers (``instance.executor:
    celery``), with the broker and backend of tenken.yaml, which the executor of
    ``assets.shared_definitions`` reads from the run's configuration."""
    if settings.executor != "celery":
        return run_config
    return {**run_config, "execution": {"config": settings.celery_config()}}
