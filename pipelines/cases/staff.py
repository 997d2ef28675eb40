"""Staff in a returned workbook: who decided, who checked, and what they may type.

The two-person rule (横断的ガイドライン: two people check each registration) compares 担当者
and 確認者 as people, not as strings: a zero-width space, another letter case, full- or
half-width letters and kana, hiragana for katakana, or an 異体字 (高橋 / 髙橋) do not make a
second person. Names are compared after NFKC, case folding, removing every space, control
and format character (Unicode Z, Cc, Cf) and variation selector, hiragana → katakana, and
the same 異体字 folding as 漢字氏名 in 照合 (the built-in table of
``pipelines.matching.itaiji``; an agency's own MJ縮退マップ is for residents' names and is not
applied to staff). A name holding a control or format character is refused outright: it
can only have been put there to make two names look different.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from pipelines.matching.itaiji import builtin_itaiji

#: control and format characters (zero-width spaces and joiners, direction marks, BOM …)
INVISIBLE = r"[\p{Cc}\p{Cf}]"
_DROPPED = r"[\p{Cc}\p{Cf}\p{Z}\s\x{FE00}-\x{FE0F}\x{E0100}-\x{E01EF}]"


@cache
def _hiragana_to_katakana() -> dict[str, str]:
    return {chr(code): chr(code + 0x60) for code in range(0x3041, 0x3097)}


def person_key(name: pl.Expr) -> pl.Expr:
    """The form in which two written names are the same person (see the module docstring)."""
    folded = (
        name.str.normalize("NFKC")
        .str.replace_all(_DROPPED, "")
        .str.to_lowercase()
        .str.replace_many(_hiragana_to_katakana())
    )
    itaiji = builtin_itaiji()
    return folded.str.replace_many(itaiji) if itaiji else folded


def holds_invisible(name: pl.Expr) -> pl.Expr:
    """Whether a name holds a control or format character (refused in 担当者 / 確認者)."""
    return name.str.contains(INVISIBLE)
