"""Every date form of the contract, era boundaries (JIS X 0301) and impossible dates."""

from datetime import date

import polars as pl
import pytest

from pipelines import parallel
from pipelines.dates import parse_compact_dates, parse_dates, to_wareki

TODAY = date(2026, 11, 23)

CASES = [
    # text, expected date or None, expected problem or None
    ("19701204", date(1970, 12, 4), None),
    ("1970-12-04", date(1970, 12, 4), None),
    ("1970/12/4", date(1970, 12, 4), None),
    ("昭和45年12月4日", date(1970, 12, 4), None),
    ("昭和４５年１２月４日", date(1970, 12, 4), None),  # full-width digits
    ("平成元年1月8日", date(1989, 1, 8), None),
    ("S45.12.04", date(1970, 12, 4), None),
    ("H1.1.8", date(1989, 1, 8), None),
    ("h01.01.08", date(1989, 1, 8), None),
    ("R6.4.1", date(2024, 4, 1), None),
    ("令和元年5月1日", date(2019, 5, 1), None),
    ("3451204", date(1970, 12, 4), None),
    ("3640107", date(1989, 1, 7), None),  # last day of 昭和
    ("明治元年1月25日", date(1868, 1, 25), None),
    ("大正15年12月24日", date(1926, 12, 24), None),
    # impossible: outside the era, or not on the calendar
    ("昭和64年1月8日", None, "DATE_IMPOSSIBLE"),
    ("3640108", None, "DATE_IMPOSSIBLE"),
    ("4010107", None, "DATE_IMPOSSIBLE"),  # 平成 began on 1/8
    ("平成31年5月1日", None, "DATE_IMPOSSIBLE"),
    ("5010430", None, "DATE_IMPOSSIBLE"),
    ("2151225", None, "DATE_IMPOSSIBLE"),  # 大正15年12月25日 is 昭和
    ("明治元年1月24日", None, "DATE_IMPOSSIBLE"),
    ("3000101", None, "DATE_IMPOSSIBLE"),  # 元年 is 01, never 00
    ("19890230", None, "DATE_IMPOSSIBLE"),
    ("2月30日", None, "DATE_FORMAT"),
    ("平成2年2月30日", None, "DATE_IMPOSSIBLE"),
    # other problems
    ("20301231", None, "DATE_FUTURE"),
    ("18500101", None, "DATE_TOO_OLD"),
    ("abc", None, "DATE_FORMAT"),
    ("6451204", None, "DATE_FORMAT"),  # era code 6 does not exist
    ("", None, None),
    (None, None, None),
]


@pytest.mark.parametrize(("text", "expected", "problem"), CASES)
def test_parse_dates(text, expected, problem) -> None:
    out = parse_dates(pl.DataFrame({"d": [text]}, schema={"d": pl.String}), "d", today=TODAY, prefix="b")
    assert out["b_date"][0] == expected
    assert out["b_problem"][0] == problem


def test_parse_dates_keeps_row_order_and_count() -> None:
    texts = [c[0] for c in CASES] * 3
    out = parse_dates(pl.DataFrame({"d": texts}, schema={"d": pl.String}), "d", today=TODAY, prefix="b")
    assert out["d"].to_list() == texts
    assert out["b_date"].to_list() == [c[1] for c in CASES] * 3


@pytest.mark.parametrize(
    ("text", "problem"),
    [("20240101", None), ("2024-01-01", "RESULT_DATE"), ("20240230", "RESULT_DATE"), (None, None)],
)
def test_compact_dates_only(text, problem) -> None:
    out = parse_compact_dates(pl.DataFrame({"d": [text]}, schema={"d": pl.String}), "d", prefix="r")
    assert out["r_problem"][0] == problem


@pytest.mark.parametrize(
    ("d", "text"),
    [
        (date(1970, 12, 4), "昭和45年12月4日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(2019, 5, 1), "令和元年5月1日"),
    ],
)
def test_to_wareki_round_trips(d: date, text: str) -> None:
    assert to_wareki(d) == text
    out = parse_dates(pl.DataFrame({"d": [text]}), "d", today=TODAY, prefix="b")
    assert out["b_date"][0] == d


@pytest.mark.parametrize("min_rows", [0, 10**12], ids=["every core", "in memory"])
def test_parse_dates_on_every_core_gives_every_case(min_rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parse runs as one query on polars' streaming engine from ``parallel.MIN_ROWS``
    distinct texts on: it gives each case exactly what the in-memory engine does."""
    monkeypatch.setattr(parallel, "MIN_ROWS", min_rows)
    texts = [c[0] for c in CASES] * 3
    out = parse_dates(pl.DataFrame({"d": texts}, schema={"d": pl.String}), "d", today=TODAY, prefix="b")
    assert out["b_date"].to_list() == [c[1] for c in CASES] * 3
    assert out["b_problem"].to_list() == [c[2] for c in CASES] * 3
