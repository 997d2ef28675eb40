"""照合 (match_result): F4 照合結果 and the match records.

Grain of ``MatchResults``: one row per 点検対象 record with its 住基ネット result.
"""

from __future__ import annotations

from datetime import date

import pandera.polars as pa

from schemas.codes import Grade, Judgement

#: F4 columns, exactly as the contract lists them, and the code column each comes from
F4_COLUMNS: tuple[tuple[str, str], ...] = (
    ("宛名番号", "atena_no"),
    ("個人番号", "my_number"),
    ("判定", "grade"),
    ("判定理由", "grade_reason"),
    ("氏名判定", "judgement_name"),
    ("カナ判定", "judgement_kana"),
    ("生年月日判定", "judgement_birth_date"),
    ("性別判定", "judgement_sex"),
    ("市区町村判定", "judgement_municipality"),
    ("町字等判定", "judgement_town"),
    ("推定原因", "likely_cause"),
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

_JUDGEMENTS = [j.value for j in Judgement]


class MatchResults(pa.DataFrameModel):
    round_id: str
    settings_digest: str = pa.Field(description="照合設定（MatchSettings）のハッシュ")
    inquiry_no: str = pa.Field(unique=True, str_matches=r"^\d{10}$")
    atena_no: str = pa.Field(unique=True)
    my_number: str = pa.Field(str_matches=r"^\d{12}$")
    result_code: str
    grade: str = pa.Field(isin=[g.value for g in Grade])
    grade_rule: str
    grade_reason: str
    judgement_name: str = pa.Field(isin=_JUDGEMENTS)
    judgement_kana: str = pa.Field(isin=_JUDGEMENTS)
    judgement_birth_date: str = pa.Field(isin=_JUDGEMENTS)
    judgement_sex: str = pa.Field(isin=_JUDGEMENTS)
    judgement_municipality: str = pa.Field(isin=_JUDGEMENTS)
    judgement_town: str = pa.Field(isin=_JUDGEMENTS)
    level_name: str
    level_kana: str
    level_birth_date: str
    level_sex: str
    level_municipality: str
    level_town: str
    likely_cause: str | None = pa.Field(nullable=True, description="推定原因（B・C のみ）")
    likely_cause_code: str | None = pa.Field(nullable=True, description="推定原因の英語コード（集計用）")
    likely_owner: str | None = pa.Field(nullable=True, description="真の持ち主と思われる宛名番号")
    priority: int = pa.Field(ge=1, le=9)
    number_shared_by: str | None = pa.Field(nullable=True)
    biz_name: str | None = pa.Field(nullable=True)
    biz_kana: str | None = pa.Field(nullable=True)
    biz_birth_date: date | None = pa.Field(nullable=True)
    biz_sex: str | None = pa.Field(nullable=True)
    biz_address: str | None = pa.Field(nullable=True)
    juki_name: str | None = pa.Field(nullable=True)
    juki_kana: str | None = pa.Field(nullable=True)
    juki_birth_date: date | None = pa.Field(nullable=True)
    juki_sex: str | None = pa.Field(nullable=True)
    juki_address: str | None = pa.Field(nullable=True)
    move_reason: str | None = pa.Field(nullable=True)
    move_date: date | None = pa.Field(nullable=True)

    class Config:
        strict = True
