"""Facts about a B or C case that the 推定原因 rules read (vectorised, case rows only).

Grain: one row per case (B or C). Every signal compares the business person with the
person 住基ネット holds for the number, field by field, more finely than the judgements:

* ``same_surname`` / ``same_given``: the 姓 and the 名 taken apart (kana preferred, since
  kana has no 外字; the 漢字 form when a kana is missing). Where one side writes no space
  between 姓 and 名, the other side's boundary is used (山田太郎 starts with 山田).
* ``same_name``: the whole name agrees (漢字 and カナ, whichever are there); ``kanji_same``:
  the 漢字氏名 agrees (一致 or 表記ゆれ一致).
* ``name_one_edit`` / ``kana_one_edit``: one character keyed wrong, missing or extra (〓
  matches any character); ``birth_one_digit``: the dates differ in one digit of YYYYMMDD.
* ``identity_agrees``: born the same day and the same 名 or name (or one slip away in 漢字
  or カナ while the other agrees): the registry person is this record's own person, so no
  other owner is looked for.
* ``same_birth``, ``sex_agrees``, ``same_address``, ``same_municipality``, ``kana_blank_juki``,
  ``kana_blank_biz``, ``kana_compared``, ``nothing_differs`` (no field 不一致, only blanks):
  read from the judgements; a field blank on a side gives null, never a difference.

A signal that cannot be known (both names written without a space, say) is null, and a
rule reading it does not apply.
"""

from __future__ import annotations

import polars as pl

from pipelines.matching.normalize import PART_MARK
from schemas.codes import GETA, Field, Judgement

_AGREE = (Judgement.EQUAL.value, Judgement.VARIANT.value)


def _agrees(field: Field) -> pl.Expr:
    """The field agrees (一致/表記ゆれ一致); null when it could not be compared."""
    judgement = pl.col(f"judgement_{field.value}")
    return pl.when(judgement == Judgement.NOT_COMPARABLE.value).then(None).otherwise(judgement.is_in(_AGREE))


def _part(parts: str, index: int) -> pl.Expr:
    return pl.col(parts).str.split_exact(PART_MARK, 1).struct.field(f"field_{index}")


def _has_mark(parts: str) -> pl.Expr:
    return pl.col(parts).str.contains(PART_MARK, literal=True)


def _whole(parts: str) -> pl.Expr:
    return pl.col(parts).str.replace_all(PART_MARK, "", literal=True)


def part_agrees(biz_parts: str, juki_parts: str, index: int) -> pl.Expr:
    """姓 (index 0) or 名 (index 1) of the two sides agree; null when it cannot be told.

    Parts holding 〓 are not compared here (a 外字 may hide any character).
    """
    b_mark, j_mark = _has_mark(biz_parts), _has_mark(juki_parts)
    b_part, j_part = _part(biz_parts, index), _part(juki_parts, index)
    b_whole, j_whole = _whole(biz_parts), _whole(juki_parts)

    def anchored(whole: pl.Expr, part: pl.Expr) -> pl.Expr:
        fits = whole.str.starts_with(part) if index == 0 else whole.str.ends_with(part)
        return fits & (whole.str.len_chars() > part.str.len_chars())

    verdict = (
        pl.when(b_mark & j_mark)
        .then(b_part == j_part)
        .when(j_mark)
        .then(anchored(b_whole, j_part))
        .when(b_mark)
        .then(anchored(j_whole, b_part))
    )
    has_geta = pl.col(biz_parts).str.contains(GETA, literal=True) | pl.col(juki_parts).str.contains(
        GETA, literal=True
    )
    return (
        pl.when(has_geta | pl.col(biz_parts).is_null() | pl.col(juki_parts).is_null())
        .then(None)
        .otherwise(verdict)
    )


def one_edit_apart(frame: pl.DataFrame, left: str, right: str, out: str) -> pl.DataFrame:
    """``out``: the two strings differ by exactly one character (substituted, missing or
    extra), 〓 on either side matching any character. Computed on the candidate rows only
    (lengths within one), from the longest common prefix and suffix."""
    l_, r_ = pl.col(left), pl.col(right)
    candidate = (
        l_.is_not_null()
        & r_.is_not_null()
        & (l_ != r_)
        & ((l_.str.len_chars() - r_.str.len_chars()).abs() <= 1)
    )
    indexed = frame.select(left, right).with_row_index("_row")
    cand = indexed.filter(candidate)
    verdict = pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True).alias(out)
    if cand.height:
        shorter = pl.min_horizontal(l_.str.len_chars(), r_.str.len_chars())
        longer = pl.max_horizontal(l_.str.len_chars(), r_.str.len_chars())
        cand = cand.with_columns(shorter.alias("_short"), longer.alias("_long"))

        def head(text: pl.Expr) -> pl.Expr:
            return text.str.split("").list.head(pl.col("_short"))

        chars = cand.select(
            "_row",
            head(l_).alias("_p_a"),
            head(r_).alias("_p_b"),
            head(l_.str.reverse()).alias("_s_a"),
            head(r_.str.reverse()).alias("_s_b"),
        )
        lengths = []
        for tag in ("_p", "_s"):  # common prefix, then common suffix
            a, b = f"{tag}_a", f"{tag}_b"
            same = (pl.col(a) == pl.col(b)) | (pl.col(a) == GETA) | (pl.col(b) == GETA)
            lengths.append(
                chars.select("_row", a, b)
                .explode([a, b])
                .group_by("_row")
                .agg(same.fill_null(False).cast(pl.Int32).cum_prod().sum().alias(f"{tag}_len"))
            )
        scored = (
            cand.select("_row", "_short", "_long").join(lengths[0], on="_row").join(lengths[1], on="_row")
        )
        prefix, suffix = pl.col("_p_len"), pl.col("_s_len")
        one = (
            pl.when(pl.col("_short") == pl.col("_long"))
            .then(prefix + suffix >= pl.col("_long") - 1)
            .otherwise(prefix + suffix >= pl.col("_short"))
        )
        hits = scored.filter(one)["_row"]
        verdict = verdict.scatter(hits, True)
    return frame.with_columns(verdict)


def one_digit_apart(left: pl.Expr, right: pl.Expr) -> pl.Expr:
    """Two dates whose YYYYMMDD differ in exactly one digit (a keying slip)."""
    a, b = left.dt.strftime("%Y%m%d"), right.dt.strftime("%Y%m%d")
    return pl.sum_horizontal([(a.str.slice(i, 1) != b.str.slice(i, 1)).cast(pl.Int8) for i in range(8)]) == 1


def add_signals(cases: pl.DataFrame, held: frozenset[Field]) -> pl.DataFrame:
    """The signals of each case row (see the module docstring)."""
    kana_sur = part_agrees("biz_kana_parts", "juki_kana_parts", 0)
    kana_given = part_agrees("biz_kana_parts", "juki_kana_parts", 1)
    name_sur = part_agrees("biz_name_parts", "juki_name_parts", 0)
    name_given = part_agrees("biz_name_parts", "juki_name_parts", 1)
    name_ok = _agrees(Field.NAME) if Field.NAME in held else pl.lit(None, dtype=pl.Boolean)
    kana_ok = _agrees(Field.KANA) if Field.KANA in held else pl.lit(None, dtype=pl.Boolean)
    kana_j = pl.col("judgement_kana")
    blank_kana = pl.col("blank_side_kana")
    cases = cases.with_columns(
        pl.coalesce(kana_sur, name_sur).alias("same_surname"),
        pl.coalesce(kana_given, name_given).alias("same_given"),
        # the whole name: every comparable form agrees, and at least one was compared
        (
            pl.when(kana_j == Judgement.DIFFERENT.value)
            .then(False)
            .when(pl.col("judgement_name") == Judgement.DIFFERENT.value)
            .then(False)
            .otherwise(name_ok.fill_null(False) | kana_ok.fill_null(False))
        ).alias("same_name"),
        _agrees(Field.BIRTH_DATE).alias("same_birth"),
        one_digit_apart(pl.col("biz_birth_date"), pl.col("juki_birth_date"))
        .fill_null(False)
        .alias("birth_one_digit"),
        (pl.col("judgement_sex") != Judgement.DIFFERENT.value).alias("sex_agrees"),
        (_agrees(Field.MUNICIPALITY) & _agrees(Field.TOWN)).alias("same_address")
        if Field.MUNICIPALITY in held
        else pl.lit(None, dtype=pl.Boolean).alias("same_address"),
        _agrees(Field.MUNICIPALITY).alias("same_municipality")
        if Field.MUNICIPALITY in held
        else pl.lit(None, dtype=pl.Boolean).alias("same_municipality"),
        (kana_j != Judgement.DIFFERENT.value).alias("kana_agrees"),
        ~pl.any_horizontal(
            [pl.col(f"judgement_{f.value}") == Judgement.DIFFERENT.value for f in Field]
        ).alias("nothing_differs"),
        (pl.col("judgement_name") != Judgement.DIFFERENT.value).alias("name_agrees"),
        (_agrees(Field.NAME) if Field.NAME in held else pl.lit(None, dtype=pl.Boolean)).alias("kanji_same"),
        ((Field.KANA in held) & blank_kana.is_in([2, 3])).alias("kana_blank_juki"),
        ((Field.KANA in held) & (blank_kana == 1)).alias("kana_blank_biz"),
        ((Field.KANA in held) & (blank_kana == 0)).alias("kana_compared"),
    )
    cases = one_edit_apart(cases, "biz_name_fold", "juki_name_fold", "name_one_edit")
    cases = one_edit_apart(cases, "biz_kana_fold", "juki_kana_fold", "kana_one_edit")
    # the business person and the registry person are plainly the same person (born the
    # same day, with the same 名 or name, or one slip away in 漢字 or カナ with the other
    # agreeing; twins' names are often one 漢字 apart, but never in both): no other owner
    return cases.with_columns(
        (
            pl.col("same_birth").fill_null(False)
            & (
                pl.col("same_given").fill_null(False)
                | pl.col("same_name").fill_null(False)
                | (pl.col("name_one_edit") & pl.col("kana_agrees"))
                | (pl.col("kana_one_edit") & pl.col("name_agrees"))
            )
        ).alias("identity_agrees")
    )
