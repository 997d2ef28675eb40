"""Values longer than an Excel cell holds (issue 11, class 8) are refused where they come in.

F5 puts every text of a case in an Excel cell, which holds 32,767 UTF-16 units; a longer
value would be cut there. Every F1 and F3 column is checked, counted as Excel counts (a
character outside the BMP, 𠮷, counts twice); a value at the limit passes.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipelines.checkdigit import with_my_number_check_digit as with_cd
from pipelines.errors import TenkenInputError
from pipelines.files.xlsx import MAX_CELL_TEXT, as_written, utf16_units
from pipelines.stages.extract import extract
from pipelines.stages.inquiry_request import assign_inquiry_numbers, build_requests
from pipelines.stages.inquiry_result import read_results
from schemas.config import parse_settings

F1_HEADER = "宛名番号,個人番号,氏名,氏名カナ,生年月日,性別,住所,住登区分,取得経路"
F3_HEADER = "照会番号,個人番号,処理結果,氏名,氏名カナ,生年月日,性別,住所,異動事由,異動年月日"
N1, N2 = with_cd("12345678901"), with_cd("98765432109")
F1_CELLS = {
    "宛名番号": "A002",
    "個人番号": N2,
    "氏名": "山田　花子",
    "氏名カナ": "ヤマダ　ハナコ",
    "生年月日": "19720303",
    "性別": "2",
    "住所": "高知県高知市本町1-1-1",
    "住登区分": "住登者",
    "取得経路": "本人申告",
}
LIMIT = MAX_CELL_TEXT
WIDE = "𠮷"  # outside the BMP: 2 UTF-16 units in Excel


def f1(tmp_path: Path, encoding: str = "utf-8", **change: str) -> Path:
    first = f"A001,{N1},山田　太郎,ヤマダ　タロウ,19701204,1,高知県高知市本町一丁目1番1号,住登者,本人申告"
    path = tmp_path / "f1.csv"
    path.write_bytes(
        ("\r\n".join([F1_HEADER, first, ",".join((F1_CELLS | change).values())]) + "\r\n").encode(encoding)
    )
    return path


def run(path: Path, **settings: object):
    s = parse_settings(settings or None)
    return extract(path, settings=s, jimu=s.jimu["kaigo_hoken"], round_id="2026", today=date(2026, 11, 23))


@pytest.mark.parametrize(
    ("column", "value", "also"),
    [
        ("住所", "高" * (LIMIT + 1), set()),
        ("住所", "本" * 40_000, set()),
        ("氏名", WIDE * (LIMIT // 2 + 1), set()),  # 16,384 characters, 32,768 units
        ("氏名", "山" * LIMIT + "田", set()),
        ("氏名カナ", "ア" * (LIMIT + 1), set()),
        ("宛名番号", "A" * (LIMIT + 1), {"ATENA_FORMAT"}),
        ("生年月日", "1" * (LIMIT + 1), {"DATE_FORMAT"}),
        ("性別", "男" * (LIMIT + 1), {"SEX_CODE"}),
        ("住登区分", "住" * (LIMIT + 1), {"RESIDENT_CLASS_CODE"}),
        ("取得経路", "不" * (LIMIT + 1), {"ROUTE_CODE"}),
        ("個人番号", "1" * (LIMIT + 1), {"MYNUMBER_LENGTH"}),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 10 else None,
)
def test_f1_values_beyond_a_cell_are_refused_naming_the_limit(
    tmp_path: Path, column: str, value: str, also: set[str]
) -> None:
    with pytest.raises(TenkenInputError) as e:
        run(f1(tmp_path, **{column: value}))
    too_long = [p for p in e.value.problems if p.code == "FIELD_TOO_LONG"]
    assert [(p.line, p.column) for p in too_long] == [(3, column)]
    assert "32,767" in too_long[0].render()
    assert e.value.codes == {"FIELD_TOO_LONG", *also}
    # the message quotes no 30,000-character value
    assert all(len(p.render()) < 400 for p in e.value.problems)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("住所", "高" * LIMIT),  # exactly at the limit
        ("氏名", WIDE * (LIMIT // 2)),  # 16,383 characters, 32,766 units
        ("氏名", WIDE * (LIMIT // 2 - 1) + "山田"),  # 32,766 + … = 32,767 units
        ("住所", "高知県高知市本町1-1-1"),
    ],
    ids=["at-limit", "wide-below", "wide-at-limit", "ordinary"],
)
def test_f1_values_within_a_cell_pass(tmp_path: Path, column: str, value: str) -> None:
    out = run(f1(tmp_path, **{column: value}))
    assert out.stats.needs_fix == 0 and out.stats.in_scope == 2


def test_quarantine_makes_a_too_long_row_a_case_to_fix(tmp_path: Path) -> None:
    out = run(f1(tmp_path, 住所="高" * (LIMIT + 1)), input={"on_row_error": "quarantine"})
    row = out.records.filter(pl.col("line") == 3).row(0, named=True)
    assert (row["scope"], row["problem_codes"]) == ("要修正", "FIELD_TOO_LONG")
    assert out.stats.rows_read == out.stats.in_scope + out.stats.out_of_scope + out.stats.needs_fix


def test_excel_counts_utf16_units() -> None:
    frame = pl.DataFrame({"t": ["abc", WIDE * 3, "高" + WIDE, None]})
    assert frame.select(utf16_units(pl.col("t")))["t"].to_list() == [3, 6, 3, None]
    cut = pl.DataFrame({"t": [WIDE * (LIMIT // 2 + 5), "a" * LIMIT + WIDE]}).select(as_written(pl.col("t")))
    # never more than a cell holds, and never half a surrogate pair
    assert cut.select(utf16_units(pl.col("t")))["t"].to_list() == [LIMIT - 1, LIMIT]


# --- F3 --------------------------------------------------------------------------------------

F3_CELLS = {
    "照会番号": "0000000001",
    "個人番号": N1,
    "処理結果": "20",
    "氏名": "山田　太郎",
    "氏名カナ": "ヤマダ　タロウ",
    "生年月日": "19701204",
    "性別": "1",
    "住所": "高知県高知市本町一丁目1番1号",
    "異動事由": "死亡",
    "異動年月日": "20250601",
}


def f3(tmp_path: Path, **change: str) -> Path:
    path = tmp_path / "f3.csv"
    path.write_bytes(
        ("\r\n".join([F3_HEADER, ",".join((F3_CELLS | change).values())]) + "\r\n").encode("utf-8")
    )
    return path


@pytest.fixture()
def sent() -> pl.DataFrame:
    ex = pl.DataFrame(
        {
            "round_id": "2026",
            "extract_id": "x" * 16,
            "atena_no": ["A"],
            "my_number": [N1],
            "scope": ["点検対象"],
        }
    )
    return build_requests(ex, assign_inquiry_numbers(ex["atena_no"], None))


@pytest.mark.parametrize(
    ("column", "value", "also"),
    [
        ("氏名", "〓" * (LIMIT + 1), set()),
        ("住所", "高" * (LIMIT + 1), set()),
        ("氏名カナ", WIDE * (LIMIT // 2 + 1), set()),
        ("異動事由", "死" * (LIMIT + 1), set()),  # reaches F5 inside 判定理由
        ("処理結果", "0" * (LIMIT + 1), {"RESULT_CODE"}),
        ("性別", "1" * (LIMIT + 1), {"RESULT_SEX"}),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 10 else None,
)
def test_f3_values_beyond_a_cell_are_refused(
    tmp_path: Path, sent: pl.DataFrame, column: str, value: str, also: set[str]
) -> None:
    with pytest.raises(TenkenInputError) as e:
        read_results([f3(tmp_path, **{column: value})], sent, parse_settings(None))
    assert [(p.line, p.column) for p in e.value.problems if p.code == "FIELD_TOO_LONG"] == [(2, column)]
    assert e.value.codes == {"FIELD_TOO_LONG", *also}


@pytest.mark.parametrize("column", ["氏名", "住所", "異動事由"])
def test_f3_values_at_the_limit_pass(tmp_path: Path, sent: pl.DataFrame, column: str) -> None:
    results, _ = read_results([f3(tmp_path, **{column: "高" * LIMIT})], sent, parse_settings(None))
    assert results.height == 1
