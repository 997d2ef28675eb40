"""Comparison levels and comparisons: matching rules declared as data, compiled to polars.

Modelled on splink's comparison levels. A ``Comparison`` of one field is an ordered list of
``Level``s; the first level whose condition holds gives the field's judgement (一致,
表記ゆれ一致, 不一致, 比較不能). Each level carries a Japanese label that staff see in the
判定理由 and that is saved with every result for audit, so the rule that decided a row can
always be read back.

Example::

    Comparison(
        field=Field.SEX,
        levels=(
            NullLevel("biz_sex", "juki_sex"),
            Level(Judgement.EQUAL, "性別コードが同じ", pl.col("biz_sex") == pl.col("juki_sex")),
            ElseLevel(),
        ),
    )
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from schemas.codes import FIELD_LABELS, Field, Judgement

Prepare = Callable[[pl.DataFrame], pl.DataFrame]


def first_match(branches: Sequence[tuple[pl.Expr, pl.Expr]], otherwise: pl.Expr) -> pl.Expr:
    """The value of the first branch whose condition holds (ordered rules, first wins)."""
    expr = otherwise
    for condition, value in reversed(branches):
        expr = pl.when(condition).then(value).otherwise(expr)
    return expr


@dataclass(frozen=True)
class Level:
    """One outcome of a comparison: its judgement, a Japanese label, and when it applies."""

    judgement: Judgement
    label: str
    condition: pl.Expr

    def describe(self) -> dict[str, str]:
        return {"判定": self.judgement.value, "条件": self.label}


def NullLevel(left: str, right: str) -> Level:
    """比較不能 when either side is blank. Always first, so later levels see both values."""

    def blank(c: str) -> pl.Expr:
        return pl.col(c).is_null() | (pl.col(c).cast(pl.String).str.len_chars() == 0)

    return Level(Judgement.NOT_COMPARABLE, "どちらかが空欄", blank(left) | blank(right))


def ElseLevel() -> Level:
    """不一致 for everything the earlier levels did not accept. Always last."""
    return Level(Judgement.DIFFERENT, "上記のいずれにも当たらない", pl.lit(True))


@dataclass(frozen=True)
class Comparison:
    """How one field of 基本4情報 is judged. ``prepare`` adds the columns the levels use."""

    field: Field
    levels: tuple[Level, ...]
    prepare: Prepare | None = None
    blank_sides: tuple[str, str] | None = None  # (業務 column, 住基 column) for 未登録 reasons
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.levels or self.levels[-1].judgement is not Judgement.DIFFERENT:
            raise ValueError(f"{self.field}: the last level must be ElseLevel (不一致)")
        if self.levels[0].judgement is not Judgement.NOT_COMPARABLE:
            raise ValueError(f"{self.field}: the first level must be NullLevel (比較不能)")

    @property
    def label(self) -> str:
        return FIELD_LABELS[self.field]

    @property
    def output(self) -> str:
        return f"judgement_{self.field.value}"

    def judgement_expr(self) -> pl.Expr:
        branches = [(lv.condition, pl.lit(lv.judgement.value)) for lv in self.levels[:-1]]
        return first_match(branches, pl.lit(self.levels[-1].judgement.value)).alias(self.output)

    def level_expr(self) -> pl.Expr:
        """The label of the level that decided, for audit (``level_<field>``)."""
        branches = [(lv.condition, pl.lit(lv.label)) for lv in self.levels[:-1]]
        return first_match(branches, pl.lit(self.levels[-1].label)).alias(f"level_{self.field.value}")

    def describe(self) -> dict[str, object]:
        return {
            "項目": self.label,
            "段階": [lv.describe() for lv in self.levels],
            "注記": list(self.notes),
        }


def not_held(field_: Field) -> Comparison:
    """A field the 事務 does not keep: always 比較不能, and left out of the A/B/C rules."""
    return Comparison(
        field=field_,
        levels=(
            Level(Judgement.NOT_COMPARABLE, "この事務では保有しない項目", pl.lit(True)),
            ElseLevel(),
        ),
        notes=("事務の設定で保有しない項目のため判定に使わない",),
    )


def compile_judgements(frame: pl.DataFrame, comparisons: Sequence[Comparison]) -> pl.DataFrame:
    """Run every comparison's preparation, then add ``judgement_*`` and ``level_*`` columns."""
    for comparison in comparisons:
        if comparison.prepare is not None:
            frame = comparison.prepare(frame)
    return frame.with_columns(
        [c.judgement_expr() for c in comparisons] + [c.level_expr() for c in comparisons]
    )
