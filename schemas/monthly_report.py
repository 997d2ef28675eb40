"""定期報告（月次）: F6, the figures the national headquarters publishes, per month.

Grain of the agency × 事務 level: one row per agency × 事務 that is expected to report
(every registered partition), including those that have not started (``status`` 未着手).
A 合計 row follows; the agency and prefecture levels sum the same figures.
"""

from __future__ import annotations

from typing import Final

#: F6 figures in report order: code column → Japanese header (contract F6)
FIGURES: Final[dict[str, str]] = {
    "in_scope": "点検対象件数",
    "out_of_scope": "対象外件数",
    "grade_a": "A件数",
    "grade_b": "B件数",
    "grade_c": "C件数",
    "confirmed": "本人確認作業終了件数",
    "mislinked": "紐付け誤り件数",
    "mislink_rate": "紐付け誤り割合（%）",
    "viewed": "閲覧された件数",
    "resolved": "誤紐付けを解消した件数",
    "main_cause": "主な原因",
}

#: identifying columns of each level
KEYS: Final[dict[str, str]] = {
    "prefecture": "都道府県コード",
    "prefecture_name": "都道府県",
    "agency": "団体コード",
    "agency_name": "団体名",
    "jimu": "事務",
    "jimu_name": "事務名",
    "round_id": "点検回",
    "status": "状況",
    "agencies": "団体数",
}

#: figures that add up across rows (the rate and the cause are recomputed, not summed)
ADDITIVE: Final = (
    "in_scope",
    "out_of_scope",
    "grade_a",
    "grade_b",
    "grade_c",
    "confirmed",
    "mislinked",
    "viewed",
    "resolved",
)

STATUS_NOT_STARTED: Final = "未着手"
STATUS_REQUESTED: Final = "照会中"
STATUS_CHECKING: Final = "確認作業中"
STATUS_DONE: Final = "確認作業終了"
TOTAL_LABEL: Final = "合計"
