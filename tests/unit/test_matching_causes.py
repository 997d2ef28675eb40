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

# what a case is about: positive (the cause applies), negative (a near miss that must not
# get it) or blank (a field missing on one side, the cause still decided or rightly not)
POS, NEG, BLANK = "positive", "negative", "blank"
BLANK_4 = {k: None for k in ("name", "kana", "birth_date", "sex", "address")}

CAUSE_CASES = [
    # (about, what, description, row, others, cause code, priority, label contains)
    # 双子
    ("twin", POS, "same 姓, birth date and address, another 名", {"juki": TWIN}, None, "twin", 1, "双子"),
    (
        "twin",
        NEG,
        "birth date differs: family, not a twin",
        {"juki": {**TWIN, "birth_date": date(1973, 5, 5)}},
        None,
        "family",
        1,
        "家族",
    ),
    (
        "twin",
        NEG,
        "the 名 is one slip away and no kana: a typo",
        {"biz": {"kana": None}, "juki": {"name": "山田　大郎", "kana": None}},
        None,
        "typo",
        6,
        "氏名の1文字",
    ),
    (
        "twin",
        BLANK,
        "kana not recorded in 住基ネット, the 名 plainly another",
        {"juki": {**TWIN, "name": "山田　健一", "kana": None}},
        None,
        "twin",
        1,
        "双子",
    ),
    (
        "twin",
        BLANK,
        "sex blank in the business data",
        {"biz": {"sex": None}, "juki": TWIN},
        None,
        "twin",
        1,
        "双子",
    ),
    # 家族
    (
        "family",
        POS,
        "same 姓 and address, another 名 and birth date",
        {"juki": SPOUSE},
        None,
        "family",
        1,
        "家族",
    ),
    (
        "family",
        POS,
        "living elsewhere, but in the extract",
        {"juki": {**SPOUSE, "address": ELSEWHERE}},
        [{"atena_no": "A09", **SPOUSE, "address": ELSEWHERE}],
        "family",
        1,
        "家族",
    ),
    (
        "family",
        NEG,
        "another 姓, nobody in the extract",
        {"juki": {**SPOUSE, "name": "佐藤　花子", "kana": "サトウ　ハナコ"}},
        None,
        "unidentified_c",
        2,
        "別人の可能性",
    ),
    (
        "family",
        NEG,
        "same 姓 elsewhere, not in the extract",
        {"juki": {**SPOUSE, "address": ELSEWHERE}},
        None,
        "unidentified_c",
        2,
        "別人の可能性",
    ),
    (
        "family",
        BLANK,
        "kana not recorded in 住基ネット",
        {"juki": {**SPOUSE, "kana": None}},
        None,
        "family",
        1,
        "家族",
    ),
    (
        "family",
        BLANK,
        "registry address blank, the person is in the extract",
        {"juki": {**SPOUSE, "address": None}},
        [{"atena_no": "A09", **SPOUSE}],
        "family",
        1,
        "家族",
    ),
    (
        "family",
        BLANK,
        "business address blank and nobody in the extract: cannot tell",
        {"biz": {"address": None}, "juki": SPOUSE},
        None,
        "unidentified_c",
        2,
        "別人の可能性",
    ),
    # 取り違え (another row of the extract)
    (
        "other_person",
        POS,
        "the registry person is another row",
        {"juki": STRANGER},
        [{"atena_no": "A09", **STRANGER}],
        "other_person",
        1,
        "取り違え",
    ),
    (
        "other_person",
        POS,
        "found by kana when the name has 外字",
        {"juki": {**STRANGER, "name": "〓藤　一郎"}},
        [{"atena_no": "A09", **STRANGER, "name": "𠮷藤　一郎"}],
        "other_person",
        1,
        "取り違え",
    ),
    (
        "other_person",
        NEG,
        "no owner when the birth date differs",
        {"juki": STRANGER},
        [{"atena_no": "A09", **STRANGER, "birth_date": date(1980, 1, 2)}],
        "unidentified_c",
        2,
        "別人の可能性",
    ),
    (
        "other_person",
        NEG,
        "no owner when the sex differs (事務 holds 性別)",
        {"juki": STRANGER},
        [{"atena_no": "A09", **STRANGER, "sex": "2"}],
        "unidentified_c",
        2,
        "別人の可能性",
    ),
    (
        "other_person",
        BLANK,
        "registry kana blank: found by the 漢字氏名",
        {"juki": {**STRANGER, "kana": None}},
        [{"atena_no": "A09", **STRANGER}],
        "other_person",
        1,
        "取り違え",
    ),
    (
        "other_person",
        BLANK,
        "registry address blank: the owner need not live there",
        {"juki": {**STRANGER, "address": None}},
        [{"atena_no": "A09", **STRANGER}],
        "other_person",
        1,
        "取り違え",
    ),
    # 同姓同名の別人
    (
        "namesake",
        POS,
        "same name, another birth date and address",
        {"juki": {"birth_date": date(1950, 5, 5), "address": ELSEWHERE}},
        None,
        "namesake",
        2,
        "同姓同名",
    ),
    (
        "namesake",
        NEG,
        "one digit of the birth date at the same address: a typo",
        {"juki": {"birth_date": date(1970, 12, 14)}},
        None,
        "typo",
        6,
        "生年月日の1桁",
    ),
    (
        "namesake",
        BLANK,
        "kana missing in 住基ネット",
        {"juki": {"birth_date": date(1950, 5, 5), "kana": None}},
        None,
        "namesake",
        2,
        "同姓同名",
    ),
    (
        "namesake",
        BLANK,
        "registry address blank",
        {"juki": {"birth_date": date(1950, 5, 5), "address": None}},
        None,
        "namesake",
        2,
        "同姓同名",
    ),
    # 処理結果
    (
        "not_found",
        POS,
        "処理結果 10",
        {"result_code": "10", "juki": BLANK_4},
        None,
        "not_found",
        3,
        "該当なし",
    ),
    (
        "not_found",
        NEG,
        "処理結果 20 is 消除者, not 該当なし",
        {"result_code": "20", "move_reason": "死亡"},
        None,
        "deleted",
        3,
        "消除者（死亡）",
    ),
    (
        "not_found",
        BLANK,
        "処理結果 10 with the 4情報 sent back anyway",
        {"result_code": "10"},
        None,
        "not_found",
        3,
        "該当なし",
    ),
    (
        "deleted",
        POS,
        "処理結果 20 with 異動事由",
        {"result_code": "20", "move_reason": "死亡"},
        None,
        "deleted",
        3,
        "消除者（死亡）",
    ),
    (
        "deleted",
        NEG,
        "a deleted family member is family first",
        {"result_code": "20", "move_reason": "死亡", "juki": SPOUSE},
        None,
        "family",
        1,
        "家族",
    ),
    ("deleted", BLANK, "no 異動事由", {"result_code": "20"}, None, "deleted", 3, "消除者"),
    (
        "deleted",
        BLANK,
        "異動事由 sent as an empty field",
        {"result_code": "20", "move_reason": ""},
        None,
        "deleted",
        3,
        "消除者",
    ),
    ("inquiry_error", POS, "処理結果 90", {"result_code": "90"}, None, "inquiry_error", 4, "照会エラー"),
    ("inquiry_error", NEG, "処理結果 00 of the same person is A (no cause)", {}, None, None, 9, None),
    (
        "inquiry_error",
        BLANK,
        "処理結果 90 with nothing sent back",
        {"result_code": "90", "juki": BLANK_4},
        None,
        "inquiry_error",
        4,
        "照会エラー",
    ),
    # 改姓
    (
        "rename",
        POS,
        "same 名 and birth date, another 姓",
        {"biz": {"name": "佐藤　太郎", "kana": "サトウ　タロウ"}},
        None,
        "rename",
        5,
        "改姓",
    ),
    (
        "rename",
        POS,
        "no space on the business side",
        {"biz": {"name": "佐藤太郎", "kana": "サトウタロウ"}},
        None,
        "rename",
        5,
        "改姓",
    ),
    (
        "rename",
        NEG,
        "the birth date differs too",
        {"biz": {"name": "佐藤　太郎", "kana": "サトウ　タロウ", "birth_date": date(1960, 1, 1)}},
        None,
        "unidentified_c",
        2,
        "別人の可能性",
    ),
    (
        "rename",
        NEG,
        "the sex differs too",
        {"biz": {"name": "佐藤　太郎", "kana": "サトウ　タロウ", "sex": "2"}},
        None,
        "unidentified_c",
        2,
        "別人の可能性",
    ),
    (
        "rename",
        BLANK,
        "kana not recorded in 住基ネット",
        {"biz": {"name": "佐藤　太郎", "kana": "サトウ　タロウ"}, "juki": {"kana": None}},
        None,
        "rename",
        5,
        "改姓",
    ),
    (
        "rename",
        BLANK,
        "sex blank in the business data",
        {"biz": {"name": "佐藤　太郎", "kana": "サトウ　タロウ", "sex": None}},
        None,
        "rename",
        5,
        "改姓",
    ),
    # 転居未届
    (
        "moved_municipality",
        POS,
        "another 市区町村",
        {"biz": {"address": ELSEWHERE}},
        None,
        "moved_municipality",
        5,
        "市区町村",
    ),
    (
        "moved_municipality",
        NEG,
        "another birth date is a namesake",
        {"biz": {"address": ELSEWHERE, "birth_date": date(1950, 5, 5)}},
        None,
        "namesake",
        2,
        "同姓同名",
    ),
    (
        "moved_municipality",
        BLANK,
        "kana not recorded in 住基ネット",
        {"biz": {"address": ELSEWHERE}, "juki": {"kana": None}},
        None,
        "moved_municipality",
        5,
        "市区町村",
    ),
    (
        "moved_municipality",
        BLANK,
        "registry address blank: not a move, a blank",
        {"juki": {"address": None}},
        None,
        "blank_field",
        5,
        "市区町村未登録（住基）",
    ),
    (
        "moved_town",
        POS,
        "another 町字 of the same 市区町村",
        {"biz": {"address": "高知県高知市旭町1-1-1"}},
        None,
        "moved_town",
        6,
        "町字等",
    ),
    (
        "moved_town",
        NEG,
        "a namesake born the same day elsewhere is no owner",
        {"biz": {"address": "高知県高知市旭町1-1-1"}},
        [{"atena_no": "A09", "address": ELSEWHERE}],
        "moved_town",
        6,
        "町字等",
    ),
    (
        "moved_town",
        NEG,
        "the 名 differs too: not the same person",
        {"biz": {"address": "高知県高知市旭町1-1-1", "name": "山田　健一", "kana": "ヤマダ　ケンイチ"}},
        None,
        "unidentified_c",
        2,
        "別人の可能性",
    ),
    (
        "moved_town",
        BLANK,
        "kana not recorded in 住基ネット",
        {"biz": {"address": "高知県高知市旭町1-1-1"}, "juki": {"kana": None}},
        None,
        "moved_town",
        6,
        "町字等",
    ),
    # カナ未登録
    (
        "kana_unregistered",
        POS,
        "kana not recorded in 住基ネット",
        {"juki": {"kana": None}},
        None,
        "kana_unregistered",
        5,
        "住基ネット",
    ),
    (
        "kana_unregistered",
        NEG,
        "the name differs too",
        {"juki": {"kana": None, "name": "山田　次郎", "birth_date": date(1971, 1, 1)}},
        None,
        "family",
        1,
        "家族",
    ),
    (
        "kana_unregistered",
        BLANK,
        "kana blank on both sides",
        {"biz": {"kana": None}, "juki": {"kana": None}},
        None,
        "kana_unregistered",
        5,
        "住基ネット",
    ),
    (
        "kana_blank_business",
        POS,
        "kana missing in the business data",
        {"biz": {"kana": None}},
        None,
        "kana_blank_business",
        5,
        "業務データ",
    ),
    (
        "kana_blank_business",
        NEG,
        "the birth date differs too: a namesake",
        {"biz": {"kana": None, "birth_date": date(1950, 5, 5)}},
        None,
        "namesake",
        2,
        "同姓同名",
    ),
    (
        "kana_blank_business",
        BLANK,
        "registry address blank as well",
        {"biz": {"kana": None}, "juki": {"address": None}},
        None,
        "kana_blank_business",
        5,
        "業務データ",
    ),
    # 入力誤り
    ("typo", POS, "one 漢字 of the name", {"biz": {"name": "山田　大郎"}}, None, "typo", 6, "氏名の1文字"),
    ("typo", POS, "one extra character", {"biz": {"name": "山田　太郎々"}}, None, "typo", 6, "氏名の1文字"),
    ("typo", POS, "one kana", {"biz": {"kana": "ヤマダ　タロオ"}}, None, "typo", 6, "カナの1文字"),
    (
        "typo",
        POS,
        "one digit of the birth date",
        {"biz": {"birth_date": date(1970, 12, 14)}},
        None,
        "typo",
        6,
        "生年月日の1桁",
    ),
    ("typo", NEG, "two characters", {"biz": {"name": "山田　大朗"}}, None, "unidentified_b", 6, "表記の違い"),
    (
        "typo",
        NEG,
        "one kana, but another birth date",
        {"biz": {"kana": "ヤマダ　タロオ", "birth_date": date(1960, 1, 1)}},
        None,
        "unidentified_c",
        2,
        "別人の可能性",
    ),
    (
        "typo",
        BLANK,
        "one 漢字, kana missing in the business data",
        {"biz": {"name": "山田　大郎", "kana": None}},
        None,
        "typo",
        6,
        "氏名の1文字",
    ),
    (
        "typo",
        BLANK,
        "one digit of the birth date, kana not in 住基ネット",
        {"biz": {"birth_date": date(1970, 12, 14)}, "juki": {"kana": None}},
        None,
        "typo",
        6,
        "生年月日の1桁",
    ),
    # 未登録
    (
        "blank_field",
        POS,
        "address never entered in the business data",
        {"biz": {"address": None}},
        None,
        "blank_field",
        5,
        "市区町村未登録（業務）",
    ),
    (
        "blank_field",
        POS,
        "sex blank in the business data",
        {"biz": {"sex": None}},
        None,
        "blank_field",
        5,
        "性別未登録（業務）",
    ),
    (
        "blank_field",
        NEG,
        "address blank, but another birth date: a namesake",
        {"biz": {"address": None, "birth_date": date(1950, 5, 5)}},
        None,
        "namesake",
        2,
        "同姓同名",
    ),
    (
        "blank_field",
        BLANK,
        "address blank on both sides",
        {"biz": {"address": None}, "juki": {"address": None}},
        None,
        "blank_field",
        5,
        "市区町村未登録（両方）",
    ),
    # 番号重複
    (
        "duplicate_number",
        POS,
        "shared number and nothing else to say",
        {"biz": {"name": "山田　大朗"}, "number_shared_by": "A00002"},
        None,
        "duplicate_number",
        1,
        "番号重複",
    ),
    (
        "duplicate_number",
        POS,
        "added to the cause the data shows",
        {"biz": {"address": "高知県高知市旭町1-1-1"}, "number_shared_by": "A00002"},
        None,
        "moved_town",
        1,
        "町字等が異なる）・番号重複",
    ),
    (
        "duplicate_number",
        NEG,
        "the same difference, the number held once",
        {"biz": {"name": "山田　大朗"}},
        None,
        "unidentified_b",
        6,
        "表記の違い",
    ),
    (
        "duplicate_number",
        BLANK,
        "shared number of a 該当なし",
        {"result_code": "10", "number_shared_by": "A00002"},
        None,
        "not_found",
        1,
        "該当なし（存在しない個人番号）・番号重複",
    ),
    (
        "duplicate_number",
        BLANK,
        "shared number, kana not in 住基ネット",
        {"juki": {"kana": None}, "number_shared_by": "A00002"},
        None,
        "kana_unregistered",
        1,
        "・番号重複",
    ),
    # fallbacks
    (
        "unidentified_c",
        POS,
        "a different person nobody can place",
        {"juki": {**STRANGER, "name": "鈴木　京子", "kana": "スズキ　キョウコ"}},
        None,
        "unidentified_c",
        2,
        "別人の可能性",
    ),
    (
        "unidentified_b",
        POS,
        "a B with no explanation",
        {"biz": {"name": "山田　大朗"}},
        None,
        "unidentified_b",
        6,
        "表記の違い",
    ),
]

#: the causes the issue lists, each with a positive, a negative and a blank case above
LISTED_CAUSES = (
    "duplicate_number",
    "family",
    "twin",
    "namesake",
    "not_found",
    "deleted",
    "rename",
    "moved_municipality",
    "moved_town",
    "kana_unregistered",
    "kana_blank_business",
    "typo",
    "other_person",
    "inquiry_error",
    "blank_field",
)


@pytest.mark.parametrize(
    ("about", "what", "description", "row", "others", "code", "priority", "label"),
    CAUSE_CASES,
    ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CAUSE_CASES],
)
def test_causes(about, what, description, row, others, code, priority, label) -> None:
    out = judge(**row, others=others)
    if code is None:
        assert (out["grade"], out["likely_cause"], out["priority"]) == ("A", None, priority), description
        return
    assert out["grade"] in ("B", "C"), description
    assert out["likely_cause_code"] == code, (description, out["likely_cause"])
    assert out["priority"] == priority, description
    assert label in out["likely_cause"], out["likely_cause"]


def test_every_listed_cause_has_positive_negative_and_blank_cases() -> None:
    covered = {(about, what) for about, what, *_ in CAUSE_CASES}
    missing = [(c, w) for c in LISTED_CAUSES for w in (POS, NEG, BLANK) if (c, w) not in covered]
    assert missing == []
    # and each positive case really produces the cause it is about
    for about, what, description, *_, code, _priority, _label in CAUSE_CASES:
        if what == POS and about not in ("duplicate_number",):
            assert code == about, description


def test_a_blank_detail_gives_the_bare_label() -> None:
    assert judge(result_code="20", move_reason="")["likely_cause"] == "消除者"
    assert judge(result_code="20")["likely_cause"] == "消除者"


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
    rows = [row for _, _, _, row, *_ in CAUSE_CASES]
    out = run([{**r, "atena_no": f"A{i:05d}"} for i, r in enumerate(rows)])
    cases = [r for r in out if r["grade"] != "A"]
    assert cases and all(r["likely_cause"] and 1 <= r["priority"] <= 6 for r in cases)
