"""Shared fixtures: settings, a tenken home on a real (temporary) Dagster instance, and
small synthetic extracts with ground truth."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# The tests never talk to the network; dagster must not try telemetry either.
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "yes")

# Temporary homes on tmpfs when the machine has one: Dagster's SQLite storage syncs every
# event to disk (≈25 ms each here), which made a run 3-4× slower than its work. What the
# tests check — content, modes, process kills — does not depend on the disk. Set
# PYTEST_DEBUG_TEMPROOT (pytest's documented knob) yourself to choose another place.
_RAM = Path("/dev/shm")
if _RAM.is_dir() and os.access(_RAM, os.W_OK) and "PYTEST_DEBUG_TEMPROOT" not in os.environ:
    os.environ["PYTEST_DEBUG_TEMPROOT"] = str(_RAM)


@pytest.fixture()
def settings():
    from schemas.config import load_settings

    return load_settings(None)


@pytest.fixture()
def home(tmp_path: Path) -> Iterator[object]:
    """A fresh tenken home (its own SQLite Dagster instance) under tmp_path."""
    from tenken.runner import Home

    yield Home(tmp_path / "home")


@pytest.fixture(scope="session")
def small_data():
    """2,000 synthetic rows of 高知市 × kaigo_hoken with ground truth (generated once)."""
    from demo.generator import generate

    return generate(2000, agency="392014", jimu="kaigo_hoken", seed=11)


@pytest.fixture(scope="session", autouse=True)
def no_number_left_by_any_test(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """After the whole suite: no tenken home any test made holds a 個人番号 of any input
    outside its data folder (issue 11). Every test's inputs and outputs under pytest's temporary
    folder and the fixture corpus give the numbers; every folder with a dagster.yaml is a
    home whose instance storage (runs, events, compute logs, evidence) is swept.
    """
    yield
    from tests.leaks import instance_storage, leaked, numbers_in

    base = tmp_path_factory.getbasetemp()
    here = Path(__file__).resolve().parent
    numbers = numbers_in([*base.rglob("*.csv"), *(here / "fixtures").rglob("*.csv")])
    homes = sorted({p.parent for p in base.rglob("dagster.yaml") if (p.parent / "data").is_dir()})
    storage = [s for home in homes for s in instance_storage(home) if s.name != "dagster.yaml"]
    found = leaked(numbers, paths=storage)
    assert found == [], f"{len(found)} 個人番号 left in the instance storage of test homes: {found[:10]}"
