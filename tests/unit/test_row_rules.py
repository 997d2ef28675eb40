"""The row checks of F1 and F3 are declared tables; how a table is run."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.errors import CATALOGUE
from pipelines.files.csv_reader import LINE
from pipelines.stages.extract import F1_RULES, HOLDS_SEX, WITH_ATENA
from pipelines.stages.inquiry_result import F3_RULES
from pipelines.stages.row_rules import DETAIL_CHARS, RowRule, rule_problems
from schemas.extract import F1_COLUMNS
from schemas.inquiry_result import F3_COLUMNS


@pytest.mark.parametrize(
    ("rules", "columns"), [(F1_RULES, F1_COLUMNS), (F3_RULES, F3_COLUMNS)], ids=["F1", "F3"]
)
def test_every_rule_names_a_catalogued_code_and_a_contract_column(rules, columns) -> None:
    contract = {c.contract for c in columns}
    for rule in rules:
        assert rule.column in contract
        if isinstance(rule.code, str):
            assert rule.code in CATALOGUE, rule.code
    # every column is checked against Excel's cell limit
    assert {r.column for r in rules if isinstance(r.code, str) and r.code == "FIELD_TOO_LONG"} == contract


def test_options_switch_rules_on_and_off() -> None:
    blank = [
        r.code
        for r in F1_RULES
        if r.column == "個人番号"
        and r.requires != HOLDS_SEX
        and r.code in ("REQUIRED_BLANK", "MYNUMBER_MISSING")
    ]
    assert blank == ["REQUIRED_BLANK", "MYNUMBER_MISSING"]
    applied = {
        frozenset(o): [
            r.code
            for r in F1_RULES
            if r.applies(o)
            and r.column in ("個人番号", "性別")
            and r.code in ("REQUIRED_BLANK", "MYNUMBER_MISSING", "SEX_CODE")
        ]
        for o in ((), (WITH_ATENA,), (HOLDS_SEX,))
    }
    assert applied == {
        frozenset(): ["REQUIRED_BLANK"],
        frozenset({WITH_ATENA}): ["MYNUMBER_MISSING"],
        frozenset({HOLDS_SEX}): ["REQUIRED_BLANK", "SEX_CODE"],
    }


def test_problems_come_by_line_then_in_table_order_with_short_details() -> None:
    frame = pl.DataFrame({LINE: [2, 3, 4], "v": ["x" * 100, None, "ok"]})
    rules = (
        RowRule("値", "REQUIRED_BLANK", pl.col("v").is_null()),
        RowRule(
            "値",
            "FIELD_TOO_LONG",
            pl.col("v").str.len_chars() > 3,
            pl.col("v"),
            candidates=pl.col("v").str.len_bytes() > 3,
        ),
        RowRule("値", "DATE_FORMAT", pl.col("v") != "ok"),
    )
    got = rule_problems(frame, rules)
    assert got.select("line", "code").rows() == [
        (2, "FIELD_TOO_LONG"),
        (2, "DATE_FORMAT"),
        (3, "REQUIRED_BLANK"),
    ]
    assert got["detail"][0] == "x" * DETAIL_CHARS + "…"
