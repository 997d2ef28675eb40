"""The A/B/C rules of manual 7.(6) and the tolerances of footnotes 11–13, table-driven.

Each case changes one or two fields of an otherwise identical pair (``testing.BASE``) and
names the judgement and the 判定 the contract requires.
"""

from datetime import date

import pytest

from pipelines.matching.testing import default_settings, judge, run

V, E, D, N = "表記ゆれ一致", "一致", "不一致", "比較不能"

FIELD_CASES = [
    # (description, field, business value, 住基 value, expected judgement)
    # 漢字氏名
    ("same name", "name", "山田　太郎", "山田　太郎", E),
    ("half-width space", "name", "山田 太郎", "山田　太郎", V),
    ("no space", "name", "山田太郎", "山田　太郎", V),
    ("underscore", "name", "山田_太郎", "山田　太郎", V),
    ("異体字 髙/高", "name", "髙橋　一郎", "高橋　一郎", V),
    ("異体字 﨑/崎", "name", "山﨑　花子", "山崎　花子", V),
    ("異体字 邊/邉/辺", "name", "渡邊　健", "渡邉　健", V),
    ("異体字 澤/沢", "name", "澤田　実", "沢田　実", V),
    ("異体字 濱/浜", "name", "濱田　実", "浜田　実", V),
    ("異体字 齋/斎", "name", "齋藤　茂", "斎藤　茂", V),
    ("異体字 廣/広", "name", "廣瀬　茂", "広瀬　茂", V),
    ("異体字 櫻/桜", "name", "櫻井　茂", "桜井　茂", V),
    ("異体字 嶋/島", "name", "中嶋　茂", "中島　茂", V),
    ("斎 and 斉 are different names", "name", "斎藤　茂", "斉藤　茂", D),
    ("外字 on the 住基 side (〓)", "name", "髙橋　一郎", "〓橋　一郎", V),
    ("外字 on the business side (outside JIS X 0208)", "name", "𠮷田　一郎", "吉田　一郎", V),
    ("外字 wildcard needs the same length", "name", "髙橋　一郎", "〓橋　一", D),
    ("a name of 外字 alone does not match", "name", "高橋", "〓〓", D),
    ("one character keyed wrong", "name", "山田　大郎", "山田　太郎", D),
    ("blank business name", "name", None, "山田　太郎", N),
    # カナ氏名 (footnote 13: 清音処理)
    ("same kana", "kana", "ヤマダ　タロウ", "ヤマダ　タロウ", E),
    ("half-width kana", "kana", "ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ　タロウ", V),
    ("hiragana", "kana", "やまだ　たろう", "ヤマダ　タロウ", V),
    ("no space", "kana", "ヤマダタロウ", "ヤマダ　タロウ", V),
    ("footnote 13: ヤマサキ = ヤマザキ", "kana", "ヤマサキ　タロウ", "ヤマザキ　タロウ", V),
    ("small kana written large", "kana", "キヨウコ", "キョウコ", V),
    ("different reading", "kana", "ヤマモト　タロウ", "ヤマダ　タロウ", D),
    ("kana not recorded in 住基", "kana", "ヤマダ　タロウ", None, N),
    # 生年月日
    ("same date", "birth_date", date(1970, 12, 4), date(1970, 12, 4), E),
    ("other date", "birth_date", date(1970, 12, 5), date(1970, 12, 4), D),
    # 性別
    ("same sex", "sex", "1", "1", E),
    ("other sex", "sex", "2", "1", D),
    ("sex blank", "sex", None, "1", N),
]


@pytest.mark.parametrize(("description", "field", "biz", "juki", "expected"), FIELD_CASES)
def test_field_judgements(description, field, biz, juki, expected) -> None:
    row = judge(biz={field: biz}, juki={field: juki})
    assert row[f"judgement_{field}"] == expected, description


ADDRESS_CASES = [
    # (description, business address, 住基 address, 市区町村判定, 町字等判定)
    ("identical", "高知県高知市本町一丁目1番1号", "高知県高知市本町一丁目1番1号", E, E),
    ("footnote 12: 1-1-1", "高知県高知市本町1-1-1", "高知県高知市本町一丁目1番1号", E, V),
    ("kanji numerals and 番地", "高知県高知市本町一丁目一番地一", "高知県高知市本町一丁目1番1号", E, V),
    ("full-width digits", "高知県高知市本町１－１－１", "高知県高知市本町一丁目1番1号", E, V),
    ("都道府県 omitted", "高知市本町1-1-1", "高知県高知市本町一丁目1番1号", V, V),
    ("footnote 11: 霞が関 = 霞ケ関", "東京都千代田区霞が関1-1-1", "東京都千代田区霞ケ関一丁目1番1号", E, V),
    ("の/ノ", "高知県高知市梅の辻5番", "高知県高知市梅ノ辻5番", E, V),
    ("大字 omitted", "高知県高知市長浜1234番地", "高知県高知市大字長浜1234番地", E, V),
    ("郡 omitted", "北海道東川町北町1-2", "北海道上川郡東川町北町一丁目2番", V, V),
    ("郡山市 is not a 郡", "福島県郡山市朝日2-3-4", "福島県郡山市朝日二丁目3番4号", E, V),
    (
        "building on one side only",
        "高知県高知市本町1-1-1 ハイツ本町201号室",
        "高知県高知市本町一丁目1番1号",
        E,
        V,
    ),
    ("other number", "高知県高知市本町1-1-2", "高知県高知市本町一丁目1番1号", E, D),
    ("other town, same numbers", "高知県高知市旭町1-1-1", "高知県高知市本町一丁目1番1号", E, D),
    ("other municipality", "高知県南国市本町1-1-1", "高知県高知市本町一丁目1番1号", D, V),
    ("same city name in another prefecture", "広島県府中市本町1-1-1", "東京都府中市本町一丁目1番1号", D, V),
    ("三田 stays 三田 on both sides", "東京都港区三田2-1-1", "東京都港区三田二丁目1番1号", E, V),
    ("三田2-1-1 is not 三田2-1-2", "東京都港区三田2-1-2", "東京都港区三田二丁目1番1号", E, D),
    ("政令市の区", "北海道札幌市中央区北一条西2-1", "北海道札幌市中央区北一条西二丁目1番", E, V),
    ("blank business address", None, "高知県高知市本町一丁目1番1号", N, N),
]


@pytest.mark.parametrize(("description", "biz", "juki", "muni", "town"), ADDRESS_CASES)
def test_address_judgements(description, biz, juki, muni, town) -> None:
    row = judge(biz={"address": biz}, juki={"address": juki})
    assert (row["judgement_municipality"], row["judgement_town"]) == (muni, town), description


GRADE_CASES = [
    # (description, row, 判定, 判定理由 contains)
    ("everything equal", {}, "A", "完全一致"),
    (
        "variants only",
        {
            "biz": {"name": "髙橋 一郎", "kana": "ﾀｶﾊｼ ｲﾁﾛｳ"},
            "juki": {"name": "〓橋　一郎", "kana": "タカハシ　イチロウ"},
        },
        "A",
        "表記ゆれ一致",
    ),
    ("rule 1: 該当なし", {"result_code": "10"}, "C", "該当なし"),
    ("rule 1: 消除者", {"result_code": "20", "move_reason": "死亡"}, "C", "消除者"),
    ("rule 1: error", {"result_code": "90"}, "C", "エラー"),
    ("rule 2: sex", {"biz": {"sex": "2"}}, "C", "性別不一致"),
    ("rule 2: birth date", {"biz": {"birth_date": date(1971, 1, 1)}}, "C", "生年月日不一致"),
    ("rule 2: kana", {"biz": {"kana": "ヤマモト　タロウ"}}, "C", "カナ不一致"),
    ("rule 2: kana unrecorded in 住基", {"juki": {"kana": None}}, "C", "カナ未登録（住基）"),
    ("rule 2: kana blank in business", {"biz": {"kana": None}}, "C", "カナ未登録（業務）"),
    ("rule 3: municipality", {"biz": {"address": "高知県南国市本町1-1-1"}}, "C", "市区町村不一致"),
    ("rule 4: kanji name", {"biz": {"name": "山田　大郎"}}, "B", "氏名不一致"),
    ("rule 4: town", {"biz": {"address": "高知県高知市旭町1-1-1"}}, "B", "町字等不一致"),
    (
        "rule 4: both",
        {"biz": {"name": "山田　大郎", "address": "高知県高知市本町9-9-9"}},
        "B",
        "氏名不一致・町字等不一致",
    ),
    (
        "rule order: C beats B",
        {"biz": {"name": "山田　大郎", "birth_date": date(1971, 1, 1)}},
        "C",
        "生年月日不一致",
    ),
    ("blank business address is 未登録 → C", {"biz": {"address": None}}, "C", "市区町村未登録（業務）"),
]


@pytest.mark.parametrize(("description", "row", "grade", "reason"), GRADE_CASES)
def test_grades(description, row, grade, reason) -> None:
    out = judge(**row)
    assert out["grade"] == grade, description
    assert reason in out["grade_reason"], out["grade_reason"]


def test_field_not_held_is_left_out_of_the_rules() -> None:
    no_sex = default_settings(sex=False)
    row = run([{"biz": {"sex": None}, "juki": {"sex": "2"}}], no_sex)[0]
    assert row["judgement_sex"] == N
    assert row["grade"] == "A"


def test_small_kana_setting_decides_the_grade() -> None:
    from pipelines.matching.settings import MatchSettings
    from schemas.config import JimuSpec, MatchingOptions

    strict = MatchSettings.build("t", JimuSpec(name="t"), MatchingOptions(small_kana_is_variant=False))
    rows = [{"biz": {"kana": "キヨウコ"}, "juki": {"kana": "キョウコ"}}]
    assert run(rows)[0]["grade"] == "A"
    assert run(rows, strict)[0]["grade"] == "C"


def test_a_shared_number_puts_any_case_first() -> None:
    out = judge(result_code="10", number_shared_by="A00002")
    assert out["likely_cause"] == "該当なし（存在しない個人番号）・番号重複"
    assert out["priority"] == 1


def test_settings_round_trip_and_digest_changes_with_a_setting() -> None:
    from pipelines.matching.settings import MatchSettings

    a = default_settings()
    assert MatchSettings.from_dict(a.to_dict()) == a
    assert default_settings(sex=False).digest() != a.digest()


def _fresh_digest(settings) -> str:
    from pipelines.matching import settings as settings_module

    settings_module._digest.cache_clear()
    settings_module._rules_sha256.cache_clear()
    return settings.digest()


def test_digest_changes_when_a_condition_changes_under_the_same_label(monkeypatch) -> None:
    """Issue 12.7: 照合設定.json's hash covers the rules themselves, not only the settings."""
    import polars as pl

    from pipelines.matching import comparisons
    from pipelines.matching.levels import Comparison, Level

    settings = default_settings()
    before = _fresh_digest(settings)
    assert _fresh_digest(settings) == before  # stable for the same rules
    original = comparisons.sex_comparison

    def looser() -> Comparison:
        kept = original()
        equal = kept.levels[1]
        # same judgement, same label, another condition
        changed = Level(equal.judgement, equal.label, pl.col("biz_sex").is_not_null())
        return Comparison(field=kept.field, levels=(kept.levels[0], changed, kept.levels[2]))

    monkeypatch.setattr(comparisons, "sex_comparison", looser)
    after = _fresh_digest(settings)
    monkeypatch.undo()
    assert after != before
    assert _fresh_digest(settings) == before


def test_digest_changes_when_an_abc_rule_changes(monkeypatch) -> None:
    from pipelines.matching import causes
    from pipelines.matching.rules import RULES, Rule
    from schemas.codes import Field

    settings = default_settings()
    before = _fresh_digest(settings)
    first, second, *rest = RULES
    moved = Rule(second.grade, second.label, (Field.SEX, Field.BIRTH_DATE))  # カナ left out, same label
    monkeypatch.setattr(causes, "RULES", (first, moved, *rest))
    assert _fresh_digest(settings) != before
    monkeypatch.undo()
    _fresh_digest(settings)
