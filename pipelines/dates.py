"""Dates in every form the contract accepts, parsed as polars expressions (no per-row Python).

Accepted (after NFKC, so full-width digits work): 西暦 ``YYYYMMDD``, ``YYYY-MM-DD``,
``YYYY/MM/DD`` (also ``.``); 和暦 text ``昭和45年12月4日`` / ``平成元年1月8日``; letter forms
``S45.12.04``, ``H1.1.8``, ``R6.4.1``; and the 7-digit era code ``GYYMMDD`` with
1 明治, 2 大正, 3 昭和, 4 平成, 5 令和.

和暦 is strict at era boundaries (JIS X 0301): 昭和64年1月8日 and 平成31年5月1日 do not
exist and are reported as impossible dates, never converted by offset and never silently
null. 明治 starts on 1868-01-25 as JIS X 0301 says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from pipelines import parallel


@dataclass(frozen=True)
class Era:
    code: str  # the digit of the 7-digit form
    kanji: str
    letter: str
    offset: int  # Gregorian year = offset + era year
    first_day: date
    last_day: date


ERAS = (
    Era("1", "明治", "M", 1867, date(1868, 1, 25), date(1912, 7, 29)),
    Era("2", "大正", "T", 1911, date(1912, 7, 30), date(1926, 12, 24)),
    Era("3", "昭和", "S", 1925, date(1926, 12, 25), date(1989, 1, 7)),
    Era("4", "平成", "H", 1988, date(1989, 1, 8), date(2019, 4, 30)),
    Era("5", "令和", "R", 2018, date(2019, 5, 1), date(9999, 12, 31)),
)
EARLIEST = ERAS[0].first_day

_ERA_KEYS = {e.code: e.code for e in ERAS} | {e.kanji: e.code for e in ERAS}
_ERA_KEYS |= {e.letter: e.code for e in ERAS} | {e.letter.lower(): e.code for e in ERAS}

_SEIREKI_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"
_SEIREKI_SEP = r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"
_ERA_CODE = r"^([1-5])(\d{2})(\d{2})(\d{2})$"
_ERA_KANJI = r"^(明治|大正|昭和|平成|令和)\s*(元|\d{1,2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日$"
_ERA_LETTER = r"^([MTSHRmtshr])\s*(元|\d{1,2})[./\-](\d{1,2})[./\-](\d{1,2})$"


def _era_lookup(era_key: pl.Expr, attr: str, dtype: pl.DataType) -> pl.Expr:
    mapping = {k: getattr(next(e for e in ERAS if e.code == v), attr) for k, v in _ERA_KEYS.items()}
    return era_key.replace_strict(mapping, default=None, return_dtype=dtype)


def _to_int(e: pl.Expr) -> pl.Expr:
    return pl.when(e == "元").then(pl.lit("1")).otherwise(e).cast(pl.Int32, strict=False)


def _field(name: str) -> pl.Expr:
    return pl.col("_parts").struct.field(name)


def parse_dates(frame: pl.DataFrame, column: str, *, today: date, prefix: str) -> pl.DataFrame:
    """Add ``{prefix}_date`` (pl.Date) and ``{prefix}_problem`` (error code or null).

    Blank input gives a null date and no problem; the caller decides whether blank is allowed.
    A million birth dates hold a few tens of thousands of distinct strings, so the distinct
    values are parsed and joined back.
    """
    distinct = frame.select(pl.col(column).unique())
    parsed = _parse_distinct(distinct, column, today=today, prefix=prefix)
    return frame.join(parsed, on=column, how="left", nulls_equal=True, maintain_order="left")


def _parse_distinct(frame: pl.DataFrame, column: str, *, today: date, prefix: str) -> pl.DataFrame:
    patterns = {
        "c": _SEIREKI_COMPACT,
        "p": _SEIREKI_SEP,
        "g": _ERA_CODE,
        "k": _ERA_KANJI,
        "l": _ERA_LETTER,
    }
    text = pl.col("_text")
    # every step is row-wise: one query, run on every core (210k distinct texts: 0.24 → 0.19 s)
    step1 = (
        frame.lazy()
        .with_columns(pl.col(column).str.normalize("NFKC").str.strip_chars().alias("_text"))
        .with_columns(
            pl.struct(
                [
                    text.str.extract(pat, i).alias(f"{key}{i}")
                    for key, pat in patterns.items()
                    for i in range(1, (3 if key in "cp" else 4) + 1)
                ]
            ).alias("_parts")
        )
    )
    era = pl.coalesce(_field("g1"), _field("k1"), _field("l1"))
    era_year = _to_int(pl.coalesce(_field("g2"), _field("k2"), _field("l2")))
    step2 = step1.with_columns(
        era.alias("_era"),
        era_year.alias("_era_year"),
        _to_int(pl.coalesce(_field("c1"), _field("p1"))).alias("_west_year"),
        _to_int(pl.coalesce(_field("c2"), _field("p2"), _field("g3"), _field("k3"), _field("l3"))).alias(
            "_m"
        ),
        _to_int(pl.coalesce(_field("c3"), _field("p3"), _field("g4"), _field("k4"), _field("l4"))).alias(
            "_d"
        ),
    ).with_columns(
        pl.coalesce(
            _era_lookup(pl.col("_era"), "offset", pl.Int32()) + pl.col("_era_year"),
            pl.col("_west_year"),
        ).alias("_y")
    )
    step3 = step2.with_columns(
        pl.format(
            "{}-{}-{}",
            pl.col("_y").cast(pl.String).str.zfill(4),
            pl.col("_m").cast(pl.String).str.zfill(2),
            pl.col("_d").cast(pl.String).str.zfill(2),
        )
        .str.to_date("%Y-%m-%d", strict=False)
        .alias("_value")
    )
    value = pl.col("_value")
    is_era = pl.col("_era").is_not_null()
    in_era = (
        (pl.col("_era_year") >= 1)
        & (value >= _era_lookup(pl.col("_era"), "first_day", pl.Date()))
        & (value <= _era_lookup(pl.col("_era"), "last_day", pl.Date()))
    ).fill_null(False)
    recognised = pl.all_horizontal(pl.col("_y", "_m", "_d").is_not_null())
    blank = text.is_null() | (text.str.len_chars() == 0)
    problem = (
        pl.when(blank)
        .then(pl.lit(None, dtype=pl.String))
        .when(~recognised)
        .then(pl.lit("DATE_FORMAT"))
        .when(value.is_null() | (is_era & ~in_era))
        .then(pl.lit("DATE_IMPOSSIBLE"))
        .when(value < pl.lit(EARLIEST))
        .then(pl.lit("DATE_TOO_OLD"))
        .when(value > pl.lit(today))
        .then(pl.lit("DATE_FUTURE"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    out = step3.with_columns(problem.alias(f"{prefix}_problem")).with_columns(
        pl.when(pl.col(f"{prefix}_problem").is_null()).then(value).alias(f"{prefix}_date")
    )
    done = out.drop("_text", "_parts", "_era", "_era_year", "_west_year", "_m", "_d", "_y", "_value")
    return parallel.collect(done, frame.height)


def parse_compact_dates(frame: pl.DataFrame, column: str, *, prefix: str) -> pl.DataFrame:
    """The ``YYYYMMDD`` form only (住基ネット results). Adds ``{prefix}_date``/``_problem``."""
    text = pl.col(column).str.strip_chars()
    value = text.str.to_date("%Y%m%d", strict=False)
    blank = text.is_null() | (text.str.len_chars() == 0)
    bad = ~text.str.contains(r"^\d{8}$") | value.is_null()
    out = frame.with_columns(
        pl.when(blank)
        .then(pl.lit(None, dtype=pl.String))
        .when(bad)
        .then(pl.lit("RESULT_DATE"))
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias(f"{prefix}_problem")
    )
    return out.with_columns(
        pl.when(pl.col(f"{prefix}_problem").is_null()).then(value).alias(f"{prefix}_date")
    )


def to_wareki(d: date) -> str:
    """``date(1970, 12, 4)`` -> ``昭和45年12月4日`` (for the synthetic extracts and for messages)."""
    for era in reversed(ERAS):
        if d >= era.first_day:
            y = d.year - era.offset
            return f"{era.kanji}{'元' if y == 1 else y}年{d.month}月{d.day}日"
    raise ValueError(f"before 明治: {d}")
