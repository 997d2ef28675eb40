"""The one Definitions of tenken (``dagster dev -m assets.definitions``, ``dg check defs``)."""

from __future__ import annotations

import dagster as dg

from assets.automation import inbox_sensor, phase1_job, phase2_job
from assets.extract import extract
from assets.inquiry_request import inquiry_request
from assets.inquiry_result import inquiry_result
from assets.match_result import match_result
from assets.mismatch_review import mismatch_review
from assets.periodic_report import periodic_report
from assets.resources import PrivateParquetIOManager, TenkenWorkspace

STAGE_ASSETS = (extract, inquiry_request, inquiry_result, match_result, mismatch_review, periodic_report)

defs = dg.Definitions(
    assets=list(STAGE_ASSETS),
    jobs=[phase1_job, phase2_job],
    sensors=[inbox_sensor],
    resources={
        "workspace": TenkenWorkspace(),
        "io_manager": PrivateParquetIOManager(),
    },
)
