"""The one Definitions of tenken (``dagster dev -m assets.definitions``, ``dg check defs``)."""

from __future__ import annotations

import dagster as dg

from assets.automation import inbox_sensor, phase1_job, phase2_job
from assets.cases import cases_import_job, returned_workbook_sensor
from assets.evidence import EVIDENCE_CHECKS
from assets.extract import extract
from assets.inquiry_request import inquiry_request
from assets.inquiry_result import inquiry_result
from assets.match_result import match_result
from assets.mismatch_review import mismatch_review
from assets.monthly_report import (
    monthly_report,
    monthly_report_job,
    monthly_report_schedule,
    recheck_calendar,
    recheck_calendar_job,
    recheck_calendar_schedule,
    recheck_starter,
)
from assets.periodic_report import periodic_report
from assets.resources import PrivateParquetIOManager, TenkenWorkspace
from assets.retention import retention_job, retention_schedule

STAGE_ASSETS = (extract, inquiry_request, inquiry_result, match_result, mismatch_review, periodic_report)

defs = dg.Definitions(
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
    resources={
        "workspace": TenkenWorkspace(),
        "io_manager": PrivateParquetIOManager(),
    },
)
