"""The one partitioning of tenken: one partition per agency (地方公共団体コード) × 事務 that exists.

A single dynamic dimension whose keys name the combination, ``<団体コード>|<事務スラッグ>``
(e.g. ``392014|kaigo_hoken``). Two crossed dimensions would make the UI list every agency
with every 事務 (3 agencies × 4 事務 = 12 partitions, 8 of them "missing" although they never
existed); one key per real combination lists only what exists.

The key format is stable and readable: the 6-digit code, ``|``, the 事務 slug from
tenken.yaml (slugs are ``[a-z0-9_]``, so ``|`` never occurs inside one). It is also the
string form Dagster gave the former two-dimensional keys, so run history recorded before this
change names the same partitions.

Keys are registered when files arrive (inbox sensor), when the recheck calendar starts a
round, or when the CLI is used; the caller validates agency and 事務 first (check digit;
known 事務). This module is the single place that builds, parses, registers and looks up keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg

#: the name of the dynamic partitions definition (what the UI and the instance call it)
INSPECTION = "inspection"
#: between the agency code and the 事務 slug in a partition key
SEPARATOR = "|"

inspection_partitions = dg.DynamicPartitionsDefinition(name=INSPECTION)


@dataclass(frozen=True)
class PartitionScope:
    agency: str
    jimu: str

    def __post_init__(self) -> None:
        if not self.agency or not self.jimu or SEPARATOR in self.agency + self.jimu:
            raise ValueError(
                f"団体コードと事務は空でなく '{SEPARATOR}' を含まないこと（{self.agency!r}, {self.jimu!r}）"
            )

    @property
    def key(self) -> str:
        """The partition key: ``<団体コード>|<事務スラッグ>``."""
        return f"{self.agency}{SEPARATOR}{self.jimu}"

    @classmethod
    def parse(cls, key: str) -> PartitionScope:
        """The scope a partition key names (the inverse of :attr:`key`)."""
        agency, sep, jimu = key.partition(SEPARATOR)
        if not sep:
            raise ValueError(f"区分キーは <団体コード>{SEPARATOR}<事務> の形式です: {key!r}")
        return cls(agency, jimu)


def partition_scope(context: dg.AssetExecutionContext) -> PartitionScope:
    """The agency and 事務 of the partition being materialized, as plain strings."""
    return PartitionScope.parse(context.partition_key)


def _new_keys(instance: dg.DagsterInstance, scopes: Iterable[PartitionScope]) -> list[str]:
    """The keys of ``scopes`` the instance does not hold yet (sorted, each once)."""
    wanted = {s.key for s in scopes}
    if not wanted:
        return []
    return sorted(wanted - set(instance.get_dynamic_partitions(INSPECTION)))


def partition_requests(
    instance: dg.DagsterInstance, scopes: Iterable[PartitionScope]
) -> list[dg.AddDynamicPartitionsRequest]:
    """What a sensor returns to add the partitions of ``scopes`` that are new (the daemon
    adds them before it launches the runs)."""
    new = _new_keys(instance, scopes)
    return [inspection_partitions.build_add_request(new)] if new else []


def register(instance: dg.DagsterInstance, scope: PartitionScope) -> None:
    """Add the partition of ``scope`` if it is new (the caller has validated it)."""
    new = _new_keys(instance, [scope])
    if new:
        instance.add_dynamic_partitions(INSPECTION, new)


def is_known(instance: dg.DagsterInstance, scope: PartitionScope) -> bool:
    """Whether the partition of ``scope`` exists (some run has registered it)."""
    return instance.has_dynamic_partition(INSPECTION, scope.key)
