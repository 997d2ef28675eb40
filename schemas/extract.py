"""抽出 (extract): F1 点検用元ファイル, F1b 統合宛名ファイル, and the extract records.

Grain of ``ExtractRecords``: one row per data row of F1, whatever its fate (点検対象,
対象外 or 要修正), so the counts always reconcile with the file.
"""

from __future__ import annotations

from datetime import date

import pandera.polars as pa
import polars as pl

from schemas.codes import ACQUISITION_ROUTES, RESIDENT_CLASSES, Scope
from schemas.columns import Column

F1_COLUMNS = (
    Column("宛名番号", "atena_no", True, "団体内宛名番号（半角英数字1〜16桁、ファイル内で一意）"),
    Column("個人番号", "my_number", True, "12桁、検査用数字つき（F1b があるときは空欄可）"),
    Column("氏名", "name", True, "漢字氏名"),
    Column("氏名カナ", "name_kana", False, "カタカナ（全角・半角）またはひらがな"),
    Column("生年月日", "birth_date_text", True, "西暦・和暦・7桁元号コードのいずれか"),
    Column("性別", "sex_text", False, "1/2 または 男/女"),
    Column("住所", "address", False, "都道府県から、または市区町村から"),
    Column("住登区分", "resident_class", False, "住登者 / 住登外者"),
    Column("取得経路", "acquisition_route", False, "個人番号の取得経路"),
)

F1B_COLUMNS = (
    Column("宛名番号", "atena_no", True, "団体内宛名番号"),
    Column("個人番号", "my_number", True, "12桁、検査用数字つき"),
)


class ExtractRecords(pa.DataFrameModel):
    """The extract of one agency × 事務 × 点検回: every F1 row, normalised and scoped."""

    round_id: str = pa.Field(description="点検回")
    extract_id: str = pa.Field(description="取り込んだ F1（と F1b）の SHA-256 の先頭16桁")
    line: int = pa.Field(ge=2, unique=True, description="F1 の物理行番号（見出しが1行目）")
    atena_no: str | None = pa.Field(nullable=True, description="宛名番号")
    my_number: str | None = pa.Field(nullable=True, description="個人番号（特定個人情報）")
    name: str | None = pa.Field(nullable=True, description="漢字氏名")
    name_kana: str | None = pa.Field(nullable=True, description="カナ氏名")
    birth_date_text: str | None = pa.Field(nullable=True, description="生年月日（ファイルの表記のまま）")
    birth_date: date | None = pa.Field(nullable=True, description="生年月日（西暦）")
    sex: str | None = pa.Field(nullable=True, isin=["1", "2"], description="性別 1 男 / 2 女")
    address: str | None = pa.Field(nullable=True, description="住所")
    resident_class: str | None = pa.Field(nullable=True, isin=list(RESIDENT_CLASSES))
    acquisition_route: str | None = pa.Field(nullable=True, isin=list(ACQUISITION_ROUTES))
    scope: str = pa.Field(isin=[s.value for s in Scope], description="点検対象 / 対象外 / 要修正")
    problem_codes: str | None = pa.Field(nullable=True, description="行の誤りのコード（カンマ区切り）")

    class Config:
        strict = True

    @pa.dataframe_check(name="in_scope_rows_are_complete")
    @classmethod
    def _in_scope_complete(cls, data: pa.PolarsData) -> pl.LazyFrame:

        in_scope = pl.col("scope") == Scope.IN_SCOPE.value
        complete = (
            pl.all_horizontal(pl.col("atena_no", "my_number", "name", "birth_date").is_not_null())
            & pl.col("problem_codes").is_null()
        )
        return data.lazyframe.select(~in_scope | complete)
