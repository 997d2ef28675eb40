"""Where a tenken home keeps things. One folder holds everything of one installation.

::

    <home>/                      = DAGSTER_HOME
      dagster.yaml               instance configuration (SQLite storage, telemetry off)
      tenken.yaml                the agency's settings (optional)
      storage/                   Dagster's run and event storage (SQLite)
      data/                      0700 — holds 個人番号 (or instance.data_root, a shared folder)
        cases.sqlite                             case store of 不一致確認 (default; or PostgreSQL)
        store/<asset>/<agency>/<jimu>.parquet    stage outputs between assets
        inbox/<agency>/<jimu>/<round>/           files dropped here start runs (sensor)
          extract/*.csv                          F1 (one file) and, optionally,
          atena/*.csv                            F1b
          result/*.csv                           F3, one or more files
          returned/*.xlsx                        F5 filled in by staff (imported by a sensor)
        rounds/<agency>/<jimu>/<round>/
          request/                               F2 files, manifest.json, SHA256SUMS
          result/                                照合結果.csv (F4), 確認作業リスト.xlsx (F5)
          inquiry_numbers.parquet                宛名番号 → 照会番号 of this round (stable)
          errors/                                error reports of refused inputs
        audit/削除記録.csv                        what the retention purge deleted (kept)
      evidence/<agency>/<jimu>/                  Great Expectations Data Docs (no 個人番号)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from schemas.config import TenkenSettings, load_settings


@dataclass(frozen=True)
class HomeLayout:
    """The folders of one home. ``data_root`` replaces ``<home>/data`` when tenken.yaml's
    ``instance.data_root`` names a shared folder (every machine and worker of a shared
    deployment reads and writes the same files there)."""

    home: Path
    data_root: Path | None = None

    @classmethod
    def of(cls, home: Path, settings: TenkenSettings | None = None) -> HomeLayout:
        """The layout of ``home`` as its tenken.yaml configures it."""
        root = (settings or load_settings(home / "tenken.yaml")).instance.data_root
        return cls(home, Path(root) if root else None)

    @property
    def config_file(self) -> Path:
        return self.home / "tenken.yaml"

    @property
    def data(self) -> Path:
        return self.data_root or self.home / "data"

    @property
    def store(self) -> Path:
        return self.data / "store"

    @property
    def inbox(self) -> Path:
        return self.data / "inbox"

    def round_dir(self, agency: str, jimu: str, round_id: str) -> Path:
        return self.data / "rounds" / agency / jimu / round_id

    def request_dir(self, agency: str, jimu: str, round_id: str) -> Path:
        return self.round_dir(agency, jimu, round_id) / "request"

    def result_dir(self, agency: str, jimu: str, round_id: str) -> Path:
        return self.round_dir(agency, jimu, round_id) / "result"

    def errors_dir(self, agency: str, jimu: str, round_id: str) -> Path:
        return self.round_dir(agency, jimu, round_id) / "errors"

    def inquiry_registry(self, agency: str, jimu: str, round_id: str) -> Path:
        return self.round_dir(agency, jimu, round_id) / "inquiry_numbers.parquet"

    def evidence_dir(self, agency: str, jimu: str) -> Path:
        return self.home / "evidence" / agency / jimu
