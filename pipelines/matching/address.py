"""住所 split into 都道府県 / 市区町村 / 町字等, and the comparison keys of the manual's rule.

The manual (footnotes 11–12) treats two addresses as the same when the 市区町村 agree (one
side may omit the 都道府県), the 町字 part agrees in its first 2 characters, and the
sequence of numbers agrees (``1丁目1番1号`` = ``1-1-1`` = ``一丁目一番地一``).

Choices where the rule is silent (a careful checker's reading, documented in the README):

* ヶ/ケ/ヵ/が and の/ノ/之 are spelling variants, folded before comparing; a leading 大字/字
  is dropped from the 町字.
* 郡 may be written or omitted (上川郡東川町 = 東川町); names that contain 郡 themselves
  (郡山市, 蒲郡市 …) are matched before any 郡 is stripped.
* Kanji numerals (with 十/百/千) become digits on both sides alike, so a town name such as
  三田 or 十日町 turns into 3田 / 10日町 on both sides and still compares equal.
* Building names and room numbers are not compared: the number sequence stops where a
  building part starts (a space, katakana or Latin letters after the first digit), because
  they are often present on one side only.

Everything runs on the distinct addresses of a file and is joined back.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import polars as pl

_FOLD_KE = {"ヶ": "ケ", "ヵ": "ケ", "が": "ケ", "ケ": "ケ", "ノ": "の", "之": "の", "丿": "の"}
_KANJI_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "壱": 1,
    "二": 2,
    "弐": 2,
    "三": 3,
    "参": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_KANJI_UNITS = {"十": 10, "拾": 10, "百": 100, "千": 1000}
_KANJI_NUMERAL = "[〇零一壱二弐三参四五六七八九十拾百千]+"
_DASHES = "[-‐‑‒–—―−－ｰ─━]"


@dataclass(frozen=True)
class Municipalities:
    prefectures: tuple[str, ...]
    names: tuple[str, ...]  # folded (ヶ→ケ) municipality names incl. 政令市の区, longest first


@cache
def municipalities() -> Municipalities:
    text = resources.files("schemas").joinpath("data/municipalities.csv").read_text(encoding="utf-8")
    prefs: set[str] = set()
    names: set[str] = set()
    for row in csv.DictReader(text.splitlines()):
        prefs.add(row["prefecture"])
        if row["name"]:
            names.add(fold_ke(row["name"]))
    return Municipalities(
        prefectures=tuple(sorted(prefs, key=len, reverse=True)),
        names=tuple(sorted(names, key=lambda n: (-len(n), n))),
    )


def fold_ke(text: str) -> str:
    return "".join(_FOLD_KE.get(c, c) for c in text)


def kanji_to_number(run: str) -> int:
    """``二十三`` → 23, ``百五`` → 105, ``一〇一`` → 101 (positional), ``十`` → 10."""
    if all(c in _KANJI_DIGITS for c in run):
        return int("".join(str(_KANJI_DIGITS[c]) for c in run))
    total, digit = 0, 0
    for c in run:
        if c in _KANJI_DIGITS:
            digit = digit * 10 + _KANJI_DIGITS[c]
        else:
            total += (digit or 1) * _KANJI_UNITS[c]
            digit = 0
    return total + digit


def _numeral_table(runs: pl.Series) -> dict[str, str]:
    """Distinct kanji-numeral runs → digits (a few hundred per file, converted once)."""
    return {r: str(kanji_to_number(r)) for r in runs.drop_nulls().unique().to_list()}


def split_addresses(frame: pl.DataFrame, column: str, prefix: str) -> pl.DataFrame:
    """Add ``{prefix}_pref``, ``{prefix}_muni``, ``{prefix}_town_key``, ``{prefix}_numbers``,
    ``{prefix}_muni_text`` (the raw text up to the 市区町村) and ``{prefix}_town_text``.
    """
    distinct = frame.select(pl.col(column).unique()).filter(pl.col(column).is_not_null())
    parsed = _split_distinct(distinct, column, prefix)
    return frame.join(parsed, on=column, how="left", maintain_order="left")


def _split_distinct(frame: pl.DataFrame, column: str, p: str) -> pl.DataFrame:
    table = municipalities()
    pref_re = "^(" + "|".join(map(re.escape, table.prefectures)) + ")"
    muni_alt = "|".join(map(re.escape, table.names))
    county_re = f"^([^郡\\d]{{1,6}}?郡)({muni_alt})"

    spaced = pl.col("_t")
    compact = pl.col("_c")
    step = frame.with_columns(
        pl.col(column).str.normalize("NFKC").str.replace_all(r"\s+", " ").str.strip_chars().alias("_t")
    ).with_columns(spaced.str.replace_all(" ", "").alias("_c"))
    step = step.with_columns(compact.str.extract(pref_re, 1).alias(f"{p}_pref"))
    pref_len = pl.col(f"{p}_pref").str.len_chars().fill_null(0)
    step = step.with_columns(compact.str.slice(pref_len).alias("_rest"))
    step = step.with_columns(pl.col("_rest").str.replace_many(_FOLD_KE).alias("_rest_f"))
    direct = pl.col("_rest_f").str.extract(f"^({muni_alt})", 1)
    step = step.with_columns(
        direct.alias("_direct"),
        pl.col("_rest_f").str.extract(county_re, 1).alias("_county"),
        pl.col("_rest_f").str.extract(county_re, 2).alias("_county_muni"),
    )
    muni_len = (
        pl.when(pl.col("_direct").is_not_null())
        .then(pl.col("_direct").str.len_chars())
        .otherwise(pl.col("_county").str.len_chars() + pl.col("_county_muni").str.len_chars())
        .fill_null(0)
    )
    # where the building part starts: the first space after the first digit, in
    # characters of the space-free text (names of 市区町村 hold no ASCII digits)
    spaced_head = spaced.str.extract(r"^(.*?\d\S*)\s", 1).str.replace_all(" ", "").str.len_chars()
    step = step.with_columns(
        pl.coalesce("_direct", "_county_muni").alias(f"{p}_muni"),
        pl.col("_rest").str.slice(0, muni_len).alias(f"{p}_muni_text"),
        pl.col("_rest").str.slice(muni_len).alias(f"{p}_town_text"),
        (spaced_head - pref_len - muni_len).alias("_cut"),
    )
    town = pl.col(f"{p}_town_text")
    core = pl.when(pl.col("_cut") > 0).then(town.str.slice(0, pl.col("_cut"))).otherwise(town)
    step = step.with_columns(core.alias("_core"))
    # kanji numerals → digits (distinct runs converted once), then the number sequence
    runs = step.select(pl.col("_core").str.extract_all(_KANJI_NUMERAL).explode()).to_series()
    numerals = _numeral_table(runs)
    digits = (
        pl.col("_core").str.replace_many(
            dict(sorted(numerals.items(), key=lambda kv: -len(kv[0]))), leftmost=True
        )
        if numerals
        else pl.col("_core")
    )
    head = digits.str.extract(r"^([^\d]*\d[^ァ-ヴA-Za-z(（]*)", 1)
    key_text = town.str.replace_many(_FOLD_KE).str.replace(r"^大?字", "")
    step = step.with_columns(
        key_text.str.slice(0, 2).alias(f"{p}_town_key"),
        head.str.extract_all(r"\d+")
        .list.eval(pl.element().str.strip_chars_start("0").replace("", "0"))
        .list.join("-")
        .alias(f"{p}_numbers"),
    )
    return step.select(
        column,
        f"{p}_pref",
        f"{p}_muni",
        f"{p}_muni_text",
        f"{p}_town_text",
        f"{p}_town_key",
        f"{p}_numbers",
    )
