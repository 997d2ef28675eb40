"""The one partitioning of tenken: agency (地方公共団体コード) × 事務 (slug).

Both dimensions are dynamic. Agencies are registered when their files arrive (inbox
sensor) or when the CLI is used; 事務 keys come from the 事務 table in tenken.yaml and are
registered the same way, so an agency that adds a 事務 by configuration never edits code.
Keys are validated before registration (check digit; known 事務).
"""

from __future__ import annotations

from collections.abc import Iterable
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


def _new_keys(instance: dg.DagsterInstance, scopes: Iterable[PartitionScope]) -> dict[str, list[str]]:
    """Per dimension, the keys of ``scopes`` the instance does not hold yet (sorted)."""
    scopes = list(scopes)
    wanted = {AGENCY: {s.agency for s in scopes}, JIMU: {s.jimu for s in scopes}}
    return {
        dim: sorted(keys - set(instance.get_dynamic_partitions(dim))) for dim, keys in wanted.items() if keys
    }


def partition_requests(
    instance: dg.DagsterInstance, scopes: Iterable[PartitionScope]
) -> list[dg.AddDynamicPartitionsRequest]:
    """What a sensor returns to add the partitions of ``scopes`` that are new (the daemon
    adds them before it launches the runs)."""
    definitions = {AGENCY: agency_partitions, JIMU: jimu_partitions}
    new = _new_keys(instance, scopes)
    return [definitions[dim].build_add_request(keys) for dim, keys in new.items() if keys]


def register(instance: dg.DagsterInstance, scope: PartitionScope) -> None:
    """Add the partition of ``scope`` if it is new (the caller has validated it)."""
    for dim, keys in _new_keys(instance, [scope]).items():
        if keys:
            instance.add_dynamic_partitions(dim, keys)


def is_known(instance: dg.DagsterInstance, scope: PartitionScope) -> bool:
    """Whether the partition of ``scope`` exists (some run has registered it)."""
    return instance.has_dynamic_partition(AGENCY, scope.agency) and instance.has_dynamic_partition(
        JIMU, scope.jimu
    )
