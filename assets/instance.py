"""The tenken home as a Dagster instance: create it, open it.

The top-level ``dagster.yaml`` of the repository is the one source of the instance
configuration; the wheel carries it as ``assets/dagster.yaml``. Where the instance stores its
runs and events comes from the home's ``tenken.yaml`` (``instance:``): nothing for SQLite (the
default), a ``storage: postgres:`` block for a shared deployment. That block sits between two
marker lines of the home's dagster.yaml and is rewritten from tenken.yaml whenever the home is
opened; everything else in the file is the user's and is never touched.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import dagster as dg

from pipelines.home import HomeLayout
from pipelines.privacy import DIR_MODE, FILE_MODE, private_dir
from schemas.config import InstanceSettings, load_settings

BEGIN = "# --- storage, written by tenken from tenken.yaml `instance:` (edit tenken.yaml, not this) ---"
END = "# --- end of storage ---"


def instance_yaml() -> str:
    packaged = resources.files("assets").joinpath("dagster.yaml")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    # an editable install or a source checkout: the repository's file
    return (Path(__file__).resolve().parents[1] / "dagster.yaml").read_text(encoding="utf-8")


def storage_block(settings: InstanceSettings) -> str:
    """The dagster.yaml lines for ``settings`` between the markers (none for SQLite)."""
    if settings.storage == "sqlite":
        return ""
    # JSON strings are valid YAML scalars: a URL with ':' or '@' stays one string
    return f"storage:\n  postgres:\n    postgres_url: {json.dumps(settings.postgres_url)}\n"


def with_storage(text: str, block: str) -> str:
    """``text`` (a dagster.yaml) with the marked storage block set to ``block``."""
    section = f"{BEGIN}\n{block}{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        return f"{head}{section}{tail}"
    return f"{text.rstrip()}\n\n{section}"


def ensure_home(home: Path) -> Path:
    """Create the home (0700) with its dagster.yaml if needed, and keep the file's storage
    block in line with tenken.yaml; never change anything else a user wrote there."""
    private_dir(home)
    os.chmod(home, DIR_MODE)
    config = home / "dagster.yaml"
    settings = load_settings(home / "tenken.yaml")
    block = storage_block(settings.instance)
    current = config.read_text(encoding="utf-8") if config.exists() else None
    if current is None:
        wanted = with_storage(instance_yaml(), block)
    elif BEGIN in current or block:
        wanted = with_storage(current, block)
    else:
        wanted = current  # a file from before the markers, on SQLite: leave it as it is
    if wanted != current:
        config.write_text(wanted, encoding="utf-8")
        os.chmod(config, FILE_MODE)
    private_dir(HomeLayout.of(home, settings).data)
    return home


def open_instance(home: Path) -> dg.DagsterInstance:
    """The persistent instance of ``home`` (the same one ``tenken ui`` shows)."""
    ensure_home(home)
    # dagster's own telemetry switch, on top of `telemetry.enabled: false` in dagster.yaml
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "yes")
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.from_config(str(home))
