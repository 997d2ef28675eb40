"""Comparison forms of 漢字氏名 and カナ氏名, as polars expressions built from tables made once.

These forms are for comparison only. They never reach an output file (NFKC would, for
example, turn the full-width hyphen into ASCII).

漢字氏名 (manual footnote, contract "Tolerances"):
  spaces (half/full width) and underscores are ignored; 異体字 are folded with a curated table
  (``schemas/data/itaiji.csv``, plus an agency's MJ縮退マップ if configured) that keeps
  distinct names apart (斎 ≠ 斉); characters outside JIS X 0208 become 〓, the 外字 placeholder
  住基ネット uses, and 〓 positions on either side are excluded from the comparison.

カナ氏名: width (NFKC), hiragana → katakana, spaces and middle dots ignored; 清音処理
  (voiced and semi-voiced marks dropped: ヤマザキ = ヤマサキ); small kana written large
  (キヨウコ = キョウコ) is a spelling variant when ``small_kana_is_variant`` (the default).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path

import polars as pl

from pipelines.jis import replace_outside_jis0208
from schemas.codes import GETA

_SPACES_AND_UNDERSCORES = r"[\s\u3000_＿]"
# variation selectors (IVS/SVS): the same character with a glyph hint; NFKC keeps them
_SELECTORS = r"[\x{FE00}-\x{FE0F}\x{E0100}-\x{E01EF}]"

_VOICED = "ガギグゲゴザジズゼゾダヂヅデドバビブベボパピプペポヴヷヸヹヺ"
_PLAIN = "カキクケコサシスセソタチツテトハヒフヘホハヒフヘホウワヰヱヲ"
_SMALL = "ァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ"
_LARGE = "アイウエオツヤユヨワカケクシストヌハヒフヘホムラリルレロ"
_KANA_DROP = " \u3000・･=＝\u3099\u309a\u309b\u309c"
_KANA_DASHES = "－-‐―−ｰ—–"


@cache
def builtin_itaiji() -> dict[str, str]:
    text = resources.files("schemas").joinpath("data/itaiji.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return {r["variant"]: r["standard"] for r in rows}


def load_itaiji(extra_file: str | None) -> dict[str, str]:
    """The built-in table, extended by an agency's file (CSV ``元の文字,縮退後の文字``).

    Only one-character to one-character rows are taken: a mapping to several characters, or
    an empty one (MJ縮退マップ's "no substitute"), would make different names equal.
    """
    table = dict(builtin_itaiji())
    if extra_file:
        with Path(extra_file).open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                if len(row) >= 2 and len(row[0]) == 1 and len(row[1]) == 1 and row[0] != row[1]:
                    table[row[0]] = row[1]
    # follow chains (A→B, B→C) so folding is one pass
    for k in list(table):
        seen = {k}
        v = table[k]
        while v in table and v not in seen:
            seen.add(v)
            v = table[v]
        table[k] = v
    return table


def kana_table(*, voiced: bool, small: bool) -> dict[str, str]:
    """One-character replacements applied after NFKC: the comparison form of カナ.

    Always: hiragana → katakana, spaces and middle dots dropped, dash-like characters → ー.
    ``voiced``: 清音処理, voiced and semi-voiced kana → plain. ``small``: small kana → large.
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


def kana_form(column: pl.Expr, table: Mapping[str, str]) -> pl.Expr:
    return column.str.normalize("NFKC").str.replace_many(dict(table))


def name_exact_form(column: pl.Expr) -> pl.Expr:
    """What counts as 一致 for 漢字氏名: identical apart from surrounding spaces."""
    return column.str.strip_chars(" \u3000")


def name_folded_form(column: pl.Expr, itaiji: Mapping[str, str]) -> pl.Expr:
    """Spaces/underscores out, selectors out, NFKC, 異体字 folded, non-JIS X 0208 → 〓."""
    folded = (
        column.str.replace_all(_SELECTORS, "")
        .str.normalize("NFKC")
        .str.replace_all(_SPACES_AND_UNDERSCORES, "")
    )
    if itaiji:
        folded = folded.str.replace_many(dict(itaiji))
    return replace_outside_jis0208(folded)


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
