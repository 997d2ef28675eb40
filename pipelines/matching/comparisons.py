"""The six field comparisons of 照合, built from MatchSettings.

Columns they read (one row per 点検対象 record with its 住基ネット result): ``biz_name``,
``juki_name``, ``biz_kana``, ``juki_kana``, ``biz_birth_date``, ``juki_birth_date`` (Date),
``biz_sex``, ``juki_sex`` (``1``/``2``), ``biz_address``, ``juki_address``.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from pipelines.matching.address import known_towns, numbers_agree, split_addresses
from pipelines.matching.levels import Comparison, ElseLevel, Level, NullLevel, not_held
from pipelines.matching.normalize import (
    join_forms,
    kana_forms,
    kana_table,
    name_forms,
    whole,
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
        if "biz_name_fold" in frame.columns:
            return frame
        forms = name_forms(pl.concat([frame["biz_name"], frame["juki_name"]]), itaiji)
        for side in ("biz", "juki"):
            frame = join_forms(frame, forms, f"{side}_name", f"{side}_name")
        frame = frame.with_columns(
            whole(pl.col("biz_name_parts")).alias("biz_name_fold"),
            whole(pl.col("juki_name_parts")).alias("juki_name_fold"),
        )
        return wildcard_equal_frame(frame, "biz_name_fold", "juki_name_fold", "name_wildcard")

    return Comparison(
        field=Field.NAME,
        prepare=prepare,
        blank_sides=("biz_name", "juki_name"),
        levels=(
            NullLevel("biz_name", "juki_name"),
            Level(EQ, "同じ表記", _eq("biz_name_exact", "juki_name_exact")),
            Level(
                VAR, "空白・下線・全角半角・異体字の違いを除いて一致", _eq("biz_name_fold", "juki_name_fold")
            ),
            Level(VAR, "外字（〓）の位置を除いて一致（半数以上の文字が一致）", pl.col("name_wildcard")),
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
        if "biz_kana_fold" in frame.columns:
            return frame
        forms = kana_forms(pl.concat([frame["biz_kana"], frame["juki_kana"]]), width, folded)
        for side in ("biz", "juki"):
            frame = join_forms(frame, forms, f"{side}_kana", f"{side}_kana")
        return frame.with_columns(
            whole(pl.col("biz_kana_parts")).alias("biz_kana_fold"),
            whole(pl.col("juki_kana_parts")).alias("juki_kana_fold"),
        )

    return Comparison(
        field=Field.KANA,
        prepare=prepare,
        blank_sides=("biz_kana", "juki_kana"),
        levels=(
            NullLevel("biz_kana", "juki_kana"),
            Level(EQ, "同じ表記", _eq("biz_kana", "juki_kana")),
            Level(
                VAR, "全角半角・ひらがな・空白の違いを除いて一致", _eq("biz_kana_width", "juki_kana_width")
            ),
            Level(VAR, f"{fold_label}の違いを除いて一致", _eq("biz_kana_fold", "juki_kana_fold")),
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
    return split_addresses(frame, {"biz_address": "biz_addr", "juki_address": "juki_addr"})


def _prepare_with_master(master: str) -> Callable[[pl.DataFrame], pl.DataFrame]:
    """Addresses split, plus ``{side}_addr_town_listed``: the side's 町字 is in the agency's
    町字マスター (looked up by 政令市/市区町村 and the whole 町字 name)."""

    def prepare(frame: pl.DataFrame) -> pl.DataFrame:
        frame = _prepare_addresses(frame)
        if "biz_addr_town_listed" in frame.columns:
            return frame
        listed = known_towns(master).with_columns(pl.lit(True).alias("_listed"))
        for side in ("biz", "juki"):
            keys = [f"{side}_addr_city", f"{side}_addr_town_name"]
            joined = frame.select(keys).join(
                listed, left_on=keys, right_on=["city", "town_name"], how="left", maintain_order="left"
            )
            frame = frame.with_columns(joined["_listed"].fill_null(False).alias(f"{side}_addr_town_listed"))
        return frame

    return prepare


def _same_full_address() -> pl.Expr:
    return _eq("biz_addr_full", "juki_addr_full")


def municipality_comparison() -> Comparison:
    prefs_agree = (
        pl.col("biz_addr_pref").is_null()
        | pl.col("juki_addr_pref").is_null()
        | (pl.col("biz_addr_pref") == pl.col("juki_addr_pref"))
    )
    ward_omitted = (pl.col("biz_addr_muni") == pl.col("biz_addr_city")) | (
        pl.col("juki_addr_muni") == pl.col("juki_addr_city")
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
                _same_full_address()
                | (
                    _eq("biz_addr_muni_text", "juki_addr_muni_text")
                    & pl.col("biz_addr_muni").is_not_null()
                    & pl.col("biz_addr_pref").eq_missing(pl.col("juki_addr_pref"))
                ),
            ),
            Level(
                VAR,
                "同じ市区町村（都道府県・郡の省略、ヶ/ケ等の違いを除く）",
                _eq("biz_addr_muni", "juki_addr_muni") & prefs_agree,
            ),
            Level(
                VAR,
                "同じ政令指定都市で、片方が区を省略",
                _eq("biz_addr_city", "juki_addr_city") & ward_omitted & prefs_agree,
            ),
            ElseLevel(),
        ),
        notes=(
            "市区町村表にない住所は、両方が同じ表記のときだけ一致とする（判定理由に表示）",
            "都道府県を書いた住所は、その都道府県の市区町村から探す（府中市は東京都と広島県で別）",
        ),
    )


#: 判定理由 note of a 町字 that agrees only in its first 2 characters (manual footnote 11)
PREFIX_ONLY = "前方2文字のみ一致"


def town_comparison(settings: MatchSettings | None = None) -> Comparison:
    """町字等. The manual's rule (footnotes 11–12) accepts a 町字 whose first 2 characters
    agree; that level is kept by default but told apart from a 町字 that agrees whole, so
    staff see it (本町通 ≈ 本町). ``town_whole_name`` drops it (strict)."""
    whole_name = settings is not None and settings.town_whole_name
    master = settings.town_master_file if settings is not None else None
    known = pl.col("biz_addr_muni").is_not_null() & pl.col("juki_addr_muni").is_not_null()
    numbers = numbers_agree("biz_addr", "juki_addr")
    prefix = known & _eq("biz_addr_town_key", "juki_addr_town_key") & numbers
    levels = [
        NullLevel("biz_address", "juki_address"),
        Level(
            EQ,
            "町字以下が同じ表記",
            _same_full_address() | _eq("biz_addr_town_text", "juki_addr_town_text"),
        ),
        Level(
            VAR,
            "町字（異体字・ヶ/ケ・大字の有無などの違いを除く）と数字の並びが一致",
            known & _eq("biz_addr_town_name", "juki_addr_town_name") & numbers,
        ),
    ]
    if master and not whole_name:
        levels.append(
            Level(
                Judgement.DIFFERENT,
                "前方2文字は一致するが、両側とも町字マスターにある別の町字",
                prefix & pl.col("biz_addr_town_listed") & pl.col("juki_addr_town_listed"),
            )
        )
    if not whole_name:
        levels.append(
            Level(
                VAR,
                "町字の前方2文字と数字の並びが一致（マニュアル脚注11・12）。町字の3文字目以降は異なる",
                prefix,
                note=PREFIX_ONLY,
            )
        )
    return Comparison(
        field=Field.TOWN,
        prepare=_prepare_with_master(master) if master else _prepare_addresses,
        blank_sides=("biz_address", "juki_address"),
        levels=(*levels, ElseLevel()),
        notes=(
            "ヶ/ケ/ヵ/が と の/ノ/之 は同じ文字として比較し、先頭の大字・字は除く",
            "町字の異体字（檜/桧、彌/弥 など）と似た字（巿/市、莵/菟）は同じ字として比較する",
            "漢数字は両側とも算用数字にしてから比較する（三田・十日町のような地名も両側同じに変換）",
            "丁目・町目・番地・番・号・の・ノ・ハイフンは数字の区切りとして扱う",
            "番号の直後の漢数字で始まる名前（2-1三田ビル）は建物名とみなし、番号に含めない",
            "市区町村を判別できない住所は、町字以下も同じ表記のときだけ一致とする",
            "建物名・部屋番号は比較しない（片方にしかないことが多いため）。"
            "末尾に続く3桁以上の番号（1-1-1-201）も部屋番号とみなす",
            "町字マスター（town_master_file）を指定すると、両側ともマスターにある別の町字は不一致",
            "町字全体で比較する設定（town_whole_name）では前方2文字だけの一致は不一致"
            if whole_name
            else "前方2文字だけの一致は表記ゆれ一致とし、判定理由に「町字等（前方2文字のみ一致）」と示す",
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
        town_comparison(settings) if address_held else not_held(Field.TOWN),
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
