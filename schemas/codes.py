"""Code tables of the contract, declared once. Values are what the files carry."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Scope(StrEnum):
    """Where every F1 row ends up. F1 rows = 対象外 + 要修正 + 点検対象."""

    IN_SCOPE = "点検対象"
    OUT_OF_SCOPE = "対象外"  # 取得経路 = 自動連携 (manual 5.(1)–(2))
    NEEDS_FIX = "要修正"  # row-level input errors, when the agency quarantines bad rows


class Grade(StrEnum):
    """判定 (manual 7.(6))."""

    A = "A"  # 確認不要（完全一致）
    B = "B"  # 要確認（入力ミス等による不一致の可能性）
    C = "C"  # 優先確認（別人への紐付けの可能性が高い）


GRADE_LABELS: Final = {
    Grade.A: "確認不要（完全一致）",
    Grade.B: "要確認",
    Grade.C: "優先確認",
}

#: 未照会: a 点検対象 row whose result has not come back yet (after phase 1 only)
NOT_YET_INQUIRED: Final = "未照会"


class Judgement(StrEnum):
    """Per-field outcome in F4."""

    EQUAL = "一致"
    VARIANT = "表記ゆれ一致"
    DIFFERENT = "不一致"
    NOT_COMPARABLE = "比較不能"  # blank on a side, or the 事務 does not hold the field


class ResultCode(StrEnum):
    """処理結果 of 住基ネット (F3)."""

    FOUND = "00"
    NOT_FOUND = "10"
    DELETED = "20"
    ERROR = "90"


RESULT_LABELS: Final = {
    ResultCode.FOUND: "該当あり",
    ResultCode.NOT_FOUND: "該当なし",
    ResultCode.DELETED: "消除者",
    ResultCode.ERROR: "エラー",
}


class Field(StrEnum):
    """The compared fields of 基本4情報, in F4 order. 住所 is judged in two parts."""

    NAME = "name"  # 漢字氏名
    KANA = "kana"  # カナ氏名
    BIRTH_DATE = "birth_date"
    SEX = "sex"
    MUNICIPALITY = "municipality"  # 住所（市区町村）
    TOWN = "town"  # 住所（町字等）


FIELD_LABELS: Final = {
    Field.NAME: "氏名",
    Field.KANA: "カナ",
    Field.BIRTH_DATE: "生年月日",
    Field.SEX: "性別",
    Field.MUNICIPALITY: "市区町村",
    Field.TOWN: "町字等",
}

#: 性別 as written in F1 -> code. Agencies may add aliases in configuration.
SEX_CODES: Final = {"1": "1", "2": "2", "男": "1", "女": "2", "男性": "1", "女性": "2"}
SEX_LABELS: Final = {"1": "男", "2": "女"}

RESIDENT_CLASSES: Final = ("住登者", "住登外者")

AUTO_LINKED: Final = "自動連携"
ACQUISITION_ROUTES: Final = (AUTO_LINKED, "本人申告", "住基照会4情報", "住基照会3情報以下", "不明")

GETA: Final = "〓"  # 外字 placeholder in 住基ネット results (U+3013)
