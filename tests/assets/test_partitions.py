"""One partition per agency × 事務 that exists: never the cross product of the two."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from assets.definitions import defs
from assets.partitions import INSPECTION, PartitionScope, is_known, partition_requests, register

REAL = [
    PartitionScope("392014", "kaigo_hoken"),
    PartitionScope("392014", "jido_teate"),
    PartitionScope("011002", "shogaiji_nyusho"),
    PartitionScope("390003", "nanbyo"),
]


def test_key_names_the_combination_and_parses_back() -> None:
    scope = PartitionScope("392014", "kaigo_hoken")
    assert scope.key == "392014|kaigo_hoken"
    assert PartitionScope.parse(scope.key) == scope
    with pytest.raises(ValueError):
        PartitionScope.parse("392014")
    with pytest.raises(ValueError):
        PartitionScope("392014|x", "kaigo_hoken")


def test_every_stage_lists_only_the_combinations_that_exist(tmp_path: Path) -> None:
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        for scope in REAL:
            register(instance, scope)
        register(instance, REAL[0])  # again: no duplicate
        assert is_known(instance, REAL[2])
        assert not is_known(instance, PartitionScope("011002", "kaigo_hoken"))  # never crossed
        graph = defs.resolve_asset_graph()
        stages = [key for key in graph.get_all_asset_keys() if graph.get(key).partitions_def is not None]
        listed = {}
        for key in stages:
            partitions_def = graph.get(key).partitions_def
            assert partitions_def is not None
            if isinstance(partitions_def, dg.DynamicPartitionsDefinition):
                listed[key.to_user_string()] = partitions_def.get_partition_keys(
                    dynamic_partitions_store=instance
                )
        assert {"extract", "match_result", "periodic_report"} <= set(listed)
        for keys in listed.values():
            assert sorted(keys) == sorted(s.key for s in REAL)  # 4, not 3 agencies × 4 事務 = 12


def test_sensor_requests_add_only_new_combinations(tmp_path: Path) -> None:
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        register(instance, REAL[0])
        [request] = partition_requests(instance, REAL)
        assert request.partitions_def_name == INSPECTION
        assert sorted(request.partition_keys) == sorted(s.key for s in REAL[1:])
        for scope in REAL:
            register(instance, scope)
        assert partition_requests(instance, REAL) == []
