"""The JIS X 0208:1990 repertoire, built once from Python's codecs (no data file needed).

Files toward 住基ネット are Shift-JIS restricted to JIS X 0208:1990 plus ASCII. ``cp932``
is a superset (NEC/IBM extensions such as 髙 and ①, the user-defined area); ``shift_jis``
is exactly JIS X 0201 + JIS X 0208 (domain-facts §1.1). A character counts as in the
repertoire when it is ASCII, or when its EUC-JP form is two bytes A1–FE.
"""

from __future__ import annotations

import re
from functools import cache

import polars as pl

from schemas.codes import GETA


@cache
def jis0208_chars() -> frozenset[str]:
    chars = set()
    for hi in range(0xA1, 0xFF):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes((hi, lo)).decode("euc_jp"))
            except UnicodeDecodeError:
                continue
    return frozenset(c for c in chars if len(c) == 1)


def _ranges(codepoints: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for cp in sorted(codepoints):
        if out and cp == out[-1][1] + 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


def _class(ranges: list[tuple[int, int]]) -> str:
    parts = []
    for lo, hi in ranges:
        a = re.escape(chr(lo)) if lo > 0x7F else f"\\x{{{lo:X}}}"
        b = re.escape(chr(hi)) if hi > 0x7F else f"\\x{{{hi:X}}}"
        parts.append(a if lo == hi else f"{a}-{b}")
    return "".join(parts)


@cache
def outside_jis0208_pattern() -> str:
    """A polars regex matching one character outside ASCII-printable ∪ JIS X 0208."""
    cps = [ord(c) for c in jis0208_chars()] + list(range(0x20, 0x7F))
    return f"[^{_class(_ranges(cps))}]"


def in_jis0208_expr(column: pl.Expr) -> pl.Expr:
    return ~column.str.contains(outside_jis0208_pattern())


def replace_outside_jis0208(column: pl.Expr) -> pl.Expr:
    """Every character 住基ネット would hold as 外字 becomes 〓 (for comparison only)."""
    return column.str.replace_all(outside_jis0208_pattern(), GETA)


def is_jis0208_text(text: str) -> bool:
    allowed = jis0208_chars()
    return all((" " <= c <= "~") or c in allowed for c in text)
