"""Shared fixtures of the Dagster tests: a real temporary instance with one partition."""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from assets.partitions import PartitionScope, register

#: the partition the asset tests run (高知市 × 介護保険)
SCOPE = PartitionScope("392014", "kaigo_hoken")


@pytest.fixture()
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """A persistent instance in ``tmp_path/home`` (the tenken home) with ``SCOPE`` registered."""
    home = tmp_path / "home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        register(inst, SCOPE)
        yield inst
