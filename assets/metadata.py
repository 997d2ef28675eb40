"""Asset metadata: what the UI shows of a materialization, and the keys code reads back.

No resident row ever goes into metadata (the instance is kept when a round's files are
purged, and anyone who opens the UI reads it): stages show counts, distributions and the
column schema, never a preview of their rows.

Metadata is written for people (Japanese labels in the UI). A few values are also read back
by code: retention finds the files a round wrote, the evidence checks find F2 and F4, the CLI
prints counts and paths. Those keys are named once here, and writers and readers both use
the name, so relabelling a key in the UI cannot silently break ``tenken purge``.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
import polars as pl

from pipelines.privacy import scrub


class Key:
    """Metadata keys that code reads back (the value shown in the UI is the key itself)."""

    ROUND = "点検回"
    #: how input files were read, for the user (an encoding detected, columns ignored):
    #: one note a line; on 抽出 (F1, F1b) and 照会結果 (F3)
    READ_NOTES = "読み取りの注意"
    # 抽出
    ROWS_READ = "抽出件数"
    IN_SCOPE = "点検対象件数"
    OUT_OF_SCOPE = "対象外件数"
    NEEDS_FIX = "要修正件数"
    # 住基照会要求
    REQUESTS = "照会件数"
    REQUEST_FILES = "ファイル数"
    OUT_DIR = "出力先"
    MANIFEST = "マニフェスト"
    # 照合
    F4_FILE = "照合結果.csv"
    # 不一致確認
    F5_FILE = "確認作業リスト"
    AUDIT_EVENTS = "監査ログ件数"
    AUDIT_HEAD = "監査ログ末尾ハッシュ"
    IMPORT_APPLIED = "取込_適用"
    IMPORT_STATE_CHANGES = "取込_状態変更"
    IMPORT_UNCHANGED = "取込_変更なし"
    IMPORT_REPORT = "取込結果"
    # 定期報告（月次）
    REPORT_XLSX = "報告書（xlsx）"
    REPORT_CSV = "報告書（csv）"
    REPORT_CHART = "グラフ"
    MONTH_CLOSED = "月末締め"
    AS_OF = "集計時点"
    AGENCY_JIMU_TABLE = "団体×事務"

    @staticmethod
    def grade_count(grade: str) -> str:
        """The count of one 判定 (``A件数``)."""
        return f"{grade}件数"


def metadata_values(materialization: dg.AssetMaterialization | None) -> dict[str, Any]:
    """The plain values of a materialization's metadata (empty when there is none)."""
    return {k: v.value for k, v in materialization.metadata.items()} if materialization else {}


def markdown(frame: pl.DataFrame) -> str:
    """A small table of figures as Markdown (counts and labels: never resident rows)."""
    if frame.height == 0:
        return "(なし)"
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * frame.width
    rows = [
        "| " + " | ".join("" if v is None else scrub(str(v)) for v in r) + " |" for r in frame.iter_rows()
    ]
    return "\n".join([header, rule, *rows])


def table_markdown(frame: pl.DataFrame) -> dg.MetadataValue:
    return dg.MetadataValue.md(markdown(frame))


def counts_metadata(counts: dict[str, int], prefix: str = "") -> dict[str, Any]:
    return {f"{prefix}{k}": dg.MetadataValue.int(int(v)) for k, v in counts.items()}


def column_schema(frame: pl.DataFrame) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name, str(dtype)) for name, dtype in frame.schema.items()])
