"""照会結果 (inquiry_result): F3 結果CSV and the result records joined to what was sent.

Grain of ``InquiryResults``: one row per request row (照会番号), each back exactly once.
"""

from __future__ import annotations

from datetime import date

import pandera.polars as pa

from schemas.codes import ResultCode
from schemas.columns import Column

F3_COLUMNS = (
    Column("照会番号", "inquiry_no", True, "送ったとおり"),
    Column("個人番号", "my_number", True, "送ったとおり"),
    Column("処理結果", "result_code", True, "00 該当あり / 10 該当なし / 20 消除者 / 90 エラー"),
    Column("氏名", "juki_name", True, "漢字氏名（外字は〓）"),
    Column("氏名カナ", "juki_kana", True, "カタカナ、空欄可（振り仮名未記録）"),
    Column("生年月日", "juki_birth_date_text", True, "YYYYMMDD"),
    Column("性別", "juki_sex", True, "1/2"),
    Column("住所", "juki_address", True, "都道府県から"),
    Column("異動事由", "move_reason", False, "死亡, 国外転出, 転出 など"),
    Column("異動年月日", "move_date_text", False, "YYYYMMDD"),
)


class InquiryResults(pa.DataFrameModel):
    round_id: str
    extract_id: str
    inquiry_no: str = pa.Field(unique=True, str_matches=r"^\d{10}$")
    atena_no: str = pa.Field(unique=True)
    my_number: str = pa.Field(str_matches=r"^\d{12}$")
    result_code: str = pa.Field(isin=[c.value for c in ResultCode])
    juki_name: str | None = pa.Field(nullable=True)
    juki_kana: str | None = pa.Field(nullable=True)
    juki_birth_date: date | None = pa.Field(nullable=True)
    juki_sex: str | None = pa.Field(nullable=True, isin=["1", "2"])
    juki_address: str | None = pa.Field(nullable=True)
    move_reason: str | None = pa.Field(nullable=True)
    move_date: date | None = pa.Field(nullable=True)
    result_file: str = pa.Field(description="この行が載っていた F3 ファイル名")

    class Config:
        strict = True
