"""The six field comparisons of 照合, built from MatchSettings.

Columns they read (one row per 点検対象 record with its 住基ネット result): ``biz_name``,
``juki_name``, ``biz_kana``, ``juki_kana``, ``biz_birth_date``, ``juki_birth_date`` (Date),
``biz_sex``, ``juki_sex`` (``1``/``2``), ``biz_address``, ``juki_address``.
"""

from __future__ import annotations

import polars as pl

from pipelines.matching.address import split_addresses
from pipelines.matching.levels import Comparison, ElseLevel, Level, NullLevel, not_held
from pipelines.matching.normalize import (
    kana_form,
    kana_table,
    name_exact_form,
    name_folded_form,
    wildcard_equal_frame,
)
from pipelines.matching.settings import MatchSettings
from schemas.codes import Field, Judgement

EQ, VAR = Judgement.EQUAL, Judgement.VARIANT


def _eq(a: str, b: str) -> pl.Expr:
    return (pl.col(a) == pl.col(b)).fill_null(False)


def name_comparison(settings: MatchSettings) -> Comparison:
    itaiji = settings.itaiji()

    def prepare(frame: pl.DataFrame) -> pl.DataFrame:
        frame = frame.with_columns(
            name_exact_form(pl.col("biz_name")).alias("_n_biz_exact"),
            name_exact_form(pl.col("juki_name")).alias("_n_juki_exact"),
            name_folded_form(pl.col("biz_name"), itaiji).alias("_n_biz_fold"),
            name_folded_form(pl.col("juki_name"), itaiji).alias("_n_juki_fold"),
        )
        return wildcard_equal_frame(frame, "_n_biz_fold", "_n_juki_fold", "_n_wild")

    return Comparison(
        field=Field.NAME,
        prepare=prepare,
        blank_sides=("biz_name", "juki_name"),
        levels=(
            NullLevel("biz_name", "juki_name"),
            Level(EQ, "同じ表記", _eq("_n_biz_exact", "_n_juki_exact")),
            Level(VAR, "空白・下線・全角半角・異体字の違いを除いて一致", _eq("_n_biz_fold", "_n_juki_fold")),
            Level(VAR, "外字（〓）の位置を除いて一致（半数以上の文字が一致）", pl.col("_n_wild")),
            ElseLevel(),
        ),
        notes=(
            "異体字は内蔵の対応表（斎と斉のように別の字は統合しない）と設定の MJ縮退マップで統合",
            "JIS X 0208 にない文字は住基ネットの外字と同じく〓として扱う",
        ),
    )


def kana_comparison(settings: MatchSettings) -> Comparison:
    width = kana_table(voiced=False, small=False)
    folded = kana_table(voiced=True, small=settings.small_kana_is_variant)
    fold_label = "清音処理（濁点・半濁点を除く）" + (
        "・小書き文字（ャュョッ等）の大小" if settings.small_kana_is_variant else ""
    )

    def prepare(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            kana_form(pl.col("biz_kana"), width).alias("_k_biz_width"),
            kana_form(pl.col("juki_kana"), width).alias("_k_juki_width"),
            kana_form(pl.col("biz_kana"), folded).alias("_k_biz_fold"),
            kana_form(pl.col("juki_kana"), folded).alias("_k_juki_fold"),
        )

    return Comparison(
        field=Field.KANA,
        prepare=prepare,
        blank_sides=("biz_kana", "juki_kana"),
        levels=(
            NullLevel("biz_kana", "juki_kana"),
            Level(EQ, "同じ表記", _eq("biz_kana", "juki_kana")),
            Level(VAR, "全角半角・ひらがな・空白の違いを除いて一致", _eq("_k_biz_width", "_k_juki_width")),
            Level(VAR, f"{fold_label}の違いを除いて一致", _eq("_k_biz_fold", "_k_juki_fold")),
            ElseLevel(),
        ),
    )


def birth_date_comparison() -> Comparison:
    return Comparison(
        field=Field.BIRTH_DATE,
        blank_sides=("biz_birth_date", "juki_birth_date"),
        levels=(
            NullLevel("biz_birth_date", "juki_birth_date"),
            Level(EQ, "同じ日付（西暦に換算して比較）", _eq("biz_birth_date", "juki_birth_date")),
            ElseLevel(),
        ),
    )


def sex_comparison() -> Comparison:
    return Comparison(
        field=Field.SEX,
        blank_sides=("biz_sex", "juki_sex"),
        levels=(
            NullLevel("biz_sex", "juki_sex"),
            Level(EQ, "同じ性別コード", _eq("biz_sex", "juki_sex")),
            ElseLevel(),
        ),
    )


def _prepare_addresses(frame: pl.DataFrame) -> pl.DataFrame:
    if "biz_addr_muni" in frame.columns:
        return frame
    frame = split_addresses(frame, "biz_address", "biz_addr")
    return split_addresses(frame, "juki_address", "juki_addr")


def municipality_comparison() -> Comparison:
    same_pref_or_omitted = (
        pl.col("biz_addr_pref").is_null()
        | pl.col("juki_addr_pref").is_null()
        | (pl.col("biz_addr_pref") == pl.col("juki_addr_pref"))
    )
    return Comparison(
        field=Field.MUNICIPALITY,
        prepare=_prepare_addresses,
        blank_sides=("biz_address", "juki_address"),
        levels=(
            NullLevel("biz_address", "juki_address"),
            Level(
                EQ,
                "都道府県・市区町村が同じ表記",
                _eq("biz_addr_muni_text", "juki_addr_muni_text")
                & pl.col("biz_addr_muni").is_not_null()
                & pl.col("biz_addr_pref").eq_missing(pl.col("juki_addr_pref")),
            ),
            Level(
                VAR,
                "同じ市区町村（都道府県・郡の省略、ヶ/ケ等の違いを除く）",
                _eq("biz_addr_muni", "juki_addr_muni") & same_pref_or_omitted,
            ),
            ElseLevel(),
        ),
        notes=("市区町村を判別できない住所は不一致として扱う（判定理由に表示）",),
    )


def town_comparison() -> Comparison:
    return Comparison(
        field=Field.TOWN,
        prepare=_prepare_addresses,
        blank_sides=("biz_address", "juki_address"),
        levels=(
            NullLevel("biz_address", "juki_address"),
            Level(EQ, "町字以下が同じ表記", _eq("biz_addr_town_text", "juki_addr_town_text")),
            Level(
                VAR,
                "町字の前方2文字と数字の並びが一致（マニュアル脚注11・12）",
                _eq("biz_addr_town_key", "juki_addr_town_key")
                & pl.col("biz_addr_numbers").eq_missing(pl.col("juki_addr_numbers")),
            ),
            ElseLevel(),
        ),
        notes=(
            "ヶ/ケ/ヵ/が と の/ノ/之 は同じ文字として比較し、先頭の大字・字は除く",
            "漢数字は両側とも算用数字にしてから比較する（三田・十日町のような地名も両側同じに変換）",
            "建物名・部屋番号は比較しない（片方にしかないことが多いため）",
        ),
    )


def build_comparisons(settings: MatchSettings) -> tuple[Comparison, ...]:
    """The comparisons in F4 order. A field the 事務 does not hold is 比較不能 and unused."""
    address_held = settings.holds_address
    return (
        name_comparison(settings) if settings.holds_name else not_held(Field.NAME),
        kana_comparison(settings) if settings.holds_kana else not_held(Field.KANA),
        birth_date_comparison() if settings.holds_birth_date else not_held(Field.BIRTH_DATE),
        sex_comparison() if settings.holds_sex else not_held(Field.SEX),
        municipality_comparison() if address_held else not_held(Field.MUNICIPALITY),
        town_comparison() if address_held else not_held(Field.TOWN),
    )


def held_fields(settings: MatchSettings) -> frozenset[Field]:
    held = {
        Field.NAME: settings.holds_name,
        Field.KANA: settings.holds_kana,
        Field.BIRTH_DATE: settings.holds_birth_date,
        Field.SEX: settings.holds_sex,
        Field.MUNICIPALITY: settings.holds_address,
        Field.TOWN: settings.holds_address,
    }
    return frozenset(f for f, h in held.items() if h)
