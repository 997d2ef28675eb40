"""The one partitioning of tenken: agency (地方公共団体コード) × 事務 (slug).

Both dimensions are dynamic. Agencies are registered when their files arrive (inbox
sensor) or when the CLI is used; 事務 keys come from the 事務 table in tenken.yaml and are
registered the same way, so an agency that adds a 事務 by configuration never edits code.
Keys are validated before registration (check digit; known 事務).
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

AGENCY = "agency"
JIMU = "jimu"

agency_partitions = dg.DynamicPartitionsDefinition(name=AGENCY)
jimu_partitions = dg.DynamicPartitionsDefinition(name=JIMU)
inspection_partitions = dg.MultiPartitionsDefinition({AGENCY: agency_partitions, JIMU: jimu_partitions})


@dataclass(frozen=True)
class PartitionScope:
    agency: str
    jimu: str

    @property
    def key(self) -> dg.MultiPartitionKey:
        return dg.MultiPartitionKey({AGENCY: self.agency, JIMU: self.jimu})


def partition_scope(context: dg.AssetExecutionContext) -> PartitionScope:
    """The agency and 事務 of the partition being materialized, as plain strings."""
    key = context.partition_key
    assert isinstance(key, dg.MultiPartitionKey)
    dims = key.keys_by_dimension
    return PartitionScope(agency=dims[AGENCY], jimu=dims[JIMU])


def register(instance: dg.DagsterInstance, agency: str, jimu: str) -> None:
    """Add the partition keys if they are new (the caller has validated them)."""
    if not instance.has_dynamic_partition(AGENCY, agency):
        instance.add_dynamic_partitions(AGENCY, [agency])
    if not instance.has_dynamic_partition(JIMU, jimu):
        instance.add_dynamic_partitions(JIMU, [jimu])
