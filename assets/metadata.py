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
import pandera.polars as pa
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


def _contract_names() -> dict[str, str]:
    """Code name → what the boundary files call it (the contract's Japanese column names)."""
    from schemas import cases, extract, inquiry_result, match_result, mismatch_review

    names: dict[str, str] = {}
    for column in (*extract.F1_COLUMNS, *extract.F1B_COLUMNS, *inquiry_result.F3_COLUMNS):
        names.setdefault(
            column.name, column.contract + (f"（{column.description}）" if column.description else "")
        )
    pairs = (*match_result.F4_COLUMNS, *mismatch_review.CASE_COLUMNS, *cases.HISTORY_COLUMNS)
    for contract, name in pairs:
        names.setdefault(name, contract)
    for staff in cases.CASE_STAFF_COLUMNS:
        names.setdefault(staff.name, staff.contract)
    return names


#: columns no boundary file names, described here
_OTHER_COLUMNS = {
    "round_id": "点検回",
    "extract_id": "取り込んだ F1（と F1b）の SHA-256 の先頭16桁",
    "line": "F1 の物理行番号（見出しが1行目）",
    "grade_rule": "判定に使った規則（判定ルール表の番号）",
    "level_name": "氏名の一致の度合い",
    "level_kana": "カナ氏名の一致の度合い",
    "level_birth_date": "生年月日の一致の度合い",
    "level_sex": "性別の一致の度合い",
    "level_municipality": "市区町村の一致の度合い",
    "level_town": "町字等の一致の度合い",
    "number_shared_by": "同じ個人番号が紐付いている他の宛名番号",
    "move_date": "異動年月日",
}


def column_descriptions(model: type[pa.DataFrameModel]) -> dict[str, str]:
    """Every column of a stage's pandera model with its Japanese description: the model's own
    ``Field(description=...)`` first, else the contract's column name."""
    contract = _contract_names()
    return {
        name: column.description or contract.get(name) or _OTHER_COLUMNS.get(name, "")
        for name, column in model.to_schema().columns.items()
    }


def described_column_schema(frame: pl.DataFrame, model: type[pa.DataFrameModel]) -> dg.TableSchema:
    """``column_schema`` with each column's description from the pandera model (shown in the UI)."""
    described = column_descriptions(model)
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, str(dtype), description=described.get(name) or None)
            for name, dtype in frame.schema.items()
        ]
    )
