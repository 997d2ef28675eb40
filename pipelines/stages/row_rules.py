"""Row rules: the checks of a boundary file's rows, declared as data and compiled to polars.

A rule says which contract column a problem is reported in, its code, and the condition (a
polars expression over the file as read) under which a row has it. A stage declares its
rules once, as a table (``pipelines.stages.extract.F1_RULES``,
``pipelines.stages.inquiry_result.F3_RULES``); ``rule_problems`` runs the rules that apply
and lists every problem of the file at once, by line and then in the order of the table.

Each rule filters the frame once: only the rows with a problem are ever materialised.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import polars as pl

from pipelines.files.csv_reader import LINE
from pipelines.files.xlsx import MAX_CELL_TEXT, utf16_units
from pipelines.privacy import quoted_value_expr
from schemas.columns import Column

#: a value quoted in a message is cut after this many characters (a 40,000-character 住所
#: helps nobody in an error report)
DETAIL_CHARS = 60


@dataclass(frozen=True)
class RowRule:
    """Where ``condition`` holds, the problem ``code`` in ``column`` (its contract name).

    ``code`` may be an expression when the condition's own code is the problem (a date
    parser's ``DATE_FUTURE``). ``requires`` / ``unless``: the rule applies only when that
    option of the read is on / off (``rule_problems``'s ``options``), e.g. a 事務 that holds
    性別, or an F1b given. ``candidates``: a cheap condition every row with the problem
    meets, evaluated first so that ``condition`` only sees those rows (so never with a
    condition over the whole column, such as ``is_duplicated``).
    """

    column: str
    code: str | pl.Expr
    condition: pl.Expr
    detail: pl.Expr | None = None
    requires: str | None = None
    unless: str | None = None
    candidates: pl.Expr | None = None
    #: the input value at fault, shown only when it is a short code or matches ``shown_if``
    #: (``pipelines.privacy.quoted_value_expr``): it may be someone's name or birth date
    value: pl.Expr | None = None
    shown_if: str | None = None

    def applies(self, options: Collection[str]) -> bool:
        return (self.requires is None or self.requires in options) and (
            self.unless is None or self.unless not in options
        )


def quoted(value: pl.Expr) -> pl.Expr:
    """A value as quoted in a message: at most ``DETAIL_CHARS`` characters."""
    text = value.cast(pl.String)
    return (
        pl.when(text.str.len_chars() > DETAIL_CHARS)
        .then(text.str.slice(0, DETAIL_CHARS) + "…")
        .otherwise(text)
    )


def _detail(rule: RowRule) -> pl.Expr:
    if rule.value is not None:
        value = rule.value.cast(pl.String)
        return quoted_value_expr(value, safe=rule.shown_if) if rule.shown_if else quoted_value_expr(value)
    return quoted(rule.detail) if rule.detail is not None else pl.lit(None, dtype=pl.String)


def cell_limit_rules(columns: Sequence[Column]) -> tuple[RowRule, ...]:
    """``FIELD_TOO_LONG`` for every column of a file whose values can reach F5.

    The 確認作業リスト puts each value in an Excel cell, which holds at most 32,767 UTF-16
    units; a longer value would be cut there, so it is refused where it comes in, named.
    """
    return tuple(
        RowRule(
            col.contract,
            "FIELD_TOO_LONG",
            utf16_units(pl.col(col.name)) > MAX_CELL_TEXT,
            pl.format("{} 文字", utf16_units(pl.col(col.name))),
            # a UTF-8 text has at least as many bytes as UTF-16 units
            candidates=pl.col(col.name).str.len_bytes() > MAX_CELL_TEXT,
        )
        for col in columns
    )


def rule_problems(
    frame: pl.DataFrame,
    rules: Sequence[RowRule],
    options: Collection[str] = (),
    *,
    keep: Sequence[pl.Expr] = (),
) -> pl.DataFrame:
    """Every problem of ``frame`` under the ``rules`` that apply: ``line``, ``column``,
    ``code``, ``detail`` (PROBLEM_SCHEMA) plus the ``keep`` columns, by line and then in
    the order of ``rules``."""
    hits = [
        (frame if rule.candidates is None else frame.filter(rule.candidates.fill_null(False)))
        .filter(rule.condition.fill_null(False))
        .select(
            pl.col(LINE).cast(pl.Int64).alias("line"),
            pl.lit(rule.column, dtype=pl.String).alias("column"),
            (pl.lit(rule.code) if isinstance(rule.code, str) else rule.code).cast(pl.String).alias("code"),
            _detail(rule).alias("detail"),
            *keep,
            pl.lit(order, dtype=pl.Int32).alias("_rule"),
        )
        for order, rule in enumerate(rules)
        if rule.applies(options)
    ]
    return pl.concat(hits).sort("line", "_rule", maintain_order=True).drop("_rule")
