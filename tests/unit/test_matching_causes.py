"""推定原因, likely owner and priority of B and C cases, table-driven.

Every case starts from ``testing.BASE`` (山田 太郎, ヤマダ タロウ, 1970-12-04, 男, 高知市本町一丁目
1番1号) on both sides and changes what the cause is about. Each cause has a positive case,
a negative one (a near miss that must not get it) and a blank one (a field missing on one
side). ``others`` are further rows of the same extract.
"""

from datetime import date

import pytest

from pipelines.matching.testing import default_settings, judge, run

SPOUSE = {"name": "山田　花子", "kana": "ヤマダ　ハナコ", "birth_date": date(1972, 3, 1), "sex": "2"}
TWIN = {"name": "山田　次郎", "kana": "ヤマダ　ジロウ"}
STRANGER = {
    "name": "佐藤　一郎",
    "kana": "サトウ　イチロウ",
    "birth_date": date(1980, 1, 1),
    "address": "高知県高知市旭町2-3-4",
}
ELSEWHERE = "高知県南国市大埇甲1234番地"

CAUSE_CASES = [
    # (description, row, others, cause code, priority, label contains)
    # 双子
    ("twin: same 姓, birth date and address, another 名", {"juki": TWIN}, None, "twin", 1, "双子"),
    (
        "not a twin when the birth date differs",
        {"juki": {**TWIN, "birth_date": date(1973, 5, 5)}},
        None,
        "family",
        1,
        "家族",
    ),
    (
        "not a twin when the 名 is one slip away and no kana",
        {"biz": {"kana": None}, "juki": {"name": "山田　大郎", "kana": None}},
        None,
        "typo",
        6,
        "氏名の1文字",
    ),
    # 家族
    ("family: same 姓 and address, another 名 and birth date", {"juki": SPOUSE}, None, "family", 1, "家族"),
    (
        "family: living elsewhere, but in the extract",
        {"juki": {**SPOUSE, "address": ELSEWHERE}},
        [{"atena_no": "A09", **SPOUSE, "address": ELSEWHERE}],
        "family",
        1,
        "家族",
    ),
    (
        "not family: another 姓, nobody in the extract",
        {"juki": {**SPOUSE, "name": "佐藤　花子", "kana": "サトウ　ハナコ"}},
        None,
        "unidentified_c",
        2,
        "別人の可能性",
    ),
    (
        "not family: same 姓 elsewhere, not in the extract",
        {"juki": {**SPOUSE, "address": ELSEWHERE}},
        None,
        "unidentified_c",
        2,
        "別人の可能性",
    ),
    # 取り違え (another row of the extract)
    (
        "other person: the registry person is another row",
        {"juki": STRANGER},
        [{"atena_no": "A09", **STRANGER}],
        "other_person",
        1,
        "取り違え",
    ),
    (
        "other person found by kana when the name has 外字",
        {"juki": {**STRANGER, "name": "〓藤　一郎"}},
        [{"atena_no": "A09", **STRANGER, "name": "𠮷藤　一郎"}],
        "other_person",
        1,
        "取り違え",
    ),
    (
        "no owner when the birth date differs",
        {"juki": STRANGER},
        [{"atena_no": "A09", **STRANGER, "birth_date": date(1980, 1, 2)}],
        "unidentified_c",
        2,
        "別人の可能性",
    ),
    (
        "no owner when the sex differs (事務 holds 性別)",
        {"juki": STRANGER},
        [{"atena_no": "A09", **STRANGER, "sex": "2"}],
        "unidentified_c",
        2,
        "別人の可能性",
    ),
    # 同姓同名の別人
    (
        "namesake: same name, another birth date and address",
        {"juki": {"birth_date": date(1950, 5, 5), "address": ELSEWHERE}},
        None,
        "namesake",
        2,
        "同姓同名",
    ),
    (
        "not a namesake: one digit of the birth date at the same address",
        {"juki": {"birth_date": date(1970, 12, 14)}},
        None,
        "typo",
        6,
        "生年月日の1桁",
    ),
    (
        "namesake even with the kana missing",
        {"juki": {"birth_date": date(1950, 5, 5), "kana": None}},
        None,
        "namesake",
        2,
        "同姓同名",
    ),
    # 処理結果
    (
        "not found (10)",
        {"result_code": "10", "juki": {k: None for k in ("name", "kana", "birth_date", "sex", "address")}},
        None,
        "not_found",
        3,
        "該当なし",
    ),
    (
        "deleted (20) with 異動事由",
        {"result_code": "20", "move_reason": "死亡"},
        None,
        "deleted",
        3,
        "消除者（死亡）",
    ),
    ("deleted (20) without 異動事由", {"result_code": "20"}, None, "deleted", 3, "消除者"),
    (
        "deleted family member (20) is family first",
        {"result_code": "20", "move_reason": "死亡", "juki": SPOUSE},
        None,
        "family",
        1,
        "家族",
    ),
    ("inquiry error (90)", {"result_code": "90"}, None, "inquiry_error", 4, "照会エラー"),
    # 改姓
    (
        "rename: same 名 and birth date, another 姓",
        {"biz": {"name": "佐藤　太郎", "kana": "サトウ　タロウ"}},
        None,
        "rename",
        5,
        "改姓",
    ),
    (
        "rename with no space on the business side",
        {"biz": {"name": "佐藤太郎", "kana": "サトウタロウ"}},
        None,
        "rename",
        5,
        "改姓",
    ),
    (
        "not a rename when the birth date differs too",
        {"biz": {"name": "佐藤　太郎", "kana": "サトウ　タロウ", "birth_date": date(1960, 1, 1)}},
        None,
        "unidentified_c",
        2,
        "別人の可能性",
    ),
    # 転居未届
    ("moved: another 市区町村", {"biz": {"address": ELSEWHERE}}, None, "moved_municipality", 5, "市区町村"),
    (
        "moved: another 町字 of the same 市区町村",
        {"biz": {"address": "高知県高知市旭町1-1-1"}},
        None,
        "moved_town",
        6,
        "町字等",
    ),
    (
        "not moved: another birth date is a namesake",
        {"biz": {"address": ELSEWHERE, "birth_date": date(1950, 5, 5)}},
        None,
        "namesake",
        2,
        "同姓同名",
    ),
    (
        "moved, and a namesake born the same day elsewhere is no owner",
        {"biz": {"address": "高知県高知市旭町1-1-1"}},
        [{"atena_no": "A09", "address": ELSEWHERE}],
        "moved_town",
        6,
        "町字等",
    ),
    # カナ未登録
    ("kana not recorded in 住基ネット", {"juki": {"kana": None}}, None, "kana_unregistered", 5, "住基ネット"),
    (
        "kana missing in the business data",
        {"biz": {"kana": None}},
        None,
        "kana_blank_business",
        5,
        "業務データ",
    ),
    (
        "not kana unregistered when the name differs too",
        {"juki": {"kana": None, "name": "山田　次郎", "birth_date": date(1971, 1, 1)}},
        None,
        "family",
        1,
        "家族",
    ),
    # 入力誤り
    ("typo: one 漢字 of the name", {"biz": {"name": "山田　大郎"}}, None, "typo", 6, "氏名の1文字"),
    ("typo: one extra character", {"biz": {"name": "山田　太郎々"}}, None, "typo", 6, "氏名の1文字"),
    ("typo: one kana", {"biz": {"kana": "ヤマダ　タロオ"}}, None, "typo", 6, "カナの1文字"),
    (
        "typo: one digit of the birth date",
        {"biz": {"birth_date": date(1970, 12, 14)}},
        None,
        "typo",
        6,
        "生年月日の1桁",
    ),
    ("not a typo: two characters", {"biz": {"name": "山田　大朗"}}, None, "unidentified_b", 6, "表記の違い"),
    # 未登録
    (
        "address never entered in the business data",
        {"biz": {"address": None}},
        None,
        "blank_field",
        5,
        "市区町村未登録（業務）",
    ),
    ("sex blank in the business data", {"biz": {"sex": None}}, None, "blank_field", 5, "性別未登録（業務）"),
    # 番号重複
    (
        "shared number and nothing else to say",
        {"biz": {"name": "山田　大朗"}, "number_shared_by": "A00002"},
        None,
        "duplicate_number",
        1,
        "番号重複",
    ),
    (
        "shared number is added to the cause the data shows",
        {"biz": {"address": "高知県高知市旭町1-1-1"}, "number_shared_by": "A00002"},
        None,
        "moved_town",
        1,
        "町字等が異なる）・番号重複",
    ),
    (
        "shared number of a 該当なし",
        {"result_code": "10", "number_shared_by": "A00002"},
        None,
        "not_found",
        1,
        "該当なし（存在しない個人番号）・番号重複",
    ),
    # fallbacks
    (
        "a different person nobody can place",
        {"juki": {**STRANGER, "name": "鈴木　京子", "kana": "スズキ　キョウコ"}},
        None,
        "unidentified_c",
        2,
        "別人の可能性",
    ),
    ("a B with no explanation", {"biz": {"name": "山田　大朗"}}, None, "unidentified_b", 6, "表記の違い"),
]


@pytest.mark.parametrize(("description", "row", "others", "code", "priority", "label"), CAUSE_CASES)
def test_causes(description, row, others, code, priority, label) -> None:
    out = judge(**row, others=others)
    assert out["grade"] in ("B", "C"), description
    assert out["likely_cause_code"] == code, (description, out["likely_cause"])
    assert out["priority"] == priority, description
    assert label in out["likely_cause"], out["likely_cause"]


OWNER_CASES = [
    # (description, row, others, likely owner)
    (
        "family member in the extract",
        {"juki": {**SPOUSE, "address": ELSEWHERE}},
        [{"atena_no": "A09", **SPOUSE, "address": ELSEWHERE}],
        "A09",
    ),
    (
        "twin in the extract, name written without a space",
        {"juki": TWIN},
        [{"atena_no": "A07", **TWIN, "name": "山田次郎"}],
        "A07",
    ),
    (
        "old glyph in the extract, new in the registry",
        {"juki": STRANGER},
        [{"atena_no": "A09", **STRANGER, "name": "佐藤　一郎", "kana": "ｻﾄｳ ｲﾁﾛｳ"}],
        "A09",
    ),
    (
        "the one at the registry address wins",
        {"juki": STRANGER},
        [{"atena_no": "A08", **STRANGER, "address": ELSEWHERE}, {"atena_no": "A09", **STRANGER}],
        "A09",
    ),
    (
        "both named when neither lives there",
        {"juki": STRANGER},
        [
            {"atena_no": "A08", **STRANGER, "address": ELSEWHERE},
            {"atena_no": "A09", **STRANGER, "address": ELSEWHERE},
        ],
        "A08,A09",
    ),
    ("nobody in the extract", {"juki": STRANGER}, [], None),
    (
        "the record itself is never its own owner",
        {"juki": STRANGER, "biz": STRANGER | {"name": "佐藤　一朗"}},
        [],
        None,
    ),
    (
        "a registry person with blank kana and 外字 cannot be matched",
        {"juki": {**STRANGER, "name": "〓藤　一郎", "kana": None}},
        [{"atena_no": "A09", **STRANGER, "name": "𠮷藤　一郎"}],
        None,
    ),
]


@pytest.mark.parametrize(("description", "row", "others", "owner"), OWNER_CASES)
def test_likely_owner(description, row, others, owner) -> None:
    assert judge(**row, others=others)["likely_owner"] == owner, description


def test_a_records_get_no_cause_and_the_last_priority() -> None:
    out = judge()
    assert (out["grade"], out["likely_cause"], out["likely_cause_code"], out["priority"]) == (
        "A",
        None,
        None,
        9,
    )


def test_owner_lookup_ignores_sex_when_the_jimu_does_not_hold_it() -> None:
    no_sex = default_settings(sex=False)
    rows = [{"atena_no": "A01", "juki": STRANGER}, {"atena_no": "A09", "biz": {**STRANGER, "sex": None}}]
    by_atena = {r["atena_no"]: r for r in run(rows, no_sex)}
    assert by_atena["A01"]["likely_owner"] == "A09"


def test_every_case_gets_a_cause_in_a_mixed_file() -> None:
    rows = [row for _, row, *_ in CAUSE_CASES]
    out = run([{**r, "atena_no": f"A{i:05d}"} for i, r in enumerate(rows)])
    cases = [r for r in out if r["grade"] != "A"]
    assert cases and all(r["likely_cause"] and 1 <= r["priority"] <= 6 for r in cases)
