"""The one Definitions of tenken (``dagster dev -m assets.definitions``, ``dg check defs``).

``build_definitions`` is the one list of assets, checks, jobs, schedules, sensors and
resources; ``defs`` runs them on one PC. A shared deployment loads
``assets.shared_definitions`` instead: the same definitions, steps executed by Celery workers.
"""

from __future__ import annotations

import dagster as dg

from assets.jobs import cases_import_job, phase1_job, phase2_job
from assets.ops.evidence import EVIDENCE_CHECKS
from assets.ops.inbox import inbox_sensor, returned_workbook_sensor
from assets.ops.retention import retention_job, retention_schedule
from assets.reporting.monthly_report import monthly_report, monthly_report_job, monthly_report_schedule
from assets.reporting.recheck_calendar import (
    recheck_calendar,
    recheck_calendar_job,
    recheck_calendar_schedule,
    recheck_starter,
)
from assets.resources import tenken_resources
from assets.stages.extract import extract
from assets.stages.inquiry_request import inquiry_request
from assets.stages.inquiry_result import inquiry_result
from assets.stages.match_result import match_result
from assets.stages.mismatch_review import mismatch_review
from assets.stages.periodic_report import periodic_report

STAGE_ASSETS = (extract, inquiry_request, inquiry_result, match_result, mismatch_review, periodic_report)


def build_definitions(executor: dg.ExecutorDefinition | None = None) -> dg.Definitions:
    """Every definition of tenken; ``executor`` runs the steps of launched runs (default:
    Dagster's, in the run's own processes)."""
    return dg.Definitions(
        assets=[*STAGE_ASSETS, monthly_report, recheck_calendar],
        asset_checks=list(EVIDENCE_CHECKS),
        jobs=[
            phase1_job,
            phase2_job,
            cases_import_job,
            retention_job,
            monthly_report_job,
            recheck_calendar_job,
        ],
        schedules=[retention_schedule, monthly_report_schedule, recheck_calendar_schedule],
        sensors=[inbox_sensor, returned_workbook_sensor, recheck_starter],
        resources=tenken_resources(),
        executor=executor,
    )


defs = build_definitions()
