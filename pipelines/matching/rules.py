"""A/B/C classification (manual 7.(6)), declared as ordered rules and compiled to polars.

Evaluated in order; the first rule that applies gives 判定:

1. 処理結果 is not 00 → C
2. 性別, 生年月日 or カナ氏名 不一致 → C
3. those agree but 住所（市区町村）不一致 → C
4. those agree but 漢字氏名 or 住所（町字等）不一致 → B
5. everything 一致 or 表記ゆれ一致 → A

A field the 事務 does not hold is dropped from the rules. A held field that is blank on one
side (比較不能) counts as 不一致, and 判定理由 says "未登録" and on which side, so staff can
triage (this is what the national tool did).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from pipelines.matching.levels import Comparison, first_match
from schemas.codes import FIELD_LABELS, RESULT_LABELS, Field, Grade, Judgement, ResultCode

_BAD = (Judgement.DIFFERENT.value, Judgement.NOT_COMPARABLE.value)


@dataclass(frozen=True)
class Rule:
    grade: Grade
    label: str  # the manual's wording, shown in the audit record
    fields: tuple[Field, ...] = ()  # a 不一致 in any of these applies the rule
    on_result: bool = False  # applies when 処理結果 is not 00

    def describe(self) -> dict[str, object]:
        return {
            "判定": self.grade.value,
            "条件": self.label,
            "項目": [FIELD_LABELS[f] for f in self.fields],
        }


RULES: tuple[Rule, ...] = (
    Rule(Grade.C, "住基ネットの処理結果が「該当あり」でない（該当なし・消除者・エラー）", on_result=True),
    Rule(Grade.C, "性別・生年月日・カナ氏名のいずれかが不一致", (Field.SEX, Field.BIRTH_DATE, Field.KANA)),
    Rule(Grade.C, "性別・生年月日・カナ氏名は一致し、住所（市区町村）が不一致", (Field.MUNICIPALITY,)),
    Rule(Grade.B, "上記は一致し、漢字氏名または住所（町字等）が不一致", (Field.NAME, Field.TOWN)),
)
ELSE_RULE = Rule(Grade.A, "すべての項目が一致または表記ゆれ一致")


def _judgement(field: Field) -> pl.Expr:
    return pl.col(f"judgement_{field.value}")


def _fragment(comparison: Comparison) -> pl.Expr:
    """判定理由 text for one field: 氏名不一致 / カナ未登録（住基）/ null when it agrees."""
    j = pl.col(comparison.output)
    label = comparison.label
    blank = pl.col(comparison.blank_column)
    not_comparable = j == Judgement.NOT_COMPARABLE.value
    return (
        pl.when(j == Judgement.DIFFERENT.value)
        .then(pl.lit(f"{label}不一致"))
        .when(not_comparable & (blank == 3))
        .then(pl.lit(f"{label}未登録（両方）"))
        .when(not_comparable & (blank == 2))
        .then(pl.lit(f"{label}未登録（住基）"))
        .when(not_comparable & (blank == 1))
        .then(pl.lit(f"{label}未登録（業務）"))
    )


def classify(frame: pl.DataFrame, comparisons: Sequence[Comparison], held: frozenset[Field]) -> pl.DataFrame:
    """Add ``judgement_*``, ``level_*``, ``grade`` (A/B/C), ``grade_rule`` (which rule
    decided) and ``grade_reason`` (判定理由) to a frame from ``compile_judgements``.

    Everything here depends only on 処理結果, 異動事由 and each field's level and blank
    side, so the rules run once per distinct combination (a few hundred in a file of a
    million rows) and the text is joined back.
    """
    keys = [
        "result_code",
        "move_reason",
        *[c.index_column for c in comparisons],
        *[c.blank_column for c in comparisons],
    ]
    combos = frame.select(keys).unique()
    combos = combos.with_columns(
        [c.judgement_of(pl.col(c.index_column)) for c in comparisons]
        + [c.label_of(pl.col(c.index_column)) for c in comparisons]
    )
    combos = combos.with_columns(_grade_exprs(comparisons, held))
    return frame.join(combos, on=keys, how="left", nulls_equal=True, maintain_order="left")


def _grade_exprs(comparisons: Sequence[Comparison], held: frozenset[Field]) -> list[pl.Expr]:
    by_field = {c.field: c for c in comparisons}
    found = pl.col("result_code") == ResultCode.FOUND.value
    grade_branches: list[tuple[pl.Expr, pl.Expr]] = []
    rule_branches: list[tuple[pl.Expr, pl.Expr]] = []
    for rule in RULES:
        fields = [f for f in rule.fields if f in held]
        if rule.on_result:
            cond = ~found
        elif fields:
            cond = pl.any_horizontal([_judgement(f).is_in(_BAD) for f in fields])
        else:
            continue
        grade_branches.append((cond, pl.lit(rule.grade.value)))
        rule_branches.append((cond, pl.lit(rule.label)))

    order = [f for rule in RULES for f in rule.fields if f in held]
    mismatch_text = pl.concat_str([_fragment(by_field[f]) for f in order], separator="・", ignore_nulls=True)
    variants = [
        pl.when(_judgement(f) == Judgement.VARIANT.value).then(
            pl.concat_str(
                [
                    pl.lit(FIELD_LABELS[f]),
                    pl.lit("（") + by_field[f].note_of(pl.col(by_field[f].index_column)) + pl.lit("）"),
                ],
                ignore_nulls=True,
            )
        )
        for f in Field
        if f in held
    ]
    variant_text = pl.concat_str(variants, separator="・", ignore_nulls=True)
    result_text = pl.concat_str(
        [
            pl.lit("住基照会結果: "),
            pl.col("result_code").replace_strict(
                {k.value: v for k, v in RESULT_LABELS.items()}, default="不明なコード"
            ),
            pl.lit("（"),
            pl.col("result_code"),
            pl.lit("）"),
            pl.when(pl.col("move_reason").is_not_null()).then(pl.lit(" 異動事由: ") + pl.col("move_reason")),
        ],
        ignore_nulls=True,
    )
    reason = (
        pl.when(~found)
        .then(result_text)
        .when(mismatch_text.str.len_chars() > 0)
        .then(mismatch_text)
        .when(variant_text.str.len_chars() > 0)
        .then(pl.lit("表記ゆれ一致（") + variant_text + pl.lit("）"))
        .otherwise(pl.lit("完全一致"))
    )
    return [
        first_match(grade_branches, pl.lit(ELSE_RULE.grade.value)).alias("grade"),
        first_match(rule_branches, pl.lit(ELSE_RULE.label)).alias("grade_rule"),
        reason.alias("grade_reason"),
    ]


def describe_rules() -> list[dict[str, object]]:
    return [r.describe() for r in (*RULES, ELSE_RULE)]
