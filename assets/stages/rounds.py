"""Recording each completed phase of a round in the case store's round history.

Phase 1 is recorded by 住基照会要求, phase 2 by 定期報告 (the last stage of phase 2); the
monthly report and the recheck calendar read the history (``pipelines.cases.rounds``).
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from assets.resources import CaseStoreResource
from pipelines.cases.rounds import record_round


def record_phase(
    context: dg.AssetExecutionContext,
    case_store: CaseStoreResource,
    figures: Mapping[str, object],
    *,
    phase: int,
) -> None:
    """Append this partition's figures for ``phase`` (one small transaction)."""
    with case_store.open(context.instance) as store, store.writing() as conn:
        record_round(conn, figures, phase=phase, run_id=context.run.run_id)
