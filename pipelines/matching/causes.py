"""推定原因: the likely cause of each B and C, computed from the data, most specific first.

The causes are declared as ordered rules, like the A/B/C rules: each has a Japanese label
(shown in F4 and F5), a priority (1 = work first: the cases where someone else's
information may be shown), and a condition over the case's signals
(``pipelines.matching.signals``) and its likely owner (``pipelines.matching.owners``). The
first rule that applies wins; every B and C gets one, the last two being the fallbacks.

Order, and why:

1. 双子 — same 姓, same address, same birth date, another 名: the twin's number.
2. 家族 — same 姓 and address (or the person is in the extract too), another 名.
3. 取り違え — the registry person is another row of the extract (batch keying shifted by
   a row, a number copied from the wrong record).
4. 同姓同名の別人 — same name, another birth date (and not a one-digit slip at the same
   address).
5. 該当なし / 消除者 (with 異動事由) / 照会エラー — from 処理結果.
6. 改姓 — same 名 and birth date, another 姓.
7. 転居未届 — same person, another 市区町村 or 町字 (C or B).
8. カナ未登録 — the kana is missing on one side, the rest agrees.
9. 入力誤り — one character of the name or kana, or one digit of the birth date.
10. 未登録 — nothing differs, but a field is blank on one side (an address never entered).
11. 番号重複 — the same 個人番号 on another 宛名番号, and nothing above explains the case.
12. otherwise: 別人の可能性（原因を特定できない） for C, 表記の違いの可能性 for B.

番号重複 is a fact about the number rather than an explanation: one of the records holding
it is wrong, but the data says which (the one whose 4情報 differ) and why (a family
member's number, a move …). So a shared number is added to whatever cause the data shows
(``…・番号重複``) and puts the case at priority 1; it is the cause itself only when nothing
more specific is found.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

import polars as pl

from pipelines.matching.comparisons import build_comparisons, held_fields
from pipelines.matching.levels import first_match
from pipelines.matching.normalize import kana_table
from pipelines.matching.owners import Population, find_owners, population_from_graded
from pipelines.matching.rules import ELSE_RULE, RULES
from pipelines.matching.settings import MatchSettings
from pipelines.matching.signals import add_signals
from schemas.codes import Field, Grade, ResultCode

#: priority of a record that needs no work (判定 A)
NO_WORK_PRIORITY = 9
#: added to the cause of a case whose 個人番号 is on another 宛名番号 as well
SHARED_NUMBER_SUFFIX = "・番号重複"


class CauseCode(StrEnum):
    """Stable English identifiers of the causes (scripts, benchmarks, reports)."""

    DUPLICATE_NUMBER = "duplicate_number"
    TWIN = "twin"
    FAMILY = "family"
    OTHER_PERSON = "other_person"
    NAMESAKE = "namesake"
    NOT_FOUND = "not_found"
    DELETED = "deleted"
    INQUIRY_ERROR = "inquiry_error"
    RENAME = "rename"
    MOVED_MUNICIPALITY = "moved_municipality"
    MOVED_TOWN = "moved_town"
    KANA_UNREGISTERED = "kana_unregistered"
    KANA_BLANK_BUSINESS = "kana_blank_business"
    TYPO = "typo"
    BLANK_FIELD = "blank_field"
    UNIDENTIFIED_C = "unidentified_c"
    UNIDENTIFIED_B = "unidentified_b"


@dataclass(frozen=True)
class Cause:
    code: CauseCode
    label: str  # 推定原因 as staff read it
    priority: int  # 1 = work first
    condition: pl.Expr
    explanation: str  # what in the data points to it (saved in 照合設定.json)
    detail: pl.Expr | None = None  # appended in brackets: 消除者（死亡）

    def label_expr(self) -> pl.Expr:
        if self.detail is None:
            return pl.lit(self.label)
        # a blank detail (異動事由 sent as an empty field) gives the bare label, never 消除者（）
        detail = pl.when(self.detail != "").then(self.detail)
        return pl.concat_str([pl.lit(self.label), pl.lit("（"), detail, pl.lit("）")]).fill_null(
            pl.lit(self.label)
        )

    def describe(self) -> dict[str, object]:
        return {"推定原因": self.label, "優先度": self.priority, "根拠": self.explanation}


def _s(name: str) -> pl.Expr:
    """A signal column; unknown (null) counts as not shown."""
    return pl.col(name).fill_null(False)


def _not(name: str) -> pl.Expr:
    """The signal is known to be false (unknown is not enough)."""
    return pl.col(name).eq(False).fill_null(False)


def cause_rules() -> tuple[Cause, ...]:
    result = pl.col("result_code")
    listed = result.is_in([ResultCode.FOUND.value, ResultCode.DELETED.value])  # 4情報 came back
    found = result == ResultCode.FOUND.value
    owner = pl.col("likely_owner").is_not_null()
    near = _s("same_address") | owner
    # born the same day, one character apart in 漢字, no kana to compare: a keying slip is
    # likelier than a twin (or a rename)
    slip = _s("name_one_edit") & ~_s("kana_compared") & _s("same_birth")
    # another person: another 名, and not the same 漢字氏名 with a kana slip
    other_given = _not("same_given") & ~_s("kanji_same") & ~slip
    typo_field = (
        pl.when(_s("name_one_edit"))
        .then(pl.lit("氏名の1文字"))
        .when(_s("kana_one_edit"))
        .then(pl.lit("カナの1文字"))
        .otherwise(pl.lit("生年月日の1桁"))
    )
    return (
        Cause(
            CauseCode.TWIN,
            "双子の可能性（同じ姓・生年月日の家族の番号）",
            1,
            listed & _s("same_birth") & _s("same_surname") & other_given & near,
            "住基の本人と姓・生年月日・住所が同じで名が異なる",
        ),
        Cause(
            CauseCode.FAMILY,
            "家族の番号の可能性",
            1,
            listed & _s("same_surname") & other_given & near,
            "住基の本人と姓・住所が同じで名が異なる（または住基の本人が抽出データの別の行にいる）",
        ),
        Cause(
            CauseCode.OTHER_PERSON,
            "取り違えの可能性（抽出データ内の別の人の番号）",
            1,
            owner,
            "住基の本人の4情報が抽出データの別の宛名番号の行と一致する",
        ),
        Cause(
            CauseCode.NAMESAKE,
            "同姓同名の別人の可能性",
            2,
            listed & _s("same_name") & _not("same_birth") & ~(_s("birth_one_digit") & _s("same_address")),
            "氏名は一致するが生年月日が異なる（同じ住所で1桁だけの違いを除く）",
        ),
        Cause(
            CauseCode.NOT_FOUND,
            "該当なし（存在しない個人番号）",
            3,
            result == ResultCode.NOT_FOUND.value,
            "住基ネットの処理結果が 10（該当なし）",
        ),
        Cause(
            CauseCode.DELETED,
            "消除者",
            3,
            result == ResultCode.DELETED.value,
            "住基ネットの処理結果が 20（消除者）。異動事由を併記",
            detail=pl.col("move_reason"),
        ),
        Cause(
            CauseCode.INQUIRY_ERROR,
            "照会エラー（再照会が必要）",
            4,
            result == ResultCode.ERROR.value,
            "住基ネットの処理結果が 90（エラー）",
        ),
        Cause(
            CauseCode.RENAME,
            "改姓の可能性",
            5,
            found & _s("same_given") & _not("same_surname") & _s("same_birth") & _s("sex_agrees") & ~slip,
            "名・生年月日・性別は一致し、姓だけが異なる",
        ),
        Cause(
            CauseCode.MOVED_MUNICIPALITY,
            "転居未届の可能性（市区町村が異なる）",
            5,
            found & _s("same_name") & _s("same_birth") & _s("sex_agrees") & _not("same_municipality"),
            "氏名・生年月日・性別は一致し、市区町村が異なる",
        ),
        Cause(
            CauseCode.MOVED_TOWN,
            "転居未届の可能性（町字等が異なる）",
            6,
            found & _s("same_name") & _s("same_birth") & _s("sex_agrees") & _not("same_address"),
            "氏名・生年月日・性別・市区町村は一致し、町字以下が異なる",
        ),
        Cause(
            CauseCode.KANA_UNREGISTERED,
            "カナ未登録（住基ネットに振り仮名がない）",
            5,
            found & _s("kana_blank_juki") & _s("name_agrees") & _s("same_birth"),
            "住基のカナ氏名が空欄で、ほかの項目は一致",
        ),
        Cause(
            CauseCode.KANA_BLANK_BUSINESS,
            "カナ未登録（業務データにカナがない）",
            5,
            found & _s("kana_blank_biz") & _s("name_agrees") & _s("same_birth"),
            "業務データのカナ氏名が空欄で、ほかの項目は一致",
        ),
        Cause(
            CauseCode.TYPO,
            "入力誤りの可能性",
            6,
            found
            & _s("sex_agrees")
            & (
                (_s("name_one_edit") & _s("kana_agrees") & _s("same_birth"))
                | (_s("kana_one_edit") & _s("name_agrees") & _s("same_birth"))
                | (_s("birth_one_digit") & _s("name_agrees") & _s("kana_agrees"))
            ),
            "氏名・カナの1文字、または生年月日の1桁だけが異なる",
            detail=typo_field,
        ),
        Cause(
            CauseCode.BLANK_FIELD,
            "未登録の項目あり",
            5,
            found & _s("nothing_differs"),
            "どの項目も不一致ではなく、片方が空欄の項目がある（判定理由に項目と側を表示）",
            detail=pl.col("grade_reason"),
        ),
        Cause(
            CauseCode.DUPLICATE_NUMBER,
            "番号重複（同じ個人番号が別の宛名番号にもある）",
            1,
            pl.col("number_shared_by").is_not_null(),
            "同じ個人番号を持つ宛名番号が抽出データに2件以上あり、ほかの原因は見当たらない",
        ),
        Cause(
            CauseCode.UNIDENTIFIED_C,
            "別人の可能性（原因を特定できない）",
            2,
            pl.col("grade") == Grade.C.value,
            "優先確認（C）で、上のどれにも当たらない",
        ),
        Cause(
            CauseCode.UNIDENTIFIED_B,
            "表記の違いの可能性（要確認）",
            6,
            pl.lit(True),
            "要確認（B）で、上のどれにも当たらない",
        ),
    )


def add_causes(
    graded: pl.DataFrame, settings: MatchSettings, population: pl.DataFrame | Population | None = None
) -> pl.DataFrame:
    """Add ``likely_cause``, ``likely_cause_code``, ``likely_owner`` and ``priority``.

    ``population`` is every row of the extract (``owners.Population``, or a frame of
    ``owners.POPULATION_COLUMNS``); without it,
    the business side of ``graded`` is used. A rows get no cause and priority 9.
    """
    rules = cause_rules()
    held = held_fields(settings)
    cases = add_signals(graded.filter(pl.col("grade").is_in([Grade.B.value, Grade.C.value])), held)
    if population is None:
        population = population_from_graded(graded)
    owners = find_owners(
        cases.filter(~pl.col("identity_agrees")),
        population,
        itaiji=settings.itaiji(),
        kana_width=kana_table(voiced=False, small=False),
        kana_folded=kana_table(voiced=True, small=settings.small_kana_is_variant),
        holds_sex=Field.SEX in held,
    )
    cases = cases.join(owners, on="atena_no", how="left")
    # each condition evaluated once: the index of the first rule that applies
    index = first_match(
        [(c.condition, pl.lit(i, dtype=pl.UInt8)) for i, c in enumerate(rules[:-1])],
        pl.lit(len(rules) - 1, dtype=pl.UInt8),
    )
    cases = cases.with_columns(index.alias("_cause"))
    rule = pl.col("_cause")
    label = first_match(
        [(rule == i, c.label_expr()) for i, c in enumerate(rules[:-1])], rules[-1].label_expr()
    )
    code = rule.replace_strict({i: c.code.value for i, c in enumerate(rules)}, return_dtype=pl.String)
    priority = rule.replace_strict({i: c.priority for i, c in enumerate(rules)}, return_dtype=pl.Int64)
    shared = pl.col("number_shared_by").is_not_null()
    decided = cases.select(
        "atena_no",
        "likely_owner",
        pl.when(shared & (code != CauseCode.DUPLICATE_NUMBER.value))
        .then(label + pl.lit(SHARED_NUMBER_SUFFIX))
        .otherwise(label)
        .alias("likely_cause"),
        code.alias("likely_cause_code"),
        pl.when(shared).then(pl.lit(1, dtype=pl.Int64)).otherwise(priority).alias("priority"),
    )
    out = graded.join(decided, on="atena_no", how="left", maintain_order="left")
    return out.with_columns(pl.col("priority").fill_null(NO_WORK_PRIORITY))


def describe_causes() -> list[dict[str, object]]:
    return [c.describe() for c in cause_rules()]


#: the data tables the address parse reads (the 異体字 table is hashed with the settings)
_ADDRESS_TABLES = ("data/address_variants.csv", "data/municipalities.csv", "data/itaiji_distinct.csv")


def rules_fingerprint(settings: MatchSettings) -> str:
    """SHA-256 of the rules as they run, not only of their labels: every comparison level
    (judgement, label, note and its polars condition, serialised), the A/B/C rules, the
    推定原因 rules (conditions serialised) and the address data tables. A condition changed
    under the same label changes it, so 照合設定.json identifies what judged a result.
    """
    digest = hashlib.sha256()

    def add(*parts: object) -> None:
        digest.update(json.dumps(parts, ensure_ascii=False, default=str).encode("utf-8"))

    for comparison in build_comparisons(settings):
        for level in comparison.levels:
            add(comparison.field.value, level.judgement.value, level.label, level.note)
            add(level.condition.meta.serialize(format="json"))
    for rule in (*RULES, ELSE_RULE):
        add(rule.grade.value, rule.label, [f.value for f in rule.fields], rule.on_result)
    for cause in cause_rules():
        detail = cause.detail.meta.serialize(format="json") if cause.detail is not None else None
        condition = cause.condition.meta.serialize(format="json")
        add(cause.code.value, cause.label, cause.priority, condition, detail)
    for table in _ADDRESS_TABLES:
        add(table, resources.files("schemas").joinpath(table).read_text(encoding="utf-8"))
    return digest.hexdigest()
