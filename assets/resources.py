"""Resources, declared once: the tenken workspace, the case store and the private parquet IO manager.

Both default to the Dagster instance's home (DAGSTER_HOME), so the CLI, ``dagster dev`` and
tests with a temporary instance all find the same files without reading the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from pydantic import Field
from upath import UPath

from assets.partitions import SEPARATOR
from pipelines.cases.store import CaseStore, store_url
from pipelines.home import HomeLayout
from pipelines.privacy import (
    DIR_MODE,
    ParquetParts,
    private_dir,
    write_private_parquet,
)
from schemas.config import TenkenSettings, load_settings


def _instance_home(instance: dg.DagsterInstance | None) -> Path:
    root = instance.root_directory if instance is not None else None
    if not root:
        raise dg.DagsterInvariantViolationError(
            "tenken needs a persistent Dagster instance (DAGSTER_HOME) or an explicit home"
        )
    return Path(root)


class TenkenWorkspace(dg.ConfigurableResource):
    """Where this installation keeps its data and settings (a tenken home)."""

    home: str | None = Field(default=None, description="tenken home; default: the instance's DAGSTER_HOME")
    config_file: str | None = Field(default=None, description="tenken.yaml; default: <home>/tenken.yaml")

    def _home(self, instance: dg.DagsterInstance | None) -> Path:
        return Path(self.home) if self.home else _instance_home(instance)

    def settings(self, instance: dg.DagsterInstance | None) -> TenkenSettings:
        home = self._home(instance)
        return load_settings(Path(self.config_file) if self.config_file else home / "tenken.yaml")

    def layout(self, instance: dg.DagsterInstance | None) -> HomeLayout:
        return HomeLayout.of(self._home(instance), self.settings(instance))


class CaseStoreResource(dg.ConfigurableResource):
    """The case store of 不一致確認, where tenken.yaml puts it (SQLite in the home by default,
    or a PostgreSQL database). Opened for one unit of work and closed again, so a long-lived
    process (the daemon, the UI) holds no connection between runs."""

    workspace: TenkenWorkspace

    def open(self, instance: dg.DagsterInstance | None) -> CaseStore:
        """The store, created and migrated if needed; use it as a context manager."""
        settings = self.workspace.settings(instance)
        return CaseStore.for_settings(settings.cases, self.workspace.layout(instance).home)

    def exists(self, instance: dg.DagsterInstance | None) -> bool:
        """Whether a store was ever created (a new home has none; a database always counts)."""
        url = store_url(self.workspace.settings(instance).cases, self.workspace.layout(instance).home)
        return not url.startswith("sqlite:///") or Path(url.removeprefix("sqlite:///")).exists()


class _PrivateParquet(dg.UPathIOManager):
    """Stage outputs as parquet at ``<store>/<asset>/<agency>/<jimu>.parquet``, 0600 in 0700.

    An input annotated ``pl.LazyFrame`` is a scan of the file (only what the step uses is
    read); ``pl.DataFrame`` reads it whole. Stages hand over ``ParquetParts`` they wrote
    themselves: one part is renamed into place, several (照合's slices) are streamed into one
    file; a ``pl.DataFrame`` is written as it is.
    """

    extension = ".parquet"

    def get_path_for_partition(
        self, context: dg.InputContext | dg.OutputContext, path: UPath, partition: str
    ) -> UPath:
        """``392014|kaigo_hoken`` is stored at ``<asset>/392014/kaigo_hoken`` (one folder per agency)."""
        return super().get_path_for_partition(context, path, partition.replace(SEPARATOR, "/"))

    def make_directory(self, path: UPath) -> None:
        private_dir(Path(str(path)))

    def dump_to_path(self, context: dg.OutputContext, obj: Any, path: UPath) -> None:
        if not isinstance(obj, pl.DataFrame | ParquetParts):
            raise TypeError(f"{context.asset_key}: expected a polars DataFrame, got {type(obj)}")
        target = Path(str(path))
        private_dir(target.parent)
        if isinstance(obj, ParquetParts):
            obj.move_to(target)
        else:
            write_private_parquet(target, obj)

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pl.DataFrame | pl.LazyFrame:
        target = Path(str(path))
        if not target.exists():
            stage = context.asset_key.to_user_string()
            raise FileNotFoundError(
                f"{stage} はこの区分（団体×事務）ではまだ作られていません。前の段階を先に実行してください"
                " (tenken request → tenken match) [REQUEST_MISSING]"
            )
        if context.dagster_type.typing_type is pl.LazyFrame:
            # read lazily: the step reads only the columns and rows it uses
            return pl.scan_parquet(target)
        return pl.read_parquet(target)


class PrivateParquetIOManager(dg.ConfigurableIOManagerFactory):
    """Polars frames between stages (they hold 個人番号: files are private)."""

    base_dir: str | None = Field(default=None, description="default: <instance home>/data/store")

    def create_io_manager(self, context: dg.InitResourceContext) -> _PrivateParquet:
        base = Path(self.base_dir) if self.base_dir else HomeLayout.of(_instance_home(context.instance)).store
        private_dir(base)
        os.chmod(base, DIR_MODE)
        return _PrivateParquet(base_path=UPath(str(base)))


def tenken_resources(home: str | None = None) -> dict[str, Any]:
    """Every resource of tenken, for one home (default: the instance's DAGSTER_HOME)."""
    workspace = TenkenWorkspace(home=home)
    return {
        "workspace": workspace,
        "case_store": CaseStoreResource(workspace=workspace),
        "io_manager": PrivateParquetIOManager(),
    }
