"""Synthetic extracts with ground truth, for the demo, the tests and the benchmarks.

Builds a population of households (the registry 住基ネット would answer from), picks the
people an agency's 事務 serves, and writes their business-system extract (F1) with the
kinds of difference real extracts have:

* notation only (expected A): spaces or underscores (or nothing) between 姓 and 名, 異体字
  and 外字 (髙, 﨑, 邉; 𠮷 as 吉 or as a user-defined 外字 → 〓), half-width kana, hiragana,
  dropped voiced marks, large for small kana, a middle dot, every date form of the
  contract, address spellings (都道府県, 郡 or the 政令市's ward omitted, 1-1-1, １－１－１,
  1ー1ー1, 一丁目一番地一, 千二百三十四番地, 番地の, ヶ/ケ, の/ノ, 大字, building names and rooms
  with or without a space, in half-width kana, or as -201);
* real differences of the right person: 改姓 not reported, 転居 (other municipality, or
  another 町字 of the same one), one character keyed wrong in the 姓 or 名, kana never
  recorded in 住基ネット or missing in the business system, a person since deleted
  (死亡・国外転出・転出);
* mislinks, as the seeds report them: a family member's number, a twin's, a namesake's, a
  neighbour's number keyed in a batch (numbers shifted by one row), a number that does not
  exist.

Ground truth is semantic: the expected 判定 comes from which attributes of the two people
really differ, never from string matching, so it can score the matcher. ``truth`` carries
per row the ``kind`` of difference (``EXPECTED_CAUSES`` says which 推定原因 names it
rightly), ``true_owner_atena`` for a mislink whose owner is in the extract, and
``ambiguous`` where the expected label cannot be known from the data: a mislink to someone
whose 4情報 all agree, a move between two 町字 the manual's 2-character rule cannot tell
apart, a keying slip on the very character 住基ネット holds as 外字 (〓).

Everything is vectorised (numpy + polars); 1M rows take well under a minute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from demo import vocab
from pipelines.checkdigit import MY_NUMBER_WEIGHTS
from pipelines.dates import ERAS
from pipelines.files.jis import jis0208_chars
from pipelines.matching.causes import CauseCode
from pipelines.privacy import write_private
from schemas.codes import Grade

KINDS_A = ("ok",)
REAL_DIFFERENCES = (
    "rename",
    "moved_muni",
    "moved_town",
    "typo_name",
    "kana_unregistered",
    "deleted",
    "biz_kana_blank",
)
MISLINKS = ("family", "twin", "namesake", "neighbour", "nonexistent")

#: the 推定原因 that name each kind of difference rightly (ground truth for the causes)
EXPECTED_CAUSES: dict[str, frozenset[CauseCode]] = {
    "rename": frozenset({CauseCode.RENAME}),
    "moved_muni": frozenset({CauseCode.MOVED_MUNICIPALITY}),
    "moved_town": frozenset({CauseCode.MOVED_TOWN}),
    "typo_name": frozenset({CauseCode.TYPO}),
    "kana_unregistered": frozenset({CauseCode.KANA_UNREGISTERED}),
    "deleted": frozenset({CauseCode.DELETED}),
    "biz_kana_blank": frozenset({CauseCode.KANA_BLANK_BUSINESS}),
    "family": frozenset({CauseCode.FAMILY}),
    "twin": frozenset({CauseCode.TWIN}),
    "namesake": frozenset({CauseCode.NAMESAKE}),
    # a batch shifted by one row takes the next record's number, and records are often
    # sorted by household: the owner may be a family member (or a twin) as well
    "neighbour": frozenset({CauseCode.OTHER_PERSON, CauseCode.FAMILY, CauseCode.TWIN}),
    "nonexistent": frozenset({CauseCode.NOT_FOUND}),
}


@dataclass(frozen=True)
class Rates:
    """Share of extract rows per kind of difference (the rest are 'ok')."""

    rename: float = 0.012
    moved_muni: float = 0.012
    moved_town: float = 0.015
    typo_name: float = 0.006
    kana_unregistered: float = 0.008
    deleted: float = 0.006
    biz_kana_blank: float = 0.003
    family: float = 0.004
    twin: float = 0.002
    namesake: float = 0.002
    neighbour: float = 0.003  # rows in shifted batches
    nonexistent: float = 0.002
    auto_linked: float = 0.25  # of the correct rows: 取得経路=自動連携 (対象外)


@dataclass
class SyntheticData:
    """One synthetic 事務 extract with the registry that answers it and the ground truth."""

    agency: str
    jimu: str
    extract: pl.DataFrame  # F1 columns, contract names, strings
    atena: pl.DataFrame | None  # F1b (宛名番号, 個人番号) when the extract has blank numbers
    registry: pl.DataFrame  # my_number, name, kana, birth_date, sex, address, status, move_*
    truth: pl.DataFrame  # atena_no, kind, is_mislink, in_scope, expected_grade, ambiguous, owner

    def write_extract(self, path: Path, encoding: str = "cp932") -> Path:
        return _write_csv(self.extract, path, encoding)

    def write_atena(self, path: Path, encoding: str = "cp932") -> Path:
        assert self.atena is not None
        return _write_csv(self.atena, path, encoding)

    def shared_numbers(self) -> pl.DataFrame:
        """Ground truth of 番号重複: every 宛名番号 whose 個人番号 another 宛名番号 of the extract
        holds too (in scope or not), with those others (``shared_with``, sorted, comma-joined).

        The generator makes these wherever a family member's, a twin's or a neighbour's number
        was keyed in and that person is in the extract as well.
        """
        source = self.atena if self.atena is not None else self.extract
        numbers = source.select(pl.col("宛名番号").alias("atena_no"), pl.col("個人番号").alias("my_number"))
        return (
            numbers.join(numbers.rename({"atena_no": "other"}), on="my_number")
            .filter(pl.col("atena_no") != pl.col("other"))
            .group_by("atena_no")
            .agg(pl.col("other").sort().str.join(",").alias("shared_with"))
            .sort("atena_no")
        )


def _write_csv(frame: pl.DataFrame, path: Path, encoding: str) -> Path:
    text = frame.write_csv(line_terminator="\r\n")
    data = text.encode("utf-8-sig" if encoding == "utf-8-sig" else encoding)
    return write_private(path, data)


def _my_numbers(ids: np.ndarray, salt: int) -> np.ndarray:
    """Unique valid 個人番号 for ids (a bijection mod 10**11, then the check digit)."""
    base = (ids.astype(np.int64) * 7_919_113_031 + 12_345_678_901 + salt * 1_000_003) % 10**11
    digits = np.stack([(base // 10 ** (10 - i)) % 10 for i in range(11)], axis=1)
    r = (digits * np.array(MY_NUMBER_WEIGHTS)).sum(axis=1) % 11
    check = np.where(r <= 1, 0, 11 - r)
    return np.char.add(np.char.zfill(base.astype(str), 11), check.astype(str))


def _kanji_numeral(n: pl.Expr) -> pl.Expr:
    """1..9999 → 一..九千九百九十九 (for 丁目 and the 漢数字 address forms: 千二百三十四)."""
    digits = dict(enumerate(["", "一", "二", "三", "四", "五", "六", "七", "八", "九"]))
    parts = []
    for unit, mark in ((1000, "千"), (100, "百"), (10, "十")):
        d = (n // unit) % 10
        parts.append(
            pl.when(d == 0)
            .then(pl.lit(""))
            .when(d == 1)
            .then(pl.lit(mark))
            .otherwise(d.replace_strict(digits, return_dtype=pl.String) + pl.lit(mark))
        )
    parts.append((n % 10).replace_strict(digits, return_dtype=pl.String))
    return pl.concat_str(parts)


def _wareki(d: pl.Expr, style: pl.Expr) -> pl.Expr:
    """Dates as 昭和45年12月4日 (style 0), S45.12.04 (1), 3451204 (2) or S45.12.4 (3)."""
    era_idx = pl.lit(0)
    for i, era in enumerate(ERAS):
        era_idx = pl.when(d >= pl.lit(era.first_day)).then(pl.lit(i)).otherwise(era_idx)
    offset = era_idx.replace_strict({i: e.offset for i, e in enumerate(ERAS)}, return_dtype=pl.Int32)
    y = d.dt.year().cast(pl.Int32) - offset
    kanji = era_idx.replace_strict({i: e.kanji for i, e in enumerate(ERAS)}, return_dtype=pl.String)
    letter = era_idx.replace_strict({i: e.letter for i, e in enumerate(ERAS)}, return_dtype=pl.String)
    code = era_idx.replace_strict({i: e.code for i, e in enumerate(ERAS)}, return_dtype=pl.String)
    m, dd = d.dt.month(), d.dt.day()
    text = pl.concat_str(
        [
            kanji,
            pl.when(y == 1).then(pl.lit("元")).otherwise(y.cast(pl.String)),
            pl.lit("年"),
            m.cast(pl.String),
            pl.lit("月"),
            dd.cast(pl.String),
            pl.lit("日"),
        ]
    )
    dotted = pl.format(
        "{}{}.{}.{}",
        letter,
        y.cast(pl.String).str.zfill(2),
        m.cast(pl.String).str.zfill(2),
        dd.cast(pl.String).str.zfill(2),
    )
    seven = pl.format(
        "{}{}{}{}",
        code,
        y.cast(pl.String).str.zfill(2),
        m.cast(pl.String).str.zfill(2),
        dd.cast(pl.String).str.zfill(2),
    )
    unpadded = pl.format("{}{}.{}.{}", letter, y.cast(pl.String), m.cast(pl.String), dd.cast(pl.String))
    return (
        pl.when(style == 0)
        .then(text)
        .when(style == 1)
        .then(dotted)
        .when(style == 3)
        .then(unpadded)
        .otherwise(seven)
    )


def _to_halfwidth_kana(col: pl.Expr) -> pl.Expr:
    import jaconv

    table = {
        c: jaconv.z2h(c, kana=True, ascii=False, digit=False)
        for c in "アイウエオカキクケコサシスセソタチツテトナニヌネノ"
        "ハヒフヘホマミムメモヤユヨラリルレロワヲン"
        "ガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポヴァィゥェォッャュョー　"
    }
    table["　"] = " "
    return col.str.replace_many(table)


def _to_hiragana(col: pl.Expr) -> pl.Expr:
    table = {chr(c + 0x60): chr(c) for c in range(0x3041, 0x3097)}
    return col.str.replace_many(table)


def _drop_voiced(col: pl.Expr) -> pl.Expr:
    voiced = "ガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポ"
    plain = "カキクケコサシスセソタチツテトハヒフヘホハヒフヘホ"
    return col.str.replace_many(dict(zip(voiced, plain, strict=True)))


def _enlarge_small(col: pl.Expr) -> pl.Expr:
    return col.str.replace_many(dict(zip("ァィゥェォッャュョ", "アイウエオツヤユヨ", strict=True)))


def generate(
    n_rows: int,
    *,
    agency: str = "392014",
    jimu: str = "kaigo_hoken",
    seed: int = 1,
    holds_sex: bool = True,
    with_atena: bool = False,
    rates: Rates | None = None,
    today: date = date(2026, 11, 1),
) -> SyntheticData:
    """A synthetic extract of about ``n_rows`` rows for one agency × 事務, with ground truth.

    The phases, in the order they draw from the one random generator (the order is part of
    the output: the same seed gives the same files): the place, the households and their
    people, who the 事務 serves and which kind of difference each row has, the mislinks, the
    business side, the ground truth, the scope and 宛名番号, then the files.
    """
    rates = rates or Rates()
    rng = np.random.default_rng(seed)
    place = _place(agency)
    people = _people(rng, n_rows, place, today)
    people = people.with_columns(
        pl.Series("my_number", _my_numbers(people["pid"].to_numpy(), seed)),
        # 住基ネット: 2% deleted (death, emigration), kana unrecorded for some
        (pl.col("r_status") < 0.01).alias("deleted"),
    )
    ex = _served_with_kinds(people, rng, n_rows, rates)
    ex, registry = _mislinks(ex, people, place.others, seed)
    ex = _business_side(_business_fields(ex, rng, place.others), registry, seed)
    ex = _ground_truth(ex, holds_sex)
    ex = _scope_and_atena(ex, rng, rates)
    reg = _registry_answers(registry, ex)
    return SyntheticData(
        agency=agency,
        jimu=jimu,
        extract=_extract_file(ex, holds_sex, with_atena),
        atena=(
            ex.select(pl.col("atena_no").alias("宛名番号"), pl.col("number_in_extract").alias("個人番号"))
            if with_atena
            else None
        ),
        registry=reg,
        # everyone else in the extract whose registry kana happened to be blank is kana_unregistered
        truth=_reconcile_kana(_truth(ex), ex, reg, holds_sex),
    )


# ---- the place ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Place:
    """The agency's 都道府県 and municipality, the others people move from, its wards."""

    pref: str
    muni: str
    others: pl.DataFrame  # prefecture, name: where 住登外者 live and movers came from
    wards: list[str]  # a 政令市 registers every resident in a ward; else [muni]


def _place(agency: str) -> _Place:
    muni_rows = _municipality_frame()
    home = muni_rows.filter(pl.col("code") == agency)
    if home.height == 0 or not home["name"][0]:
        home = muni_rows.filter(pl.col("code") == "392014")
    home_pref, home_muni = home["prefecture"][0], home["name"][0]
    same_pref = muni_rows.filter(
        (pl.col("prefecture") == home_pref)
        & (pl.col("name") != home_muni)
        & pl.col("name").is_not_null()
        & (pl.col("name") != "")
    )
    others = same_pref if same_pref.height else muni_rows.filter(pl.col("name").is_not_null())
    # a 政令市 registers every resident in a ward: 札幌市 → 札幌市中央区 …
    wards = [w for w in _ward_names() if w.startswith(home_muni) and w != home_muni] or [home_muni]
    return _Place(home_pref, home_muni, others, wards)


# ---- households -----------------------------------------------------------------------


def _people(rng: np.random.Generator, n_rows: int, place: _Place, today: date) -> pl.DataFrame:
    """The population 住基ネット answers from: households, then their members with sex,
    birth date, names, address and the registered (住基ネット) form of each."""
    hh = _households(rng, n_rows, place)
    people = hh.with_columns(pl.int_ranges(0, pl.col("size")).alias("role")).explode("role")
    n = people.height
    people = people.with_columns(
        pl.Series("pid", np.arange(n)),
        pl.Series("r_given", rng.integers(0, 1_000_000, n)),
        pl.Series("r_age", rng.integers(-1800, 1800, n)),
        pl.Series("r_child", rng.integers(22 * 365, 40 * 365, n)),
        pl.Series("r_sex", rng.random(n) < 0.5),
        pl.Series("r_status", rng.random(n)),
        pl.Series("r_kana_blank", rng.random(n)),
    )
    people = _given_names(_sexes_and_births(people, today))
    people = _names_and_addresses(people, place)
    return _with_registry_fields(people)


def _households(rng: np.random.Generator, n_rows: int, place: _Place) -> pl.DataFrame:
    """One row per household: size, surname, where it lives, its head, whether it has twins."""
    n_people = int(n_rows * 1.35) + 200
    n_households = max(50, int(n_people / 2.3))
    sizes = rng.choice([1, 2, 3, 4, 5], size=n_households, p=[0.3, 0.3, 0.2, 0.15, 0.05])
    sur_w = np.array([s[2] for s in vocab.SURNAMES], dtype=float)
    towns = len(vocab.TOWNS)
    return pl.DataFrame(
        {
            "hh": np.arange(n_households),
            "size": sizes,
            "surname": rng.choice(len(vocab.SURNAMES), size=n_households, p=sur_w / sur_w.sum()),
            "glyph": rng.random(n_households) < 0.25,  # household registered with the variant form
            "outside": rng.random(n_households) < 0.12,  # lives in another municipality (住登外者)
            "other_muni": rng.integers(0, place.others.height, n_households),
            "ward": rng.integers(0, len(place.wards), n_households),
            "town": rng.integers(0, towns, n_households),
            "chome": rng.integers(1, 6, n_households),
            "ban": rng.integers(1, 40, n_households),
            "go": rng.integers(1, 25, n_households),
            "head_birth": rng.integers(
                (date(1935, 1, 1) - date(1970, 1, 1)).days,
                (date(1998, 12, 31) - date(1970, 1, 1)).days,
                n_households,
            ),
            "head_male": rng.random(n_households) < 0.55,
            "twins": rng.random(n_households) < 0.06,
        }
    )


def _sexes_and_births(people: pl.DataFrame, today: date) -> pl.DataFrame:
    """Head, spouse (opposite sex), children; the 2nd child of a twin household shares the
    first child's birth date."""
    role = pl.col("role")
    latest_birth = (today - date(1970, 1, 1)).days - 30
    first_child_birth = pl.col("head_birth") + pl.col("r_child")
    people = people.with_columns(
        pl.when(role == 0)
        .then(pl.col("head_male"))
        .when(role == 1)
        .then(~pl.col("head_male"))
        .otherwise(pl.col("r_sex"))
        .alias("male"),
        pl.when(role == 0)
        .then(pl.col("head_birth"))
        .when(role == 1)
        .then(pl.col("head_birth") + pl.col("r_age"))
        .otherwise(pl.lit(None))
        .alias("_birth_days"),
    )
    # children's birth days: first child per household, twins copy it
    child_base = people.filter(role == 2).select("hh", first_child_birth.alias("_c2"))
    return (
        people.join(child_base, on="hh", how="left")
        .with_columns(
            pl.when(role <= 1)
            .then(pl.col("_birth_days"))
            .when((role == 2) | ((role == 3) & pl.col("twins")))
            .then(pl.col("_c2"))
            .when(role >= 3)
            .then(pl.col("_c2") + (role - 2) * 700 + pl.col("r_age").abs() % 300)
            .alias("_birth_days")
        )
        .with_columns(
            # a child "born" after today is folded back into the last 15 years, keeping
            # birth dates spread (a pile-up on one day would make namesakes share birthdays)
            pl.when(pl.col("_birth_days") > latest_birth)
            .then(latest_birth - (pl.col("_birth_days") - latest_birth) % 5_500)
            .otherwise(pl.col("_birth_days"))
            .alias("_birth_days")
        )
        .with_columns(
            (pl.lit(date(1970, 1, 1)) + pl.duration(days=pl.col("_birth_days")))
            .cast(pl.Date)
            .alias("birth_date"),
            ((role == 3) & pl.col("twins")).alias("is_twin"),
        )
    )


def _given_names(people: pl.DataFrame) -> pl.DataFrame:
    """A given name by sex; a twin gets the name after its sibling's, so twins never share one."""
    role = pl.col("role")
    n_m, n_f = len(vocab.MALE_NAMES), len(vocab.FEMALE_NAMES)
    people = people.with_columns(
        pl.when(pl.col("male"))
        .then(pl.col("r_given") % n_m)
        .otherwise(pl.col("r_given") % n_f)
        .alias("given"),
    )
    sib = people.filter(role == 2).select(
        "hh", pl.col("given").alias("_sib_given"), pl.col("male").alias("_sib_male")
    )
    return (
        people.join(sib, on="hh", how="left")
        .with_columns(
            pl.when(pl.col("is_twin") & (pl.col("male") == pl.col("_sib_male")))
            .then((pl.col("_sib_given") + 1) % pl.when(pl.col("male")).then(n_m).otherwise(n_f))
            .otherwise(pl.col("given"))
            .alias("given")
        )
        .sort("pid")
    )


def _pick(values: Sequence[str] | pl.Series, idx: str) -> pl.Expr:
    """The string at index ``pl.col(idx)`` of ``values``."""
    return pl.col(idx).replace_strict(dict(enumerate(list(values))), return_dtype=pl.String)


def _names_and_addresses(people: pl.DataFrame, place: _Place) -> pl.DataFrame:
    """The indices drawn for surname, given name, municipality and 町字 as text."""
    people = people.with_columns(
        _pick([s[0] for s in vocab.SURNAMES], "surname").alias("sur_k"),
        _pick([s[3] or s[0] for s in vocab.SURNAMES], "surname").alias("sur_v"),
        _pick([s[1] for s in vocab.SURNAMES], "surname").alias("sur_r"),
        pl.when(pl.col("male"))
        .then(_pick([g[0] for g in vocab.MALE_NAMES], "given"))
        .otherwise(_pick([g[0] for g in vocab.FEMALE_NAMES], "given"))
        .alias("giv_k"),
        pl.when(pl.col("male"))
        .then(_pick([g[1] for g in vocab.MALE_NAMES], "given"))
        .otherwise(_pick([g[1] for g in vocab.FEMALE_NAMES], "given"))
        .alias("giv_r"),
    )
    people = people.with_columns(
        pl.when(pl.col("outside"))
        .then(_pick(place.others["prefecture"], "other_muni"))
        .otherwise(pl.lit(place.pref))
        .alias("pref"),
        pl.when(pl.col("outside"))
        .then(_pick(place.others["name"], "other_muni"))
        .otherwise(_pick(place.wards, "ward"))
        .alias("muni"),
        _pick([t[0] for t in vocab.TOWNS], "town").alias("town_name"),
        _pick([t[2] or t[0] for t in vocab.TOWNS], "town").alias("town_alt"),
        pl.col("town")
        .replace_strict(dict(enumerate(t[1] for t in vocab.TOWNS)), return_dtype=pl.Boolean)
        .alias("has_chome"),
    )
    return people.with_columns(
        pl.col("muni").replace_strict(vocab.COUNTIES, default="", return_dtype=pl.String).alias("county")
    )


# ---- the extract: who the 事務 serves ---------------------------------------------------

#: the kinds drawn per row, in the order their rates are stacked (the order is part of the output)
_KINDS = (
    "rename",
    "moved_muni",
    "moved_town",
    "typo_name",
    "kana_unregistered",
    "deleted",
    "biz_kana_blank",
    "family",
    "twin",
    "namesake",
    "neighbour",
    "nonexistent",
)


def _served_with_kinds(
    people: pl.DataFrame, rng: np.random.Generator, n_rows: int, rates: Rates
) -> pl.DataFrame:
    """The people the 事務 serves (one row each) and the kind of difference each row has."""
    n = people.height
    served = rng.choice(n, size=min(n_rows, n - 100), replace=False)
    served.sort()
    ex = people[served].with_columns(pl.int_range(pl.len()).alias("row"))
    m = ex.height
    u = rng.random(m)
    kinds = list(_KINDS)
    edges = np.cumsum([getattr(rates, k) for k in kinds])
    kind_idx = np.searchsorted(edges, u, side="right")
    kind = np.where(kind_idx < len(kinds), np.array([*kinds, "ok"])[np.minimum(kind_idx, len(kinds))], "ok")
    ex = ex.with_columns(pl.Series("kind", kind))
    # twins are rare in a population; give the twin mislink a fair share of them
    ex = ex.with_columns(
        pl.when(pl.col("is_twin") & (pl.Series(rng.random(m)) < 0.25))
        .then(pl.lit("twin"))
        .otherwise(pl.col("kind"))
        .alias("kind")
    )
    # kinds that need something to exist fall back to 'ok'
    ex = ex.with_columns(
        # a deleted person's own record is always 'deleted', whatever was drawn
        pl.when(pl.col("deleted"))
        .then(pl.lit("deleted"))
        .when((pl.col("kind") == "twin") & ~pl.col("is_twin"))
        .then(pl.lit("ok"))
        .when((pl.col("kind") == "family") & (pl.col("size") < 2))
        .then(pl.lit("ok"))
        .when((pl.col("kind") == "rename") & (pl.col("role") != 1))
        .then(pl.lit("ok"))
        .when((pl.col("kind") == "deleted") & ~pl.col("deleted"))
        .then(pl.lit("ok"))
        .when((pl.col("kind") == "kana_unregistered") & pl.col("is_twin"))
        .then(pl.lit("ok"))
        .otherwise(pl.col("kind"))
        .alias("kind")
    )
    # neighbour batches: runs of 3 rows whose numbers are each the next row's
    return ex.with_columns(
        pl.when(pl.col("kind") == "neighbour")
        .then(pl.lit("neighbour"))
        .when(pl.col("kind").shift(1) == "neighbour")
        .then(pl.lit("neighbour"))
        .when(pl.col("kind").shift(2) == "neighbour")
        .then(pl.lit("neighbour"))
        .otherwise(pl.col("kind"))
        .alias("kind")
    ).with_columns(
        pl.when((pl.col("kind") == "neighbour") & pl.col("deleted"))
        .then(pl.lit("deleted"))
        .otherwise(pl.col("kind"))
        .alias("kind")
    )


# ---- mislinks: whose number each row holds ----------------------------------------------

_REGISTRY_COLUMNS = (
    "pid",
    "hh",
    "role",
    "my_number",
    "male",
    "birth_date",
    "reg_name",
    "reg_kana",
    "reg_address",
    "sur_k",
    "giv_k",
    "sur_r",
    "giv_r",
    "muni",
    "town",
    "chome",
    "ban",
    "go",
    "is_twin",
    "deleted",
    "r_kana_blank",
)


def _mislinks(
    ex: pl.DataFrame, people: pl.DataFrame, others: pl.DataFrame, seed: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``linked_pid`` per row — the person whose number the row holds, its own unless
    mislinked — and the registry: the population plus the namesakes made for the extract."""
    registry = people.select(_REGISTRY_COLUMNS)
    family_target = registry.select(
        "hh",
        pl.col("pid").alias("fam_pid"),
        pl.col("role").alias("fam_role"),
    )
    # family: another member of the household (the lowest other role)
    fam = (
        ex.filter(pl.col("kind") == "family")
        .select("row", "hh", "role")
        .join(family_target, on="hh")
        .filter(pl.col("fam_role") != pl.col("role"))
        .sort(["row", "fam_role"])
        .group_by("row", maintain_order=True)
        .first()
        .select("row", pl.col("fam_pid").alias("linked_pid"))
    )
    twin = (
        ex.filter(pl.col("kind") == "twin")
        .select("row", "hh")
        .join(registry.filter(pl.col("role") == 2).select("hh", pl.col("pid").alias("linked_pid")), on="hh")
        .select("row", "linked_pid")
    )
    namesake_rows = ex.filter(pl.col("kind") == "namesake")
    neighbour = ex.select("row", pl.col("pid").shift(-1).alias("linked_pid")).filter(
        ex["kind"] == "neighbour"
    )
    links = pl.concat([fam, twin, neighbour.drop_nulls()], how="vertical")
    ex = ex.join(links, on="row", how="left").with_columns(
        pl.when(pl.col("kind").is_in(["family", "twin", "neighbour"]) & pl.col("linked_pid").is_null())
        .then(pl.lit("ok"))
        .otherwise(pl.col("kind"))
        .alias("kind"),
        pl.coalesce("linked_pid", "pid").alias("linked_pid"),
    )
    ns, ns_people = _namesakes(namesake_rows, people.height, others, seed)
    registry = pl.concat(
        [registry, ns_people.select([pl.col(c).cast(t) for c, t in registry.schema.items()])], how="vertical"
    )
    ex = ex.join(ns.select("row", pl.col("ns_pid")), on="row", how="left").with_columns(
        pl.coalesce("ns_pid", "linked_pid").alias("linked_pid")
    )
    return ex, registry


def _namesakes(
    namesake_rows: pl.DataFrame, n: int, others: pl.DataFrame, seed: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A person outside the extract with the same name, another birth date and address, for
    each namesake row: (row → ns_pid, the new registry people with pid beyond the population)."""
    ns = namesake_rows.select(
        "row", "sur_k", "giv_k", "sur_r", "giv_r", "male", "sur_v", "glyph", "birth_date"
    ).with_columns(
        (pl.int_range(pl.len()) + n + 10).alias("ns_pid"),
        (pl.col("birth_date") + pl.duration(days=pl.lit(400) + pl.int_range(pl.len()) % 5000))
        .cast(pl.Date)
        .alias("ns_birth"),
    )
    ns_people = ns.select(
        pl.col("ns_pid").alias("pid"),
        pl.lit(-1).alias("hh"),
        pl.lit(0).alias("role"),
        pl.Series("my_number", _my_numbers(ns["ns_pid"].to_numpy(), seed))
        if ns.height
        else pl.lit(None, dtype=pl.String).alias("my_number"),
        "male",
        pl.col("ns_birth").alias("birth_date"),
        pl.concat_str([pl.col("sur_k"), pl.lit("　"), pl.col("giv_k")]).alias("reg_name"),
        pl.concat_str([pl.col("sur_r"), pl.lit("　"), pl.col("giv_r")]).alias("reg_kana"),
        pl.lit(f"{others['prefecture'][0]}{others['name'][0]}新町二丁目3番4号").alias("reg_address"),
        "sur_k",
        "giv_k",
        "sur_r",
        "giv_r",
        pl.lit(others["name"][0]).alias("muni"),
        pl.lit(-1, dtype=pl.Int64).alias("town"),
        pl.lit(2).alias("chome"),
        pl.lit(3).alias("ban"),
        pl.lit(4).alias("go"),
        pl.lit(False).alias("is_twin"),
        pl.lit(False).alias("deleted"),
        pl.lit(1.0).alias("r_kana_blank"),
    )
    return ns, ns_people


# ---- the business side ------------------------------------------------------------------


def _business_side(ex: pl.DataFrame, registry: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Joins the linked person's registry facts (``l_*``) and sets the number the extract
    holds: the linked person's, or one that does not exist."""
    linked = registry.select(
        pl.col("pid").alias("linked_pid"),
        pl.col("my_number").alias("linked_number"),
        pl.col("male").alias("l_male"),
        pl.col("birth_date").alias("l_birth"),
        pl.col("sur_r").alias("l_sur_r"),
        pl.col("giv_r").alias("l_giv_r"),
        pl.col("sur_k").alias("l_sur_k"),
        pl.col("giv_k").alias("l_giv_k"),
        pl.col("muni").alias("l_muni"),
        pl.col("town").alias("l_town"),
        pl.col("chome").alias("l_chome"),
        pl.col("ban").alias("l_ban"),
        pl.col("go").alias("l_go"),
        pl.col("deleted").alias("l_deleted"),
        pl.col("r_kana_blank").alias("l_kana_blank"),
        pl.col("pid").alias("_lp"),
    )
    ex = ex.join(linked, on="linked_pid", how="left")
    return ex.with_columns(
        pl.when(pl.col("kind") == "nonexistent")
        .then(pl.Series(_my_numbers(np.arange(ex.height) + 50_000_000_000, seed + 7)))
        .otherwise(pl.col("linked_number"))
        .alias("number_in_extract"),
    )


# ---- ground truth (semantic) --------------------------------------------------------------


def _ground_truth(ex: pl.DataFrame, holds_sex: bool) -> pl.DataFrame:
    """Which attributes of the row's person and the linked person really differ, and from
    that the expected 判定, whether the row is a mislink, and whether its label is ambiguous."""
    ex = ex.with_columns(
        pl.when(pl.col("kind") == "nonexistent")
        .then(pl.lit("10"))
        .when(pl.col("l_deleted"))
        .then(pl.lit("20"))
        .otherwise(pl.lit("00"))
        .alias("expected_result"),
        (pl.col("male") == pl.col("l_male")).alias("eq_sex"),
        (pl.col("birth_date") == pl.col("l_birth")).alias("eq_birth"),
        (
            (pl.col("biz_sur_r") == pl.col("l_sur_r"))
            & (pl.col("giv_r") == pl.col("l_giv_r"))
            & (pl.col("kind") != "kana_unregistered")
            & (pl.col("kind") != "biz_kana_blank")
        ).alias("eq_kana"),
        (
            (pl.col("biz_sur_k_key") == pl.col("l_sur_k"))
            & (pl.col("giv_k") == pl.col("l_giv_k"))
            & (pl.col("kind") != "typo_name")
        ).alias("eq_name"),
        (pl.col("biz_muni") == pl.col("l_muni")).alias("eq_muni"),
        _same_address().alias("eq_town"),
        # another 町字 that the manual's rule cannot tell apart (same first 2 characters,
        # same numbers): the expected label depends on the rule, not on the data
        _town_unseen().alias("_town_unseen"),
    )
    sex_rule = pl.col("eq_sex") if holds_sex else pl.lit(True)
    expected = (
        pl.when(pl.col("expected_result") != "00")
        .then(pl.lit(Grade.C.value))
        .when(~(sex_rule & pl.col("eq_birth") & pl.col("eq_kana")))
        .then(pl.lit(Grade.C.value))
        .when(~pl.col("eq_muni"))
        .then(pl.lit(Grade.C.value))
        .when(~(pl.col("eq_name") & pl.col("eq_town")))
        .then(pl.lit(Grade.B.value))
        .otherwise(pl.lit(Grade.A.value))
    )
    is_mislink = pl.col("kind").is_in(MISLINKS)
    return ex.with_columns(
        expected.alias("expected_grade"),
        is_mislink.alias("is_mislink"),
        # a mislink that agrees on every attribute cannot be found from 4情報
        ((is_mislink & (expected == Grade.A.value)) | pl.col("_town_unseen") | pl.col("_typo_hidden")).alias(
            "ambiguous"
        ),
    )


def _same_address() -> pl.Expr:
    return (
        (pl.col("biz_muni") == pl.col("l_muni"))
        & (pl.col("biz_town") == pl.col("l_town"))
        & (pl.col("biz_chome") == pl.col("l_chome"))
        & (pl.col("biz_ban") == pl.col("l_ban"))
        & (pl.col("biz_go") == pl.col("l_go"))
    )


def _town_unseen() -> pl.Expr:
    return (
        (pl.col("kind") == "moved_town")
        & (
            pl.col("biz_town").replace_strict(_MANUAL_TOWN_KEYS)
            == pl.col("l_town").replace_strict(_MANUAL_TOWN_KEYS, default="")
        )
        & (pl.col("biz_chome") == pl.col("l_chome"))
        & (pl.col("biz_ban") == pl.col("l_ban"))
        & (pl.col("biz_go") == pl.col("l_go"))
    )


# ---- scope and 宛名番号 ------------------------------------------------------------------------


def _scope_and_atena(ex: pl.DataFrame, rng: np.random.Generator, rates: Rates) -> pl.DataFrame:
    """取得経路 (自動連携 only for correct links: out-of-scope rows are never sent), 住登区分,
    a 10-digit 宛名番号 not in population order, and the true owner of each mislink."""
    m = ex.height
    auto = rng.random(m) < rates.auto_linked
    ex = ex.with_columns(
        pl.Series("_auto", auto),
    ).with_columns(
        pl.when(pl.col("_auto") & (pl.col("kind") == "ok") & ~pl.col("outside"))
        .then(pl.lit("自動連携"))
        .otherwise(
            pl.col("r_given")
            .mod(4)
            .replace_strict(
                {0: "本人申告", 1: "住基照会4情報", 2: "住基照会3情報以下", 3: "不明"}, return_dtype=pl.String
            )
        )
        .alias("route"),
        pl.when(pl.col("outside"))
        .then(pl.lit("住登外者"))
        .otherwise(pl.lit("住登者"))
        .alias("resident_class"),
    )
    perm = rng.permutation(m)
    ex = ex.with_columns(pl.Series("atena_no", np.char.zfill((perm + 1_000_001).astype(str), 10)))
    owners = ex.select(pl.col("pid").alias("linked_pid"), pl.col("atena_no").alias("true_owner_atena"))
    return (
        ex.join(owners, on="linked_pid", how="left")
        .with_columns(
            pl.when(pl.col("is_mislink")).then(pl.col("true_owner_atena")).alias("true_owner_atena")
        )
        .sort("atena_no")
    )


# ---- the files --------------------------------------------------------------------------------


def _extract_file(ex: pl.DataFrame, holds_sex: bool, with_atena: bool) -> pl.DataFrame:
    """F1 in the contract's columns (個人番号 blank when the numbers come in F1b)."""
    return ex.select(
        pl.col("atena_no").alias("宛名番号"),
        (pl.lit("") if with_atena else pl.col("number_in_extract")).alias("個人番号"),
        pl.col("biz_name").alias("氏名"),
        pl.col("biz_kana").alias("氏名カナ"),
        pl.col("biz_birth").alias("生年月日"),
        (pl.col("biz_sex") if holds_sex else pl.lit("")).alias("性別"),
        pl.col("biz_address").alias("住所"),
        pl.col("resident_class").alias("住登区分"),
        pl.col("route").alias("取得経路"),
    )


def _truth(ex: pl.DataFrame) -> pl.DataFrame:
    return ex.select(
        "atena_no",
        "kind",
        "is_mislink",
        (pl.col("route") != "自動連携").alias("in_scope"),
        "expected_grade",
        "ambiguous",
        "true_owner_atena",
        "expected_result",
    )


def _registry_answers(registry: pl.DataFrame, ex: pl.DataFrame) -> pl.DataFrame:
    """What 住基ネット holds per 個人番号 (the simulator answers F2 from it); the linked person
    of a kana_unregistered row has a blank kana."""
    reg = registry.select(
        "my_number",
        pl.col("reg_name").alias("name"),
        pl.when(pl.col("r_kana_blank") < 0.004)
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.col("reg_kana"))
        .alias("kana"),
        pl.col("birth_date"),
        pl.when(pl.col("male")).then(pl.lit("1")).otherwise(pl.lit("2")).alias("sex"),
        pl.col("reg_address").alias("address"),
        pl.when(pl.col("deleted")).then(pl.lit("20")).otherwise(pl.lit("00")).alias("status"),
        pl.when(pl.col("deleted"))
        .then(
            pl.col("pid").mod(3).replace_strict(dict(enumerate(vocab.MOVE_REASONS)), return_dtype=pl.String)
        )
        .alias("move_reason"),
        pl.when(pl.col("deleted")).then(pl.lit(date(2025, 6, 1))).alias("move_date"),
    )
    blank_ids = ex.filter(pl.col("kind") == "kana_unregistered").select(
        pl.col("linked_number").alias("my_number"), pl.lit(True).alias("_blank")
    )
    return (
        reg.join(blank_ids, on="my_number", how="left")
        .with_columns(
            pl.when(pl.col("_blank").fill_null(False))
            .then(pl.lit(None, dtype=pl.String))
            .otherwise(pl.col("kana"))
            .alias("kana")
        )
        .drop("_blank")
    )


def _reconcile_kana(
    truth: pl.DataFrame, ex: pl.DataFrame, reg: pl.DataFrame, holds_sex: bool
) -> pl.DataFrame:
    """Rows whose linked registry kana is blank must expect C (カナ未登録)."""
    blank = reg.filter(pl.col("kana").is_null()).select(pl.col("my_number").alias("number_in_extract"))
    hit = ex.join(blank, on="number_in_extract", how="semi").select("atena_no")
    return truth.with_columns(
        pl.when(pl.col("atena_no").is_in(hit["atena_no"].implode()) & (pl.col("expected_result") == "00"))
        .then(pl.lit(Grade.C.value))
        .otherwise(pl.col("expected_grade"))
        .alias("expected_grade"),
        pl.when(pl.col("atena_no").is_in(hit["atena_no"].implode()) & (pl.col("kind") == "ok"))
        .then(pl.lit("kana_unregistered"))
        .otherwise(pl.col("kind"))
        .alias("kind"),
    )


def _municipality_frame() -> pl.DataFrame:
    from importlib import resources

    text = resources.files("schemas").joinpath("data/municipalities.csv").read_text(encoding="utf-8")
    return (
        pl.read_csv(text.encode(), schema_overrides={"code": pl.String})
        .with_columns(pl.col("name").fill_null(""))
        .filter(~pl.col("name").str.contains("区$") | pl.col("prefecture").eq("東京都"))
    )


def _ward_names() -> list[str]:
    """Every 政令市の区 of the municipality table (札幌市中央区 …)."""
    from importlib import resources

    text = resources.files("schemas").joinpath("data/municipalities.csv").read_text(encoding="utf-8")
    frame = pl.read_csv(text.encode(), schema_overrides={"code": pl.String})
    wards = frame.filter(pl.col("name").str.contains("市.+区$"))
    return sorted(set(wards["name"].to_list()))


def _with_registry_fields(people: pl.DataFrame) -> pl.DataFrame:
    """The 住基ネット form of each person: registered glyphs, 郡, 漢数字 丁目, N番N号."""
    chome = (
        pl.when(pl.col("has_chome"))
        .then(_kanji_numeral(pl.col("chome")) + pl.lit("丁目"))
        .otherwise(pl.lit(""))
    )
    number = (
        pl.when(pl.col("has_chome"))
        .then(pl.format("{}番{}号", pl.col("ban"), pl.col("go")))
        .otherwise(pl.format("{}番地{}", pl.col("ban") * 37 + pl.col("go"), pl.col("go")))
    )
    return people.with_columns(
        pl.concat_str(
            [
                pl.when(pl.col("glyph")).then(pl.col("sur_v")).otherwise(pl.col("sur_k")),
                pl.lit("　"),
                pl.col("giv_k"),
            ]
        ).alias("reg_name"),
        pl.concat_str([pl.col("sur_r"), pl.lit("　"), pl.col("giv_r")]).alias("reg_kana"),
        pl.concat_str(
            [pl.col("pref"), pl.col("county"), pl.col("muni"), pl.col("town_name"), chome, number]
        ).alias("reg_address"),
    )


def _manual_town_key(name: str) -> str:
    """The manual's 町字 key: first 2 characters after 大字/字, ヶ/ケ/ヵ/が and の/ノ/之 folded."""
    for prefix in ("大字", "字"):
        name = name.removeprefix(prefix)
    return name.translate(str.maketrans("ヶヵがノ之", "ケケケのの"))[:2]


_MANUAL_TOWN_KEYS = {i: _manual_town_key(t[0]) for i, t in enumerate(vocab.TOWNS)}


def _typo_under_gaiji(common: str, registered: str) -> bool:
    """The typo of ``common`` falls on a character the registered form holds as 外字."""
    typo = _one_typo(common)
    at = next((i for i, (a, b) in enumerate(zip(common, typo, strict=False)) if a != b), None)
    return at is not None and at < len(registered) and registered[at] not in jis0208_chars()


def _one_typo(name: str) -> str:
    """The name with exactly one character keyed wrong: the first look-alike, else a stray 々."""
    for i, char in enumerate(name):
        if char in vocab.TYPO_PAIRS:
            return name[:i] + vocab.TYPO_PAIRS[char] + name[i + 1 :]
    return name + "々"


_VARIATIONS = (
    "v_space",
    "v_glyph",
    "v_gaiji",
    "v_typo",
    "v_kana",
    "v_date",
    "v_sex",
    "v_bld",
    "v_pref",
    "v_county",
    "v_ward",
    "v_num",
    "v_town",
)


def _business_fields(ex: pl.DataFrame, rng: np.random.Generator, others: pl.DataFrame) -> pl.DataFrame:
    """How the business system holds the person: notation variants and real differences."""
    m = ex.height
    ex = ex.with_columns([pl.Series(k, rng.random(m)) for k in _VARIATIONS])
    ex = _business_name(ex)
    ex = _business_address(ex, others)
    return ex.with_columns(
        _business_kana(ex).alias("biz_kana"),
        _business_birth(pl.col("birth_date"), pl.col("v_date")).alias("biz_birth"),
        pl.when(pl.col("v_sex") < 0.8)
        .then(pl.when(pl.col("male")).then(pl.lit("1")).otherwise(pl.lit("2")))
        .otherwise(pl.when(pl.col("male")).then(pl.lit("男")).otherwise(pl.lit("女")))
        .alias("biz_sex"),
    )


def _business_name(ex: pl.DataFrame) -> pl.DataFrame:
    """漢字氏名 as the business system holds it.

    rename: the maiden name (another surname). Glyphs: the variant form (髙, 﨑, 邉 …) when
    the system has it; 𠮷 is not in cp932, so it is either the common 吉 or a 外字 in the
    user-defined area (as old systems stored it; cp932 keeps it, 住基ネット sends 〓).
    typo_name: exactly one character keyed wrong, in the 名 or (when it has a look-alike)
    in the 姓. Between 姓 and 名: a full-width or half-width space, an underscore, or none.
    """
    kind = pl.col("kind")
    n_sur = len(vocab.SURNAMES)
    ex = ex.with_columns(
        pl.when(kind == "rename")
        .then((pl.col("surname") + 17) % n_sur)
        .otherwise(pl.col("surname"))
        .alias("biz_surname"),
    )
    common = dict(enumerate(s[0] for s in vocab.SURNAMES))
    variant = dict(enumerate(s[3] for s in vocab.SURNAMES))
    reading = dict(enumerate(s[1] for s in vocab.SURNAMES))
    sur_common = pl.col("biz_surname").replace_strict(common, return_dtype=pl.String)
    sur_variant = pl.col("biz_surname").replace_strict(variant, return_dtype=pl.String)
    in_cp932 = ~sur_variant.str.contains("𠮷")
    as_gaiji = sur_variant.str.replace("𠮷", vocab.USER_DEFINED_GAIJI, literal=True)
    surname = (
        pl.when((sur_variant != "") & (pl.col("v_glyph") < 0.3))
        .then(
            pl.when(in_cp932)
            .then(sur_variant)
            .when(pl.col("v_gaiji") < 0.5)
            .then(as_gaiji)
            .otherwise(sur_common)
        )
        .otherwise(sur_common)
    )
    sur_typo = {s[0]: _one_typo(s[0]) for s in vocab.SURNAMES if any(c in vocab.TYPO_PAIRS for c in s[0])}
    given_typo = {g[0]: _one_typo(g[0]) for g in (*vocab.MALE_NAMES, *vocab.FEMALE_NAMES)}
    typo_in_surname = (kind == "typo_name") & sur_common.is_in(list(sur_typo)) & (pl.col("v_typo") < 0.35)
    typo_in_given = (kind == "typo_name") & ~typo_in_surname
    surname = pl.when(typo_in_surname).then(sur_common.replace(sur_typo)).otherwise(surname)
    # a slip on the very character 住基ネット holds as 外字 (〓) cannot be seen: the manual
    # excludes 〓 positions, so such a row's expected label is ambiguous
    hidden = [s[0] for s in vocab.SURNAMES if s[0] in sur_typo and _typo_under_gaiji(s[0], s[3])]
    typo_hidden = typo_in_surname & pl.col("glyph") & sur_common.is_in(hidden)
    given = pl.when(typo_in_given).then(pl.col("giv_k").replace(given_typo)).otherwise(pl.col("giv_k"))
    vs = pl.col("v_space")
    space = (
        pl.when(vs < 0.6)
        .then(pl.lit("　"))
        .when(vs < 0.78)
        .then(pl.lit(" "))
        .when(vs < 0.8)
        .then(pl.lit("_"))
        .otherwise(pl.lit(""))
    )
    return ex.with_columns(
        typo_hidden.alias("_typo_hidden"),
        pl.concat_str([surname, space, given]).alias("biz_name"),
        sur_common.alias("biz_sur_k_key"),
        pl.col("biz_surname").replace_strict(reading, return_dtype=pl.String).alias("biz_sur_r"),
    )


def _business_kana(ex: pl.DataFrame) -> pl.Expr:
    """カナ氏名: half-width, hiragana, voiced marks dropped, small kana written large, no
    space or a middle dot between 姓 and 名; blank for biz_kana_blank."""
    full = pl.concat_str([pl.col("biz_sur_r"), pl.lit("　"), pl.col("giv_r")])
    vk = pl.col("v_kana")
    return (
        pl.when(pl.col("kind") == "biz_kana_blank")
        .then(pl.lit(""))
        .when(vk < 0.12)
        .then(_to_halfwidth_kana(full))
        .when(vk < 0.15)
        .then(_to_halfwidth_kana(full).str.replace(" ", "", literal=True))
        .when(vk < 0.25)
        .then(_to_hiragana(full))
        .when(vk < 0.32)
        .then(_drop_voiced(full))
        .when(vk < 0.40)
        .then(_enlarge_small(full))
        .when(vk < 0.45)
        .then(full.str.replace("　", "", literal=True))
        .when(vk < 0.47)
        .then(full.str.replace("　", "・", literal=True))
        .otherwise(full)
    )


def _business_birth(bd: pl.Expr, vd: pl.Expr) -> pl.Expr:
    """Every date form of the contract: 西暦 three ways, 和暦 text, S45.12.04, H1.1.8, GYYMMDD."""
    return (
        pl.when(vd < 0.35)
        .then(bd.dt.strftime("%Y%m%d"))
        .when(vd < 0.45)
        .then(bd.dt.strftime("%Y-%m-%d"))
        .when(vd < 0.55)
        .then(bd.dt.strftime("%Y/%m/%d"))
        .when(vd < 0.75)
        .then(_wareki(bd, pl.lit(0)))
        .when(vd < 0.83)
        .then(_wareki(bd, pl.lit(1)))
        .when(vd < 0.87)
        .then(_wareki(bd, pl.lit(3)))
        .otherwise(_wareki(bd, pl.lit(2)))
    )


def _business_address(ex: pl.DataFrame, others: pl.DataFrame) -> pl.DataFrame:
    """住所 as the business system holds it.

    moved_muni: the old address in another municipality; moved_town: another 町字 of the
    same one, other numbers. Notation: 都道府県 omitted, 郡 omitted, the 政令市's ward
    omitted, the 町字's other spelling (ヶ/が, の/ノ, 大字), numbers as 1-2-3, full width,
    丁目番号, kanji numerals, long-vowel or minus-sign dashes, 番地の; a building name and
    room after a space, without one, in half-width kana, or as one more number (-201).
    """
    ex = _moved_address(ex, others)
    bt = pl.col("biz_town")
    t_name = (
        pl.when(pl.col("v_town") < 0.5)
        .then(bt.replace_strict(dict(enumerate(t[2] or t[0] for t in vocab.TOWNS)), return_dtype=pl.String))
        .otherwise(bt.replace_strict(dict(enumerate(t[0] for t in vocab.TOWNS)), return_dtype=pl.String))
    )
    has_chome = bt.replace_strict(dict(enumerate(t[1] for t in vocab.TOWNS)), return_dtype=pl.Boolean)
    pref = pl.when(pl.col("v_pref") < 0.4).then(pl.lit("")).otherwise(pl.col("biz_pref"))
    county = pl.when(pl.col("v_county") < 0.5).then(pl.lit("")).otherwise(pl.col("biz_county"))
    city = pl.col("biz_muni").str.extract(r"^(.+?市).+区$", 1)
    muni = pl.when(city.is_not_null() & (pl.col("v_ward") < 0.1)).then(city).otherwise(pl.col("biz_muni"))
    return ex.with_columns(
        pl.concat_str(
            [
                pref,
                county,
                muni,
                t_name,
                pl.when(has_chome).then(_chome_numbers()).otherwise(_lot_numbers()),
                _building(),
            ]
        ).alias("biz_address"),
    )


def _moved_address(ex: pl.DataFrame, others: pl.DataFrame) -> pl.DataFrame:
    """biz_pref, biz_muni, biz_town, biz_chome, biz_ban, biz_go, biz_county: the person's own
    address, or for a mover the old one (another municipality, or another 町字 and numbers)."""
    kind = pl.col("kind")
    n_other, n_towns = others.height, len(vocab.TOWNS)
    other_pref = dict(enumerate(others["prefecture"].to_list()))
    other_name = dict(enumerate(others["name"].to_list()))
    moved_muni, moved_town = kind == "moved_muni", kind == "moved_town"
    old_muni = (pl.col("other_muni") + 1 + (pl.col("r_given") % 5)) % n_other
    ex = ex.with_columns(
        pl.when(moved_muni)
        .then(old_muni.replace_strict(other_pref, return_dtype=pl.String))
        .otherwise(pl.col("pref"))
        .alias("biz_pref"),
        pl.when(moved_muni)
        .then(old_muni.replace_strict(other_name, return_dtype=pl.String))
        .otherwise(pl.col("muni"))
        .alias("biz_muni"),
        pl.when(moved_town)
        .then((pl.col("town") + 1 + pl.col("r_given") % (n_towns - 1)) % n_towns)
        .otherwise(pl.col("town"))
        .alias("biz_town"),
    )
    moved = moved_muni | moved_town
    return ex.with_columns(
        # a moved-muni person whose old muni equals the new one is not a move at all
        pl.when(moved_muni & (pl.col("biz_muni") == pl.col("muni")))
        .then(pl.lit("ok"))
        .otherwise(kind)
        .alias("kind"),
        pl.when(moved).then(pl.col("r_given") % 5 + 1).otherwise(pl.col("chome")).alias("biz_chome"),
        pl.when(moved).then(pl.col("r_given") % 39 + 1).otherwise(pl.col("ban")).alias("biz_ban"),
        pl.when(moved).then((pl.col("r_given") // 39) % 24 + 1).otherwise(pl.col("go")).alias("biz_go"),
        pl.col("biz_muni")
        .replace_strict(vocab.COUNTIES, default="", return_dtype=pl.String)
        .alias("biz_county"),
    )


def _chome_numbers() -> pl.Expr:
    """丁目番号 as 1-2-3, full width, 丁目番号, kanji numerals, long-vowel or minus-sign dashes."""
    vn = pl.col("v_num")
    ch, ban, go = pl.col("biz_chome"), pl.col("biz_ban"), pl.col("biz_go")
    return (
        pl.when(vn < 0.25)
        .then(pl.format("{}-{}-{}", ch, ban, go))
        .when(vn < 0.35)
        .then(
            pl.format("{}－{}－{}", ch, ban, go).str.replace_many(
                {str(i): chr(0xFF10 + i) for i in range(10)}
            )
        )
        .when(vn < 0.45)
        .then(pl.format("{}丁目{}番{}号", ch, ban, go))
        .when(vn < 0.53)
        .then(
            pl.concat_str(
                [_kanji_numeral(ch), pl.lit("丁目"), _kanji_numeral(ban), pl.lit("番地"), _kanji_numeral(go)]
            )
        )
        .when(vn < 0.61)
        .then(pl.format("{}ー{}ー{}", ch, ban, go))
        .when(vn < 0.66)
        .then(pl.format("{}−{}−{}", ch, ban, go))
        .when(vn < 0.72)
        .then(pl.format("{}丁目{}-{}", ch, ban, go))
        .otherwise(
            pl.concat_str(
                [
                    _kanji_numeral(ch),
                    pl.lit("丁目"),
                    ban.cast(pl.String),
                    pl.lit("番"),
                    go.cast(pl.String),
                    pl.lit("号"),
                ]
            )
        )
    )


def _lot_numbers() -> pl.Expr:
    """地番 (towns without 丁目) as 1234-5, 1234番地5, 番地の, kanji numerals or full width."""
    vn, ban, go = pl.col("v_num"), pl.col("biz_ban"), pl.col("biz_go")
    lot = ban * 37 + go
    return (
        pl.when(vn < 0.3)
        .then(pl.format("{}-{}", lot, go))
        .when(vn < 0.6)
        .then(pl.format("{}番地{}", lot, go))
        .when(vn < 0.75)
        .then(pl.format("{}番地の{}", lot, go))
        .when(vn < 0.85)
        .then(pl.concat_str([_kanji_numeral(lot), pl.lit("番地"), _kanji_numeral(go)]))
        .otherwise(
            pl.format("{}－{}", lot, go).str.replace_many({str(i): chr(0xFF10 + i) for i in range(10)})
        )
    )


def _building() -> pl.Expr:
    """A building name and room after a space, without one, in half-width kana, or as -201."""
    building_name = (
        pl.col("r_given")
        .mod(len(vocab.BUILDINGS))
        .replace_strict(dict(enumerate(vocab.BUILDINGS)), return_dtype=pl.String)
    )
    room = (pl.col("r_given") % 5 + 1) * 100 + pl.col("r_given") % 9 + 1
    vb = pl.col("v_bld")
    return (
        pl.when(vb < 0.04)
        .then(pl.format(" {}{}号室", building_name, room))
        .when(vb < 0.06)
        .then(pl.format("{}{}", building_name, room))
        .when(vb < 0.07)
        .then(pl.format(" {}{}", _to_halfwidth_kana(building_name), room))
        .when(vb < 0.09)
        .then(pl.format("-{}", room))
        .otherwise(pl.lit(""))
    )
