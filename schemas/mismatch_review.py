"""不一致確認 (mismatch_review): F5 確認作業リスト, the cases staff confirm.

Grain of ``MismatchCases``: one row per case: every B and C record of the round, and every
要修正 row (a wrong check digit or a blank number is itself a finding). The case id is
stable: ``<点検回>-<照会番号>`` for a record that was looked up, ``<点検回>-R<行番号>`` for a
要修正 row (it never got a 照会番号).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandera.polars as pa

from schemas.codes import Grade


@dataclass(frozen=True)
class StaffColumn:
    """A column staff fill in; ``choices`` restricts it (Excel data validation)."""

    contract: str
    name: str
    choices: tuple[str, ...] = ()
    is_date: bool = False
    width: int = 12


STAFF_COLUMNS: tuple[StaffColumn, ...] = (
    StaffColumn("担当者", "assignee", width=10),
    StaffColumn("確認方法", "method", ("本人確認書類", "電話", "郵送", "訪問", "業務記録"), width=12),
    StaffColumn("確認結果", "outcome", ("本人の番号", "紐付け誤り", "確認不能"), width=12),
    StaffColumn("確認日", "confirmed_on", is_date=True, width=11),
    StaffColumn("自動応答不可設定", "auto_reply_block", ("未", "設定済", "解除済"), width=10),
    StaffColumn("是正内容", "correction", width=24),
    StaffColumn("是正日", "corrected_on", is_date=True, width=11),
    StaffColumn("閲覧有無", "viewed", ("有", "無", "未確認"), width=9),
    StaffColumn("漏えい等報告", "breach_report", ("要", "不要", "報告済"), width=10),
    StaffColumn("確認者", "reviewer", width=10),
    StaffColumn("備考", "note", width=30),
)

#: read-only columns of F5, in order: (header, code column)
CASE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("案件番号", "case_id"),
    ("優先度", "priority"),
    ("判定", "grade"),
    ("判定理由", "grade_reason"),
    ("推定原因", "likely_cause"),
    ("真の持ち主と思われる宛名番号", "likely_owner"),
    ("宛名番号", "atena_no"),
    ("個人番号", "my_number_masked"),
    ("照会番号", "inquiry_no"),
    ("氏名判定", "judgement_name"),
    ("カナ判定", "judgement_kana"),
    ("生年月日判定", "judgement_birth_date"),
    ("性別判定", "judgement_sex"),
    ("市区町村判定", "judgement_municipality"),
    ("町字等判定", "judgement_town"),
    ("業務_氏名", "biz_name"),
    ("住基_氏名", "juki_name"),
    ("業務_氏名カナ", "biz_kana"),
    ("住基_氏名カナ", "juki_kana"),
    ("業務_生年月日", "biz_birth_date"),
    ("住基_生年月日", "juki_birth_date"),
    ("業務_性別", "biz_sex"),
    ("住基_性別", "juki_sex"),
    ("業務_住所", "biz_address"),
    ("住基_住所", "juki_address"),
)

CASE_GRADES = [Grade.B.value, Grade.C.value, "要修正"]


class MismatchCases(pa.DataFrameModel):
    case_id: str = pa.Field(unique=True, str_matches=r"^[A-Za-z0-9_-]+-(\d{10}|R\d{7})$")
    round_id: str
    priority: int = pa.Field(ge=1, le=9)
    grade: str = pa.Field(isin=CASE_GRADES, description="B / C / 要修正")
    grade_reason: str
    likely_cause: str | None = pa.Field(nullable=True)
    likely_owner: str | None = pa.Field(nullable=True)
    atena_no: str | None = pa.Field(nullable=True)
    my_number: str | None = pa.Field(nullable=True, description="個人番号（特定個人情報）")
    inquiry_no: str | None = pa.Field(nullable=True)
    judgement_name: str | None = pa.Field(nullable=True)
    judgement_kana: str | None = pa.Field(nullable=True)
    judgement_birth_date: str | None = pa.Field(nullable=True)
    judgement_sex: str | None = pa.Field(nullable=True)
    judgement_municipality: str | None = pa.Field(nullable=True)
    judgement_town: str | None = pa.Field(nullable=True)
    biz_name: str | None = pa.Field(nullable=True)
    juki_name: str | None = pa.Field(nullable=True)
    biz_kana: str | None = pa.Field(nullable=True)
    juki_kana: str | None = pa.Field(nullable=True)
    biz_birth_date: str | None = pa.Field(nullable=True)
    juki_birth_date: str | None = pa.Field(nullable=True)
    biz_sex: str | None = pa.Field(nullable=True)
    juki_sex: str | None = pa.Field(nullable=True)
    biz_address: str | None = pa.Field(nullable=True)
    juki_address: str | None = pa.Field(nullable=True)

    class Config:
        strict = True
