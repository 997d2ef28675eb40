"""Run configuration of the stage assets (what the CLI, the sensor and the launchpad pass)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field


class ExtractConfig(dg.Config):
    """Phase 1 input: the business-system extract of one agency × 事務."""

    extract_file: str = Field(description="F1 点検用元ファイル（CSV）のパス")
    atena_file: str = Field(default="", description="F1b 統合宛名ファイルのパス（任意）")
    round_id: str = Field(default="", description="点検回（既定: 年度。例 2026）")


class OutputDirConfig(dg.Config):
    """Where files for people are written (default: the round's folder in the tenken home)."""

    out_dir: str = Field(
        default="", description="出力先フォルダ（既定: <home>/data/rounds/<団体>/<事務>/<点検回>/…）"
    )


class InquiryResultConfig(dg.Config):
    """Phase 2 input: the 住基ネット result files (F3)."""

    result_path: str = Field(description="F3 結果CSV のパス、または F3 が入ったフォルダ")
    round_id: str = Field(default="", description="点検回（既定: 照会要求を作ったときの点検回）")


class MonthlyReportConfig(dg.Config):
    """Where the report files go, and optionally one prefecture's roll-up only."""

    out_dir: str = Field(default="", description="出力先フォルダ（既定: <home>/reports/<YYYY-MM>/）")
    prefecture: str = Field(default="", description="都道府県コード（例 390003 または 39）。既定: 全団体")
