"""Every partitioned step holds its partition's lease: one run per agency × 事務 at a time.

The rule and its storage are in ``pipelines.ops.partition_lease``; this is the Dagster side:
the run asking is ``context.run_id``, and whether the holding run is still going is read from
the instance (so a finished, failed or abandoned run never blocks a partition).
"""

from __future__ import annotations

import dagster as dg

from assets.resources import CaseStoreResource
from pipelines.ops import partition_lease
from pipelines.ops.partition_lease import PartitionBusy


def run_is_active(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether the run ``run_id`` is still going (not finished, failed or canceled)."""
    run = instance.get_run_by_id(run_id)
    return run is not None and not run.is_finished


def hold_partition(context: dg.AssetExecutionContext, case_store: CaseStoreResource) -> None:
    """Take this run's lease of the partition before the step touches anything; a step of a run
    that does not hold it fails with ``PARTITION_BUSY`` (nothing stored, nothing changed)."""
    instance = context.instance
    with case_store.open(instance) as store:
        try:
            partition_lease.take(
                store,
                context.partition_key,
                context.run.run_id,
                is_active=lambda run_id: run_is_active(instance, run_id),
            )
        except PartitionBusy as e:
            raise dg.Failure(description=str(e), allow_retries=False) from None
