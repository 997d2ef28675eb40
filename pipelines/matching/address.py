"""住所 split into 都道府県 / 市区町村 / 町字等, and the comparison keys of the manual's rule.

The manual (footnotes 11–12) treats two addresses as the same when the 市区町村 agree (one
side may omit the 都道府県), the 町字 part agrees in its first 2 characters, and the
sequence of numbers agrees (``1丁目1番1号`` = ``1-1-1`` = ``一丁目一番地一``).

Choices where the rule is silent (a careful checker's reading, documented in the README):

* ヶ/ケ/ヵ/が and の/ノ/之 are spelling variants, folded before comparing; a leading 大字/字
  is dropped from the 町字, and so is の between a one-character 町字 and its number
  (ハの74 = ハ74). The 町字 is also folded for 異体字 (the names' table: 檜/桧, 彌/弥) and
  lookalikes (``address_variants.csv``: 莵/菟, 冝/宜); 巿 (U+5DFF) is 市 everywhere.
* Kyoto's street notation (寺町通御池上る上本能寺前町) is read as the 町字 after the last
  direction word (上る/下る/東入/西入), so it meets the plain 町字 (上本能寺前町).
* 町字 agreement has two strengths: the whole 町字 name (the address proper without its
  numbers) agrees, or only its first 2 characters do (the manual's tolerance, shown as such;
  see ``comparisons.town_comparison``).
* 郡 may be written or omitted (上川郡東川町 = 東川町); names that contain 郡 themselves
  (郡山市, 蒲郡市 …) are found before any 郡 is stripped. Where the 都道府県 is written, the
  市区町村 is looked up in that prefecture first, so 府中市 of 東京都 and of 広島県 differ.
* 政令市: the ward (区) may be omitted on one side (札幌市北一条西 = 札幌市中央区北一条西);
  two different wards of the same city differ.
* Kanji numerals (with 十/百/千, and positional 一〇一) become digits on both sides alike, so a
  town name such as 三田 or 十日町 turns into 3田 / 10日町 on both sides and still compares
  equal. 丁目 (also written 町目)/番地/番/号/の/ノ and every kind of hyphen only separate numbers.
* A 町字 of one character (原123番地) compares that character, not the first digit.
* Building names and room numbers are not compared, since they are often on one side only:
  the number sequence stops at a space, katakana, Latin letters or a bracket after the first
  number, after 号, at a kanji word right after a complete number (``1-1-1高知ビル3階``), or
  at a kanji numeral glued to a number that begins a name (``2-1三田ビル`` is 2-1, while
  ``2番三号`` is 2-3). Katakana ケ/ツ inside a 町字 (三ケ月, 三ツ境) do not stop it. A room
  number written as one more hyphenated number (``1-1-1-201``, 3 digits or more) is a
  building part too (see ``numbers_agree``).
* An address whose 市区町村 is not in the table (an old name, an address abroad) can only be
  一致 when it is written identically on both sides.

Everything runs on the distinct addresses of a file (one parse for both sides) and is joined
back, so the cost follows the number of distinct addresses, not of rows.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

import polars as pl

from pipelines import parallel
from pipelines.matching.itaiji import builtin_itaiji
from pipelines.matching.normalize import with_nfkc

_FOLD_KE = {"ヶ": "ケ", "ヵ": "ケ", "が": "ケ", "ノ": "の", "之": "の", "丿": "の"}
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
# every hyphen-like character seen between address numbers (ー is the long-vowel mark,
# which old systems often used as a dash; it is never a building name's first character)
_DASHES = "-‐‑‒–—―−－ｰー─━"
_DASH_CLASS = "[" + "".join("\\" + c if c == "-" else c for c in _DASHES) + "]"
# what ends the address proper: a space, katakana, Latin letters or a bracket after a number
_BUILDING_START = r"^([^0-9]*[0-9][^\sァ-ヴA-Za-z(（\[［【]*)"
# a complete number followed by something that is not part of an address (高知ビル3階)
_NUMBER_END = (
    r"^([^0-9]*[0-9].*?(?:号|" + _DASH_CLASS + r"[0-9]+|番地?の?[0-9]+|の[0-9]+))"
    r"(?:[^0-9" + _DASHES.replace("-", "\\-") + r"の番号丁目地条線]|$)"
)
# a kanji numeral glued to a number and followed by a name (2-1三田ビル, 1番地八幡荘) starts
# the building part: the numeral is not one more number. Not a name: a numeral, a unit, a
# separator or 町 (十一番町, 三丁目十番 keep their numbers).
_NOT_NAME = "〇零一壱二弐三参四五六七八九十拾百千丁目番地号条線区町の之"
_GLUED_NAME = (
    r"([0-9"
    + _DASHES.replace("-", "\\-")
    + r"の番号地目丁])("
    + _KANJI_NUMERAL
    + r")([\p{Han}&&[^"
    + _NOT_NAME
    + r"]]|番町|号棟|号館|号室)"
)
# Kyoto's street notation before the 町字 (寺町通御池上る上本能寺前町): the 町字 is what follows
# the last direction word, so both ways of writing the address compare alike
# the direction words: 上る/下る (and ル forms), 東入/西入 only after a 通 or a 上る/下る, since
# 東入部 and 西入部 (福岡市早良区) are 町字 of their own
_KYOTO_STREET = (
    r"^(?:[^0-9]*(?:上る|下る|上ル|下ル)(?:東入る?|西入る?|東入ル|西入ル)?"
    r"|[^0-9]*通[^0-9]*?(?:東入る?|西入る?|東入ル|西入ル))"
)
# a space after 丁目 and before the next number is not the start of a building (after 番地 it
# may be: 1番地 301号室)
_SPACED_NUMBER = r"((?:[0-9]|" + _KANJI_NUMERAL + r")丁目)\s+([0-9]|" + _KANJI_NUMERAL + ")"
# what the numbers and their separators are made of (removed to leave the 町字 name)
_NUMBER_PARTS = r"[0-9]+|丁目|番地|番|号|の|" + _DASH_CLASS
# 丁目 as people write it after a number (一町目, 2丁め)
_CHOME = r"([0-9])(?:町目|丁め|丁メ)"
ROOM_MIN_DIGITS = 3
#: parse distinct values and join back only when they repeat this much (a join costs
#: about as much as parsing a third of the rows again)
DEDUPE_BELOW = 0.6


@dataclass(frozen=True)
class Municipalities:
    """The shipped municipality table, as lookup sets (names folded: ヶ→ケ, ノ→の)."""

    prefectures: frozenset[str]
    names: frozenset[str]  # incl. 政令市の区 (札幌市中央区) and 東京23区
    pairs: frozenset[str]  # "都道府県|市区町村"
    city_of_ward: dict[str, str]  # 札幌市中央区 → 札幌市
    longest: int


@cache
def municipalities() -> Municipalities:
    text = resources.files("schemas").joinpath("data/municipalities.csv").read_text(encoding="utf-8")
    prefs: set[str] = set()
    pairs: set[str] = set()
    names: set[str] = set()
    for row in csv.DictReader(text.splitlines()):
        prefs.add(row["prefecture"])
        if row["name"]:
            name = fold_ke(row["name"])
            names.add(name)
            pairs.add(f"{row['prefecture']}|{name}")
    cities = {n for n in names if n.endswith("市")}
    city_of_ward = {}
    for name in names:
        if name.endswith("区"):
            parents = [c for c in cities if name.startswith(c) and c != name]
            if parents:
                city_of_ward[name] = max(parents, key=len)
    return Municipalities(
        prefectures=frozenset(prefs),
        names=frozenset(names),
        pairs=frozenset(pairs),
        city_of_ward=city_of_ward,
        longest=max(len(n) for n in names),
    )


@cache
def address_variants(scope: str) -> dict[str, str]:
    """Lookalike characters written in addresses (``address_variants.csv``).

    ``whole``: for finding the 都道府県 and 市区町村 (巿 → 市, and the 異体字 outside JIS X 0208:
    﨑 → 崎). ``town``: for the 町字 part, which also takes the whole 異体字 table used for names
    (檜 → 桧, 彌 → 弥), since 町字 carry old forms as names do.
    """
    text = resources.files("schemas").joinpath("data/address_variants.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    table = {r["variant"]: r["standard"] for r in rows if r["scope"] == "whole"}
    # variants outside JIS X 0208 (﨑, 髙) never occur in the table's official names: folded
    # everywhere, so 長﨑市 finds 長崎市
    itaiji = resources.files("schemas").joinpath("data/itaiji.csv").read_text(encoding="utf-8")
    for row in csv.DictReader(itaiji.splitlines()):
        if row["kind"] == "outside_jis0208":
            table.setdefault(row["variant"], row["standard"])
    if scope == "town":
        table = builtin_itaiji() | table | {r["variant"]: r["standard"] for r in rows if r["scope"] == "town"}
    return table


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


def numerals_to_digits(column: pl.Expr, runs: pl.Series) -> pl.Expr:
    """Kanji numeral runs → digits; ``runs`` holds the distinct runs (converted once each)."""
    table = {r: str(kanji_to_number(r)) for r in runs.drop_nulls().unique().to_list() if r}
    if not table:
        return column
    # longest first with leftmost matching, so 二十三 is one run, never 二 + 十 + 三
    ordered = dict(sorted(table.items(), key=lambda kv: -len(kv[0])))
    return column.str.replace_many(ordered, leftmost=True)


def numbers_agree(left: str, right: str) -> pl.Expr:
    """The number sequences of two address prefixes agree: equal, or one is the other
    plus a room number (``1-1-1`` and ``1-1-1-201``; see ``_room_dropped``)."""
    a, b = pl.col(f"{left}_numbers"), pl.col(f"{right}_numbers")
    return (a.eq(b) | pl.col(f"{left}_numbers_base").eq(b) | pl.col(f"{right}_numbers_base").eq(a)).fill_null(
        False
    )


def _room_dropped(numbers: pl.Expr) -> pl.Expr:
    """The sequence without a trailing room number, or null when it has none.

    A room is one more number of 3 digits or more after at least 2 numbers: ``1-1-1-201``
    → ``1-1-1``, ``1234-5-101`` → ``1234-5``. ``1-1`` against ``1-1-5`` is not a room
    (that may be a 号), and ``1-2-345`` only agrees with ``1-2`` itself.
    """
    return numbers.str.extract(rf"^([0-9]+-[0-9]+(?:-[0-9]+)*)-[0-9]{{{ROOM_MIN_DIGITS},}}$", 1)


def split_addresses(frame: pl.DataFrame, columns: dict[str, str]) -> pl.DataFrame:
    """For each ``column → prefix``, add the parsed parts of that address column.

    Added per prefix ``p``: ``p_pref`` (都道府県 or null), ``p_muni`` (市区町村 as in the
    table, folded), ``p_city`` (the 政令市 of a ward, else the 市区町村), ``p_muni_text``
    (the text up to the 市区町村), ``p_town_text`` (the rest), ``p_town_key`` (町字 key),
    ``p_numbers`` (``1-1-1``), ``p_numbers_base`` (without a trailing room number, else
    null) and ``p_full`` (the whole address, spaces removed).

    A column whose values repeat (the 住基 side: one address per household) is parsed once
    per distinct value and joined back; a column of mostly distinct values is parsed as it
    is, which spares the join.
    """
    for column, prefix in columns.items():
        values = frame[column]
        distinct_share = frame.select(pl.col(column).approx_n_unique()).item() / max(1, values.len())
        if distinct_share < DEDUPE_BELOW:
            distinct = parse_addresses(values.drop_nulls().unique())
            parsed = frame.select(column).join(
                distinct, left_on=column, right_on="_address", how="left", maintain_order="left"
            )
        else:
            parsed = parse_addresses(values)
        renamed = parsed.select(pl.all().exclude(column, "_address").name.prefix(f"{prefix}_"))
        frame = frame.hstack(renamed)
    return frame


def parse_addresses(addresses: pl.Series) -> pl.DataFrame:
    """One row per address, in the given order: ``_address`` and its parts (see
    ``split_addresses``); a null address has null parts."""
    table = municipalities()
    step = with_nfkc(pl.DataFrame({"_address": addresses}).with_row_index("_row"), "_address", "_t")
    # spaces before the first number are noise (高知県 高知市 本町); after it they start the
    # building part, so they are kept (as one space) until the number sequence is cut
    has_space = pl.col("_t").str.contains(r"\s").fill_null(False)
    spaced = step.filter(has_space)
    spaced = spaced.with_columns(pl.col("_t").str.replace_all(r"\s+", " ").str.strip_chars()).with_columns(
        (
            pl.col("_t").str.extract(r"^([^0-9]*)", 1).str.replace_all(" ", "")
            + pl.col("_t").str.replace(r"^[^0-9]*", "")
        ).alias("_t")
    )
    step = pl.concat([step.filter(~has_space), spaced])
    step = parallel.with_columns(step, pl.col("_t").str.replace_all(" ", "", literal=True).alias("full"))

    # lookalikes (巿, 﨑) are folded for finding the 都道府県 and 市区町村 only: the text itself
    # stays as written, so 一致 still means the same writing
    whole = address_variants("whole")
    folded_full = pl.col("full").str.replace_many(whole)
    head4, head3 = folded_full.str.slice(0, 4), folded_full.str.slice(0, 3)
    prefs = pl.Series(sorted(table.prefectures)).implode()
    step = parallel.with_columns(
        step, pl.when(head4.is_in(prefs)).then(head4).when(head3.is_in(prefs)).then(head3).alias("pref")
    )
    step = parallel.with_columns(
        step, pl.col("_t").str.slice(pl.col("pref").str.len_chars().fill_null(0)).alias("_rest")
    )
    # the 市区町村 is decided by the words before the first number: look each distinct
    # (都道府県, words) up once
    step = parallel.with_columns(
        step,
        pl.concat_str(
            [pl.col("pref").fill_null(""), pl.col("_rest").str.extract(r"^([^0-9]{0,16})", 1)], separator="|"
        ).alias("_head"),
    )
    heads = (
        step.select("_head")
        .unique()
        .with_columns(
            pl.col("_head").str.split_exact("|", 1).struct.rename_fields(["pref", "_words"]).alias("_parts")
        )
        .unnest("_parts")
    )
    heads = _with_municipality(
        heads.with_columns(
            pl.col("pref").replace("", None),
            pl.col("_words").str.replace_many(_FOLD_KE).str.replace_many(whole).alias("_rest_f"),
        ),
        table,
    ).select("_head", "muni", "_muni_len")
    step = _beside(step, heads, "_head")

    muni_len = pl.col("_muni_len").fill_null(0)
    step = parallel.with_columns(
        step,
        pl.col("_rest").str.slice(0, muni_len).alias("muni_text"),
        pl.col("_rest").str.slice(muni_len).alias("_town"),
        pl.col("muni").replace(table.city_of_ward).alias("city"),
    )
    # the same 町字 part recurs under several spellings of 都道府県/市区町村: parse it once
    towns = _town_parts(step.select(pl.col("_town").unique()).to_series().drop_nulls())
    step = _beside(step, towns, "_town").sort("_row")
    return step.select(
        "_address",
        "pref",
        "muni",
        "city",
        "muni_text",
        "town_text",
        "town_key",
        "town_name",
        "numbers",
        "numbers_base",
        "full",
    )


def _beside(frame: pl.DataFrame, parts: pl.DataFrame, key: str) -> pl.DataFrame:
    """``frame`` with the columns of ``parts`` for its ``key`` (joining the key column only)."""
    joined = frame.select(key).join(parts, on=key, how="left", maintain_order="left")
    return frame.hstack(joined.drop(key))


def _town_parts(towns: pl.Series) -> pl.DataFrame:
    """``_town`` (NFKC text after the 市区町村) → ``town_text``, ``town_key``, ``town_name``,
    ``numbers``, ``numbers_base``.

    Before the numbers are read: 異体字 and lookalikes folded, a kanji numeral glued to a
    number and followed by a name cut off as the building part, kanji numerals → digits
    (in the 町字 part only: 市区町村 names keep theirs, 四万十市), 町目 → 丁目, and a
    katakana ノ after a number → の (``1ノ3`` = ``1の3``).
    """
    step = pl.DataFrame({"_town": towns})
    folded = (
        pl.col("_town")
        .str.replace_many(address_variants("town"))
        .str.replace(_KYOTO_STREET, "")
        .str.replace_all(_SPACED_NUMBER, "${1}${2}")
        .str.replace_all(_GLUED_NAME, "${1} ${2}${3}")
    )
    step = parallel.with_columns(step, folded.alias("_folded"))
    runs = step.select(pl.col("_folded").str.extract_all(_KANJI_NUMERAL).explode()).to_series()
    digits_expr = (
        numerals_to_digits(pl.col("_folded"), runs)
        .str.replace_all(_CHOME, "${1}丁目")
        .str.replace_all(r"([0-9])[ノ丿之]", "${1}の")
    )
    step = parallel.with_columns(step, digits_expr.alias("_digits"))
    digits = pl.col("_digits")
    # for reading the numbers only: a katakana ケ/ツ inside a 町字 (三ケ月, 三ツ境) is part of the
    # name, not the start of a building name; 号 ends the number sequence (5番23号1丁目マンション)
    for_numbers = digits.str.replace_all(r"([\p{Han}0-9])[ケヶヵツ](\p{Han})", "${1}箇${2}").str.replace_all(
        r"号([0-9])", "号 ${1}"
    )
    step = parallel.with_columns(
        step, pl.coalesce(for_numbers.str.extract(_BUILDING_START, 1), for_numbers).alias("_core")
    )
    core = pl.coalesce(pl.col("_core").str.extract(_NUMBER_END, 1), pl.col("_core"))
    # the 町字 as compared: spaces out, ヶ/ケ and の/ノ folded, a leading 大字/字 dropped, and
    # の between a one-character 町字 and its number dropped (ハの74 = ハ74)
    name_text = (
        digits.str.replace_all(" ", "", literal=True)
        .str.replace_many(_FOLD_KE)
        .str.replace(r"^大?字", "")
        .str.replace(r"^([^0-9の])の([0-9])", "${1}${2}")
    )
    return parallel.select(
        step,
        "_town",
        pl.col("_town").str.replace_all(" ", "", literal=True).alias("town_text"),
        name_text.str.slice(0, 2).alias("town_key"),
        # the 町字 name whole: the address proper (no building) without its numbers and their
        # separators, so 三田 (3田) and 三原 (3原) stay apart while 本町一丁目 = 本町1-
        core.str.replace_all(" ", "", literal=True)
        .str.replace_many(_FOLD_KE)
        .str.replace(r"^大?字", "")
        .str.replace_all(_NUMBER_PARTS, "")
        .alias("town_name"),
        core.str.replace_all(r"[^0-9]+", "-")
        .str.strip_chars("-")
        .str.replace_all(r"(^|-)0+([0-9])", "${1}${2}")
        .alias("numbers"),
    ).with_columns(_room_dropped(pl.col("numbers")).alias("numbers_base"))


def _with_municipality(step: pl.DataFrame, table: Municipalities) -> pl.DataFrame:
    """``muni`` and ``_muni_len`` (characters of ``_rest`` up to the end of the 市区町村).

    Longest match first, among the prefecture's municipalities when it is written (any
    prefecture otherwise); where nothing matches, a leading ``…郡`` is skipped and the
    lookup repeated (郡 omitted on the other side). ``_rest`` holds no spaces before its
    first number and 市区町村 names hold no numbers, so lengths count the same characters.
    """
    names = pl.Series(sorted(table.names)).implode()
    pairs = pl.Series(sorted(table.pairs)).implode()

    def longest(text: pl.Expr, pref: pl.Expr | None) -> pl.Expr:
        expr = pl.lit(None, dtype=pl.String)
        for n in range(2, table.longest + 1):  # built inside out: the longest hit wins
            candidate = text.str.slice(0, n)
            key = candidate if pref is None else pl.concat_str([pref, candidate], separator="|")
            hit = key.is_in(pairs if pref is not None else names) & (candidate.str.len_chars() == n)
            expr = pl.when(hit).then(candidate).otherwise(expr)
        return expr

    def lookup(text: pl.Expr) -> pl.Expr:
        return pl.coalesce(longest(text, pl.col("pref")), longest(text, None))

    step = step.with_columns(lookup(pl.col("_rest_f")).alias("muni"))
    direct = step.filter(pl.col("muni").is_not_null()).with_columns(
        pl.col("muni").str.len_chars().alias("_muni_len")
    )
    # 郡 written here, maybe omitted on the other side: only for what nothing matched
    county = step.filter(pl.col("muni").is_null()).with_columns(
        pl.col("_rest_f").str.extract(r"^([^0-9]{1,6}?郡)", 1).str.len_chars().alias("_county_len")
    )
    county = county.with_columns(
        lookup(pl.col("_rest_f").str.slice(pl.col("_county_len").fill_null(0))).alias("muni")
    ).with_columns(
        pl.when(pl.col("_county_len").is_not_null() & pl.col("muni").is_not_null())
        .then(pl.col("_county_len") + pl.col("muni").str.len_chars())
        .alias("_muni_len"),
        pl.when(pl.col("_county_len").is_not_null()).then(pl.col("muni")).alias("muni"),
    )
    return pl.concat([direct, county.drop("_county_len")], how="vertical_relaxed")


class TownMasterError(ValueError):
    """The agency's 町字マスター cannot be read as configured (the message says why)."""


#: 町字マスター columns (アドレス・ベース・レジストリ): current English names, then the older
#: Japanese headers of the same file
TOWN_MASTER_COLUMNS = {
    "pref": ("pref", "都道府県名"),
    "county": ("county", "郡名"),
    "city": ("city", "市区町村名"),
    "ward": ("ward", "政令市区名"),
    "oaza_cho": ("oaza_cho", "大字・町名"),
    "koaza": ("koaza", "小字名"),
}


def known_towns(path: str) -> pl.DataFrame:
    """The 町字 an agency's 町字マスター knows: distinct ``city`` and ``town_name`` as the
    address parse reads them (so 一丁目 / 三田 / 大字 fold the same way on every side).

    Each row's 大字・町名 is known, and so is 大字・町名 + 小字名 where a 小字 is given.
    Read once per file version.
    """
    file = Path(path)
    stamp = file.stat().st_mtime_ns if file.exists() else None
    return _known_towns(path, stamp)


@lru_cache(maxsize=4)
def _known_towns(path: str, stamp: int | None) -> pl.DataFrame:
    del stamp  # part of the cache key only
    name = Path(path).name
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except (OSError, pl.exceptions.PolarsError) as e:
        raise TownMasterError(f"町字マスター「{name}」を読めません: {e}") from None
    raw = raw.rename({c: c.lstrip("\ufeff") for c in raw.columns})
    picked, missing = {}, []
    for key, names in TOWN_MASTER_COLUMNS.items():
        found = next((c for c in names if c in raw.columns), None)
        if found is None:
            missing.append(" または ".join(names))
        else:
            picked[key] = pl.col(found).fill_null("")
    if missing:
        raise TownMasterError(f"町字マスター「{name}」に列がありません: {'、'.join(missing)}")
    parts = raw.select(**picked).filter(pl.col("oaza_cho") != "")
    head = pl.concat_str([pl.col("pref"), pl.col("county"), pl.col("city"), pl.col("ward")])
    # a number after the name ends the 町字 as the parse reads it
    addresses = pl.concat(
        [
            parts.select((head + pl.col("oaza_cho") + pl.lit("1")).alias("a")),
            parts.filter(pl.col("koaza") != "").select(
                (head + pl.col("oaza_cho") + pl.col("koaza") + pl.lit("1")).alias("a")
            ),
        ]
    )["a"].unique()
    parsed = parse_addresses(addresses)
    return (
        parsed.filter(pl.col("city").is_not_null() & (pl.col("town_name") != ""))
        .select("city", "town_name")
        .unique()
    )
