"""Comparison forms of 漢字氏名 and カナ氏名, as polars expressions built from tables made once.

These forms are for comparison only. They never reach an output file (NFKC would, for
example, turn the full-width hyphen into ASCII).

漢字氏名 (manual footnote, contract "Tolerances"):
  spaces (half/full width) and underscores are ignored; 異体字 are folded with a curated table
  (``pipelines.matching.itaiji``, plus an agency's MJ縮退マップ if configured) that keeps
  distinct names apart (斎 ≠ 斉); characters outside JIS X 0208 become 〓, the 外字 placeholder
  住基ネット uses, and 〓 positions on either side are excluded from the comparison.

カナ氏名: width (NFKC), hiragana → katakana, spaces and middle dots ignored; 清音処理
  (voiced and semi-voiced marks dropped: ヤマザキ = ヤマサキ); small kana written large
  (キヨウコ = キョウコ) is a spelling variant when ``small_kana_is_variant`` (the default).

Every form is computed once per distinct value of a file (``name_forms``, ``kana_forms``)
and joined back: a file of a million people holds far fewer distinct names.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from functools import cache

import polars as pl

from pipelines.files.jis import replace_outside_jis0208
from schemas.codes import GETA

#: where 姓 ends and 名 begins in the comparison forms (never a character of a name)
PART_MARK = "|"
_SEPARATORS = r"[\s\u3000_＿]+"
# variation selectors (IVS/SVS): the same character with a glyph hint; NFKC keeps them
_SELECTORS = r"[\x{FE00}-\x{FE0F}\x{E0100}-\x{E01EF}]"

_VOICED = "ガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポヴヷヸヹヺ"
_PLAIN = "カキクケコサシスセソタチツテトハヒフヘホハヒフヘホウワヰヱヲ"
_SMALL = "ァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ"
_LARGE = "アイウエオツヤユヨワカケクシストヌハヒフヘホムラリルレロ"
_KANA_DROP = "・･=＝\u3099\u309a\u309b\u309c"
_KANA_DASHES = "－-‐―−ｰ—–"


def kana_table(*, voiced: bool, small: bool) -> dict[str, str]:
    """One-character replacements applied after NFKC: the comparison form of カナ.

    Always: hiragana → katakana, middle dots and sound marks dropped, dash-like characters
    → ー. ``voiced``: 清音処理, voiced and semi-voiced kana → plain. ``small``: small → large.
    Spaces are kept here; the callers turn them into the 姓/名 boundary.
    """
    table: dict[str, str] = {}
    for code in range(0x3041, 0x3097):  # hiragana → katakana
        table[chr(code)] = chr(code + 0x60)
    for ch in _KANA_DROP:
        table[ch] = ""
    for ch in _KANA_DASHES:
        table[ch] = "ー"
    second: dict[str, str] = {}
    if voiced:
        second.update(zip(_VOICED, _PLAIN, strict=True))
    if small:
        second.update(zip(_SMALL, _LARGE, strict=True))
    # compose the two steps so one pass does both (が → ガ → カ)
    out = {k: second.get(v, v) for k, v in table.items()}
    for k, v in second.items():
        out.setdefault(k, v)
    return out


@cache
def nfkc_sensitive_pattern() -> str:
    """A regex class of every character NFKC may change: those with a compatibility or
    canonical mapping (full-width Ａ１, half-width ｶ, ㈱, 神 U+FA19, ① …) and combining marks
    (ｶ + ﾞ composes). A string without any of them is its own NFKC form."""
    planes = ((0x0, 0xD7FF), (0xE000, 0x1FFFF), (0x2F800, 0x2FA1F), (0xE0100, 0xE01EF))
    points = [
        c
        for low, high in planes
        for c in range(low, high + 1)
        if unicodedata.normalize("NFKC", chr(c)) != chr(c)
        or unicodedata.combining(chr(c))
        or unicodedata.category(chr(c)).startswith("M")
    ]
    spans: list[list[int]] = []
    for c in points:
        if spans and c == spans[-1][1] + 1:
            spans[-1][1] = c
        else:
            spans.append([c, c])
    return "[" + "".join(rf"\x{{{a:X}}}" if a == b else rf"\x{{{a:X}}}-\x{{{b:X}}}" for a, b in spans) + "]"


def with_nfkc(frame: pl.DataFrame, column: str, out: str) -> pl.DataFrame:
    """``out`` = NFKC of ``column``, normalising only the values NFKC would change.

    Most names and addresses are already in NFKC form; skipping them halves the cost. The
    row order changes (callers join the result back by value).
    """
    needs = pl.col(column).str.contains(nfkc_sensitive_pattern()).fill_null(False)
    changed = frame.filter(needs).with_columns(pl.col(column).str.normalize("NFKC").alias(out))
    kept = frame.filter(~needs).with_columns(pl.col(column).alias(out))
    return pl.concat([kept, changed])


def _parts(column: pl.Expr) -> pl.Expr:
    """Spaces/underscores → one 姓/名 mark, none at either end."""
    return column.str.replace_all(_SEPARATORS, PART_MARK).str.strip_chars(PART_MARK)


def name_forms(values: pl.Series, itaiji: Mapping[str, str]) -> pl.DataFrame:
    """Distinct 漢字氏名 → ``exact`` (as written, trimmed) and ``parts`` (folded, 姓|名).

    ``parts`` is the comparison form with the 姓/名 boundary kept as ``|`` where the name
    had a space: selectors out, NFKC, 異体字 folded, characters outside JIS X 0208 → 〓.
    """
    frame = with_nfkc(pl.DataFrame({"_value": values}).unique().drop_nulls(), "_value", "_nfkc")
    folded = pl.col("_nfkc").str.replace_all(_SELECTORS, "")
    if itaiji:
        folded = folded.str.replace_many(dict(itaiji))
    return frame.select(
        "_value",
        pl.col("_value").str.strip_chars(" \u3000").alias("exact"),
        replace_outside_jis0208(_parts(folded)).alias("parts"),
    )


def kana_forms(values: pl.Series, width: Mapping[str, str], folded: Mapping[str, str]) -> pl.DataFrame:
    """Distinct カナ氏名 → ``width`` (width/hiragana/space differences out) and ``parts``
    (also 清音 and, by setting, small kana; 姓|名 kept as for names)."""
    frame = with_nfkc(pl.DataFrame({"_value": values}).unique().drop_nulls(), "_value", "_nfkc")
    nfkc = pl.col("_nfkc")
    return frame.select(
        "_value",
        _parts(nfkc.str.replace_many(dict(width)))
        .str.replace_all(PART_MARK, "", literal=True)
        .alias("width"),
        _parts(nfkc.str.replace_many(dict(folded))).alias("parts"),
    )


def join_forms(frame: pl.DataFrame, forms: pl.DataFrame, column: str, prefix: str) -> pl.DataFrame:
    """Join the forms of ``column`` back, each form named ``{prefix}_{form}``."""
    renamed = forms.rename({c: f"{prefix}_{c}" for c in forms.columns if c != "_value"})
    # join the one column and put the forms beside the frame: cheaper than joining it whole
    joined = frame.select(column).join(
        renamed, left_on=column, right_on="_value", how="left", maintain_order="left"
    )
    return frame.hstack(joined.drop(column))


def whole(parts: pl.Expr) -> pl.Expr:
    """The comparison form without the 姓/名 boundary."""
    return parts.str.replace_all(PART_MARK, "", literal=True)


def wildcard_equal(left: str, right: str) -> bool:
    """Positional comparison with 〓 on either side as a wildcard (the scalar definition)."""
    if len(left) != len(right):
        return False
    fixed = [(a, b) for a, b in zip(left, right, strict=True) if GETA not in (a, b)]
    return 2 * len(fixed) >= len(left) and all(a == b for a, b in fixed)


def wildcard_equal_frame(frame: pl.DataFrame, left: str, right: str, out: str) -> pl.DataFrame:
    """Vectorised ``wildcard_equal`` over two string columns (rows with 〓 only are exploded).

    At least half of the characters must be real (not 〓) on both sides, so a name made of
    外字 alone never matches by wildcard.
    """
    l_, r_ = pl.col(left), pl.col(right)
    candidate = (
        l_.is_not_null()
        & r_.is_not_null()
        & (l_.str.contains(GETA, literal=True) | r_.str.contains(GETA, literal=True))
        & (l_.str.len_chars() == r_.str.len_chars())
    )
    indexed = frame.with_row_index("_wid")
    cand = indexed.filter(candidate).select("_wid", left, right)
    if cand.height == 0:
        return frame.with_columns(pl.lit(False).alias(out))
    chars = cand.select(
        "_wid",
        l_.str.split("").alias("_l"),
        r_.str.split("").alias("_r"),
    ).explode(["_l", "_r"])
    verdict = chars.group_by("_wid").agg(
        (
            ((pl.col("_l") == pl.col("_r")) | (pl.col("_l") == GETA) | (pl.col("_r") == GETA)).all()
            & (2 * ((pl.col("_l") != GETA) & (pl.col("_r") != GETA)).sum() >= pl.len())
        ).alias(out)
    )
    return (
        indexed.join(verdict, on="_wid", how="left", maintain_order="left")
        .with_columns(pl.col(out).fill_null(False))
        .drop("_wid")
    )
