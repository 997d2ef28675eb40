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

from pipelines import parallel
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
    #: how strong the agreement is, where the judgement alone does not say it: shown after the
    #: field in 判定理由 (町字等（前方2文字のみ一致）); the F4 per-field values stay the contract's
    note: str | None = None

    def describe(self) -> dict[str, str]:
        described = {"判定": self.judgement.value, "条件": self.label}
        if self.note:
            described["判定理由での表示"] = self.note
        return described


def is_blank(column: str) -> pl.Expr:
    """Null or empty (a date column is blank only when null)."""
    return pl.col(column).is_null() | (pl.col(column).cast(pl.String).str.len_chars() == 0)


def NullLevel(left: str, right: str) -> Level:
    """比較不能 when either side is blank. Always first, so later levels see both values."""
    return Level(Judgement.NOT_COMPARABLE, "どちらかが空欄", is_blank(left) | is_blank(right))


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

    @property
    def index_column(self) -> str:
        return f"level_index_{self.field.value}"

    @property
    def blank_column(self) -> str:
        return f"blank_side_{self.field.value}"

    def index_expr(self) -> pl.Expr:
        """The position of the level that decided (UInt8): each condition evaluated once."""
        branches = [(lv.condition, pl.lit(i, dtype=pl.UInt8)) for i, lv in enumerate(self.levels[:-1])]
        return first_match(branches, pl.lit(len(self.levels) - 1, dtype=pl.UInt8)).alias(self.index_column)

    def blank_expr(self) -> pl.Expr:
        """Which side is blank: 0 neither, 1 業務, 2 住基, 3 both (for 判定理由's 未登録)."""
        if self.blank_sides is None:
            return pl.lit(0, dtype=pl.UInt8).alias(self.blank_column)
        biz, juki = self.blank_sides
        return (is_blank(biz).cast(pl.UInt8) + 2 * is_blank(juki).cast(pl.UInt8)).alias(self.blank_column)

    def judgement_of(self, index: pl.Expr) -> pl.Expr:
        return index.replace_strict(
            {i: lv.judgement.value for i, lv in enumerate(self.levels)}, return_dtype=pl.String
        ).alias(self.output)

    def label_of(self, index: pl.Expr) -> pl.Expr:
        return index.replace_strict(
            {i: lv.label for i, lv in enumerate(self.levels)}, return_dtype=pl.String
        ).alias(f"level_{self.field.value}")

    def note_of(self, index: pl.Expr) -> pl.Expr:
        """The deciding level's note (null for most levels)."""
        notes = {i: lv.note for i, lv in enumerate(self.levels) if lv.note}
        if not notes:
            return pl.lit(None, dtype=pl.String)
        return index.replace_strict(notes, default=None, return_dtype=pl.String)

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
    """Run every comparison's preparation, then add ``level_index_*`` and ``blank_side_*``.

    The judgement strings (``judgement_*``, ``level_*``) follow from these two small
    integers; ``rules.classify`` turns them into text once per distinct combination.
    """
    for comparison in comparisons:
        if comparison.prepare is not None:
            frame = comparison.prepare(frame)
    return parallel.with_columns(
        frame, [c.index_expr() for c in comparisons] + [c.blank_expr() for c in comparisons]
    )
