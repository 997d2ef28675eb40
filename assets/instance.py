"""The tenken home as a Dagster instance: create it, open it.

The top-level ``dagster.yaml`` of the repository is the one source of the instance
configuration; the wheel carries it as ``assets/dagster.yaml``.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import dagster as dg

from pipelines.privacy import DIR_MODE, FILE_MODE, private_dir


def instance_yaml() -> str:
    packaged = resources.files("assets").joinpath("dagster.yaml")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    # an editable install or a source checkout: the repository's file
    return (Path(__file__).resolve().parents[1] / "dagster.yaml").read_text(encoding="utf-8")


def ensure_home(home: Path) -> Path:
    """Create the home (0700) with its dagster.yaml if needed; never overwrite a user's file."""
    private_dir(home)
    os.chmod(home, DIR_MODE)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(instance_yaml(), encoding="utf-8")
        os.chmod(config, FILE_MODE)
    private_dir(home / "data")
    return home


def open_instance(home: Path) -> dg.DagsterInstance:
    """The persistent instance of ``home`` (the same one ``tenken ui`` shows)."""
    ensure_home(home)
    # dagster's own telemetry switch, on top of `telemetry.enabled: false` in dagster.yaml
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "yes")
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.from_config(str(home))
