"""Synthetic extracts with ground truth, for the demo, the tests and the benchmarks.

Builds a population of households (the registry 住基ネット would answer from), picks the
people an agency's 事務 serves, and writes their business-system extract (F1) with the
kinds of difference real extracts have:

* notation only (expected A): spaces, 異体字 and 外字 (髙, 𠮷 → 〓), half-width kana,
  hiragana, dropped voiced marks, large for small kana, every date form, address spellings
  (都道府県 omitted, 1-1-1, 一丁目一番地一, ヶ/ケ, 大字, building names);
* real differences of the right person: 改姓 not reported, 転居 (other municipality or same
  municipality), a keying slip in the kanji name, kana never recorded in 住基ネット, a person
  since deleted (死亡・国外転出);
* mislinks, as the seeds report them: a family member's number, a twin's, a namesake's, a
  neighbour's number keyed in a batch (numbers shifted by one row), a number that does not
  exist.

Ground truth is semantic: the expected 判定 comes from which attributes of the two people
really differ, never from string matching, so it can score the matcher.

Everything is vectorised (numpy + polars); 1M rows take well under a minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.checkdigit import MY_NUMBER_WEIGHTS
from pipelines.dates import ERAS
from pipelines.privacy import write_private
from pipelines.synthetic import vocab
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
    """1..99 → 一..九十九 (for 丁目 and the 漢数字 address forms)."""
    digits = ["", "一", "二", "三", "四", "五", "六", "七", "八", "九"]
    tens = n // 10
    ones = n % 10
    ten_part = (
        pl.when(tens == 0)
        .then(pl.lit(""))
        .when(tens == 1)
        .then(pl.lit("十"))
        .otherwise(tens.replace_strict(dict(enumerate(digits)), return_dtype=pl.String) + pl.lit("十"))
    )
    return ten_part + ones.replace_strict(dict(enumerate(digits)), return_dtype=pl.String)


def _wareki(d: pl.Expr, style: pl.Expr) -> pl.Expr:
    """Dates as 昭和45年12月4日 (style 0), S45.12.04 (1) or 3451204 (2)."""
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
    return pl.when(style == 0).then(text).when(style == 1).then(dotted).otherwise(seven)


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
    """A synthetic extract of about ``n_rows`` rows for one agency × 事務, with ground truth."""
    rates = rates or Rates()
    rng = np.random.default_rng(seed)
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

    # ---- households ------------------------------------------------------------------
    n_people = int(n_rows * 1.35) + 200
    n_households = max(50, int(n_people / 2.3))
    sizes = rng.choice([1, 2, 3, 4, 5], size=n_households, p=[0.3, 0.3, 0.2, 0.15, 0.05])
    sur_w = np.array([s[2] for s in vocab.SURNAMES], dtype=float)
    towns = len(vocab.TOWNS)
    hh = pl.DataFrame(
        {
            "hh": np.arange(n_households),
            "size": sizes,
            "surname": rng.choice(len(vocab.SURNAMES), size=n_households, p=sur_w / sur_w.sum()),
            "glyph": rng.random(n_households) < 0.25,  # household registered with the variant form
            "outside": rng.random(n_households) < 0.12,  # lives in another municipality (住登外者)
            "other_muni": rng.integers(0, others.height, n_households),
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
    role = pl.col("role")
    first_child_birth = pl.col("head_birth") + pl.col("r_child")
    people = people.with_columns(
        # head, spouse (opposite sex), children; the 2nd child of a twin household shares
        # the first child's birth date
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
    people = (
        people.join(child_base, on="hh", how="left")
        .with_columns(
            pl.when(role <= 1)
            .then(pl.col("_birth_days"))
            .when((role == 3) & pl.col("twins"))
            .then(pl.col("_c2"))
            .when(role >= 2)
            .then(pl.col("_c2") + (role - 2) * 700 + pl.col("r_age").abs() % 300)
            .alias("_birth_days")
        )
        .with_columns(
            pl.min_horizontal(pl.col("_birth_days"), pl.lit((today - date(1970, 1, 1)).days - 30)).alias(
                "_birth_days"
            )
        )
        .with_columns(
            (pl.lit(date(1970, 1, 1)) + pl.duration(days=pl.col("_birth_days")))
            .cast(pl.Date)
            .alias("birth_date"),
            ((role == 3) & pl.col("twins")).alias("is_twin"),
        )
    )
    n_m, n_f = len(vocab.MALE_NAMES), len(vocab.FEMALE_NAMES)
    # a twin gets the name after its sibling's, so twins never share a given name
    people = people.with_columns(
        pl.when(pl.col("male"))
        .then(pl.col("r_given") % n_m)
        .otherwise(pl.col("r_given") % n_f)
        .alias("given"),
    )
    sib = people.filter(role == 2).select(
        "hh", pl.col("given").alias("_sib_given"), pl.col("male").alias("_sib_male")
    )
    people = (
        people.join(sib, on="hh", how="left")
        .with_columns(
            pl.when(pl.col("is_twin") & (pl.col("male") == pl.col("_sib_male")))
            .then((pl.col("_sib_given") + 1) % pl.when(pl.col("male")).then(n_m).otherwise(n_f))
            .otherwise(pl.col("given"))
            .alias("given")
        )
        .sort("pid")
    )

    surname_kanji = pl.Series([s[0] for s in vocab.SURNAMES])
    surname_kana = pl.Series([s[1] for s in vocab.SURNAMES])
    surname_variant = pl.Series([s[3] or s[0] for s in vocab.SURNAMES])
    male_k = pl.Series([g[0] for g in vocab.MALE_NAMES])
    male_r = pl.Series([g[1] for g in vocab.MALE_NAMES])
    female_k = pl.Series([g[0] for g in vocab.FEMALE_NAMES])
    female_r = pl.Series([g[1] for g in vocab.FEMALE_NAMES])

    def pick(series: pl.Series, idx: str) -> pl.Expr:
        return pl.col(idx).replace_strict(dict(enumerate(series.to_list())), return_dtype=pl.String)

    people = people.with_columns(
        pick(surname_kanji, "surname").alias("sur_k"),
        pick(surname_variant, "surname").alias("sur_v"),
        pick(surname_kana, "surname").alias("sur_r"),
        pl.when(pl.col("male")).then(pick(male_k, "given")).otherwise(pick(female_k, "given")).alias("giv_k"),
        pl.when(pl.col("male")).then(pick(male_r, "given")).otherwise(pick(female_r, "given")).alias("giv_r"),
    )
    town_name = pl.Series([t[0] for t in vocab.TOWNS])
    town_has_chome = pl.Series([t[1] for t in vocab.TOWNS])
    town_alt = pl.Series([t[2] or t[0] for t in vocab.TOWNS])
    other_pref = others["prefecture"]
    other_name = others["name"]
    people = people.with_columns(
        pl.when(pl.col("outside"))
        .then(pick(other_pref, "other_muni"))
        .otherwise(pl.lit(home_pref))
        .alias("pref"),
        pl.when(pl.col("outside"))
        .then(pick(other_name, "other_muni"))
        .otherwise(pl.lit(home_muni))
        .alias("muni"),
        pick(town_name, "town").alias("town_name"),
        pick(town_alt, "town").alias("town_alt"),
        pl.col("town")
        .replace_strict(dict(enumerate(town_has_chome.to_list())), return_dtype=pl.Boolean)
        .alias("has_chome"),
    )
    people = _with_registry_fields(people)
    people = people.with_columns(
        pl.Series("my_number", _my_numbers(people["pid"].to_numpy(), seed)),
        # 住基ネット: 2% deleted (death, emigration), kana unrecorded for some
        (pl.col("r_status") < 0.01).alias("deleted"),
    )

    # ---- the extract: who the 事務 serves ---------------------------------------------
    served = rng.choice(n, size=min(n_rows, n - 100), replace=False)
    served.sort()
    ex = people[served].with_columns(pl.int_range(pl.len()).alias("row"))
    m = ex.height
    u = rng.random(m)
    kinds = [
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
    ]
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
        pl.when((pl.col("kind") == "twin") & ~pl.col("is_twin"))
        .then(pl.lit("ok"))
        .when((pl.col("kind") == "family") & (pl.col("size") < 2))
        .then(pl.lit("ok"))
        .when((pl.col("kind") == "rename") & (pl.col("role") != 1))
        .then(pl.lit("ok"))
        .when((pl.col("kind") == "deleted") & ~pl.col("deleted"))
        .then(pl.lit("ok"))
        .when((pl.col("kind") != "deleted") & pl.col("deleted"))
        .then(pl.lit("deleted"))
        .when((pl.col("kind") == "kana_unregistered") & pl.col("is_twin"))
        .then(pl.lit("ok"))
        .otherwise(pl.col("kind"))
        .alias("kind")
    )
    # neighbour batches: runs of 3 rows whose numbers are each the next row's
    ex = ex.with_columns(
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

    # the person whose number the row holds (linked) — the row's own person unless mislinked
    registry = people.select(
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
    # namesake: a person outside the extract gets the same name, another birth date/address
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
    # the namesakes: new registry people (pid beyond the population)
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
    registry = pl.concat(
        [registry, ns_people.select([pl.col(c).cast(t) for c, t in registry.schema.items()])], how="vertical"
    )
    ex = ex.join(ns.select("row", pl.col("ns_pid")), on="row", how="left").with_columns(
        pl.coalesce("ns_pid", "linked_pid").alias("linked_pid")
    )

    # ---- the business side ----------------------------------------------------------
    ex = _business_fields(ex, rng, others)
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
    nonexistent = pl.col("kind") == "nonexistent"
    ex = ex.with_columns(
        pl.when(nonexistent)
        .then(pl.Series(_my_numbers(np.arange(m) + 50_000_000_000, seed + 7)))
        .otherwise(pl.col("linked_number"))
        .alias("number_in_extract"),
    )

    # ---- ground truth (semantic) ----------------------------------------------------
    kana_unreg = pl.col("kind") == "kana_unregistered"
    ex = ex.with_columns(
        pl.when(nonexistent)
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
            & ~kana_unreg
            & (pl.col("kind") != "biz_kana_blank")
        ).alias("eq_kana"),
        (
            (pl.col("biz_sur_k_key") == pl.col("l_sur_k"))
            & (pl.col("giv_k") == pl.col("l_giv_k"))
            & (pl.col("kind") != "typo_name")
        ).alias("eq_name"),
        (pl.col("biz_muni") == pl.col("l_muni")).alias("eq_muni"),
        (
            (pl.col("biz_muni") == pl.col("l_muni"))
            & (pl.col("biz_town") == pl.col("l_town"))
            & (pl.col("chome") == pl.col("l_chome"))
            & (pl.col("ban") == pl.col("l_ban"))
            & (pl.col("go") == pl.col("l_go"))
        ).alias("eq_town"),
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
    ex = ex.with_columns(
        expected.alias("expected_grade"),
        is_mislink.alias("is_mislink"),
        # a mislink that agrees on every attribute cannot be found from 4情報
        (is_mislink & (expected == Grade.A.value)).alias("ambiguous"),
    )
    # scope: 自動連携 only for correct links; out-of-scope rows are never sent
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
    # 宛名番号: 10 digits, not in population order
    perm = rng.permutation(m)
    ex = ex.with_columns(pl.Series("atena_no", np.char.zfill((perm + 1_000_001).astype(str), 10)))
    owners = ex.select(pl.col("pid").alias("linked_pid"), pl.col("atena_no").alias("true_owner_atena"))
    ex = (
        ex.join(owners, on="linked_pid", how="left")
        .with_columns(pl.when(is_mislink).then(pl.col("true_owner_atena")).alias("true_owner_atena"))
        .sort("atena_no")
    )

    extract = ex.select(
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
    atena = (
        ex.select(pl.col("atena_no").alias("宛名番号"), pl.col("number_in_extract").alias("個人番号"))
        if with_atena
        else None
    )
    truth = ex.select(
        "atena_no",
        "kind",
        "is_mislink",
        (pl.col("route") != "自動連携").alias("in_scope"),
        "expected_grade",
        "ambiguous",
        "true_owner_atena",
        "expected_result",
    )
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
    # kana_unregistered rows: their linked person's kana must be blank in the registry
    blank_ids = ex.filter(kana_unreg).select(
        pl.col("linked_number").alias("my_number"), pl.lit(True).alias("_blank")
    )
    reg = (
        reg.join(blank_ids, on="my_number", how="left")
        .with_columns(
            pl.when(pl.col("_blank").fill_null(False))
            .then(pl.lit(None, dtype=pl.String))
            .otherwise(pl.col("kana"))
            .alias("kana")
        )
        .drop("_blank")
    )
    # everyone else in the extract whose registry kana happened to be blank is kana_unregistered
    return SyntheticData(
        agency=agency,
        jimu=jimu,
        extract=extract,
        atena=atena,
        registry=reg,
        truth=_reconcile_kana(truth, ex, reg, holds_sex),
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


def _with_registry_fields(people: pl.DataFrame) -> pl.DataFrame:
    """The 住基ネット form of each person: registered glyphs, 漢数字 丁目, N番N号."""
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
        pl.concat_str([pl.col("pref"), pl.col("muni"), pl.col("town_name"), chome, number]).alias(
            "reg_address"
        ),
    )


def _business_fields(ex: pl.DataFrame, rng: np.random.Generator, others: pl.DataFrame) -> pl.DataFrame:
    """How the business system holds the person: notation variants and real differences."""
    m = ex.height
    r = {
        k: pl.Series(k, rng.random(m))
        for k in (
            "v_space",
            "v_glyph",
            "v_kana",
            "v_date",
            "v_sex",
            "v_addr",
            "v_bld",
            "v_pref",
            "v_num",
            "v_town",
        )
    }
    ex = ex.with_columns(list(r.values()))
    kind = pl.col("kind")
    # surname in business: rename → the maiden name (another surname); glyph per business habit
    n_sur = len(vocab.SURNAMES)
    ex = ex.with_columns(
        pl.when(kind == "rename")
        .then((pl.col("surname") + 17) % n_sur)
        .otherwise(pl.col("surname"))
        .alias("biz_surname"),
    )
    sk = dict(enumerate(s[0] for s in vocab.SURNAMES))
    sv = dict(enumerate(s[3] for s in vocab.SURNAMES))
    sr = dict(enumerate(s[1] for s in vocab.SURNAMES))
    biz_sur_common = pl.col("biz_surname").replace_strict(sk, return_dtype=pl.String)
    biz_sur_variant = pl.col("biz_surname").replace_strict(sv, return_dtype=pl.String)
    # business systems hold cp932: 𠮷 is not there, 髙 is (IBM extension)
    usable_variant = (biz_sur_variant != "") & ~biz_sur_variant.str.contains("𠮷")
    biz_sur = (
        pl.when(usable_variant & (pl.col("v_glyph") < 0.3)).then(biz_sur_variant).otherwise(biz_sur_common)
    )
    typo_map = vocab.TYPO_PAIRS
    typo_src = "[" + "".join(typo_map) + "]"
    given = pl.col("giv_k")
    given_typo = (
        pl.when(given.str.contains(typo_src))
        .then(given.str.replace_many(typo_map))
        .otherwise(pl.lit("") + given + pl.lit("々"))
    )  # nothing to mistype: a stray character
    biz_given = pl.when(kind == "typo_name").then(given_typo).otherwise(given)
    space = (
        pl.when(pl.col("v_space") < 0.6)
        .then(pl.lit("　"))
        .when(pl.col("v_space") < 0.8)
        .then(pl.lit(" "))
        .otherwise(pl.lit(""))
    )
    ex = ex.with_columns(
        pl.concat_str([biz_sur, space, biz_given]).alias("biz_name"),
        biz_sur_common.alias("biz_sur_k_key"),
        pl.col("biz_surname").replace_strict(sr, return_dtype=pl.String).alias("biz_sur_r"),
    )
    kana_full = pl.concat_str([pl.col("biz_sur_r"), pl.lit("　"), pl.col("giv_r")])
    vk = pl.col("v_kana")
    biz_kana = (
        pl.when(kind == "biz_kana_blank")
        .then(pl.lit(""))
        .when(vk < 0.15)
        .then(_to_halfwidth_kana(kana_full))
        .when(vk < 0.25)
        .then(_to_hiragana(kana_full))
        .when(vk < 0.32)
        .then(_drop_voiced(kana_full))
        .when(vk < 0.40)
        .then(_enlarge_small(kana_full))
        .when(vk < 0.45)
        .then(kana_full.str.replace("　", ""))
        .otherwise(kana_full)
    )
    vd = pl.col("v_date")
    bd = pl.col("birth_date")
    biz_birth = (
        pl.when(vd < 0.35)
        .then(bd.dt.strftime("%Y%m%d"))
        .when(vd < 0.45)
        .then(bd.dt.strftime("%Y-%m-%d"))
        .when(vd < 0.55)
        .then(bd.dt.strftime("%Y/%m/%d"))
        .when(vd < 0.75)
        .then(_wareki(bd, pl.lit(0)))
        .when(vd < 0.87)
        .then(_wareki(bd, pl.lit(1)))
        .otherwise(_wareki(bd, pl.lit(2)))
    )
    biz_sex = (
        pl.when(pl.col("v_sex") < 0.8)
        .then(pl.when(pl.col("male")).then(pl.lit("1")).otherwise(pl.lit("2")))
        .otherwise(pl.when(pl.col("male")).then(pl.lit("男")).otherwise(pl.lit("女")))
    )
    # address: moved → the old address (another municipality, or another town in the same one)
    n_other = others.height
    other_pref = dict(enumerate(others["prefecture"].to_list()))
    other_name = dict(enumerate(others["name"].to_list()))
    moved_muni = kind == "moved_muni"
    moved_town = kind == "moved_town"
    old_muni_idx = (pl.col("other_muni") + 1 + (pl.col("r_given") % 5)) % n_other
    ex = ex.with_columns(
        pl.when(moved_muni)
        .then(old_muni_idx.replace_strict(other_pref, return_dtype=pl.String))
        .otherwise(pl.col("pref"))
        .alias("biz_pref"),
        pl.when(moved_muni)
        .then(old_muni_idx.replace_strict(other_name, return_dtype=pl.String))
        .otherwise(pl.col("muni"))
        .alias("biz_muni"),
        pl.when(moved_town)
        .then((pl.col("town") + 3) % len(vocab.TOWNS))
        .otherwise(pl.col("town"))
        .alias("biz_town"),
    )
    ex = ex.with_columns(
        # a moved-muni person whose old muni equals the new one is not a move at all
        pl.when(moved_muni & (pl.col("biz_muni") == pl.col("muni")))
        .then(pl.lit("ok"))
        .otherwise(kind)
        .alias("kind"),
    )
    town_name = dict(enumerate(t[0] for t in vocab.TOWNS))
    town_alt = dict(enumerate(t[2] or t[0] for t in vocab.TOWNS))
    town_chome = dict(enumerate(t[1] for t in vocab.TOWNS))
    bt = pl.col("biz_town")
    t_name = (
        pl.when(pl.col("v_town") < 0.5)
        .then(bt.replace_strict(town_alt, return_dtype=pl.String))
        .otherwise(bt.replace_strict(town_name, return_dtype=pl.String))
    )
    has_chome = bt.replace_strict(town_chome, return_dtype=pl.Boolean)
    vn = pl.col("v_num")
    ban, go, ch = pl.col("ban"), pl.col("go"), pl.col("chome")
    chome_numbers = (
        pl.when(vn < 0.3)
        .then(pl.format("{}-{}-{}", ch, ban, go))
        .when(vn < 0.45)
        .then(
            pl.format("{}－{}－{}", ch, ban, go).str.replace_many(
                {str(i): chr(0xFF10 + i) for i in range(10)}
            )
        )
        .when(vn < 0.6)
        .then(pl.format("{}丁目{}番{}号", ch, ban, go))
        .when(vn < 0.7)
        .then(
            pl.concat_str(
                [_kanji_numeral(ch), pl.lit("丁目"), _kanji_numeral(ban), pl.lit("番地"), _kanji_numeral(go)]
            )
        )
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
    lot = ban * 37 + go
    lot_numbers = (
        pl.when(vn < 0.5).then(pl.format("{}-{}", lot, go)).otherwise(pl.format("{}番地{}", lot, go))
    )
    numbers = pl.when(has_chome).then(chome_numbers).otherwise(lot_numbers)
    building = (
        pl.when(pl.col("v_bld") < 0.08)
        .then(
            pl.lit(" ")
            + pl.col("r_given")
            .mod(len(vocab.BUILDINGS))
            .replace_strict(dict(enumerate(vocab.BUILDINGS)), return_dtype=pl.String)
            + pl.format("{}号室", (pl.col("r_given") % 5 + 1) * 100 + pl.col("r_given") % 9 + 1)
        )
        .otherwise(pl.lit(""))
    )
    pref = pl.when(pl.col("v_pref") < 0.4).then(pl.lit("")).otherwise(pl.col("biz_pref"))
    ex = ex.with_columns(
        pl.concat_str([pref, pl.col("biz_muni"), t_name, numbers, building]).alias("biz_address"),
        biz_kana.alias("biz_kana"),
        biz_birth.alias("biz_birth"),
        biz_sex.alias("biz_sex"),
    )
    del kana_full, n_other
    return ex
