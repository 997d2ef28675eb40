"""What staff type into a returned F5 (issue 11, classes 2 and 5), through the real import.

A 個人番号 in any grouping is refused in every free-text and name cell (it would otherwise
stay for ever in the append-only audit trail); 担当者 and 確認者 are compared as people, so
a zero-width space, letter case, width or an 異体字 does not make a second person. The
unit tables in tests/unit/test_privacy.py cover every writing; these run a few of them end
to end, in each kind of cell, and check what must still be accepted.
"""

from pathlib import Path

import pytest

from pipelines.cases.importer import import_workbook
from pipelines.checkdigit import with_my_number_check_digit
from tests.cases.factory import Sheet, export
from tests.cases.test_import import B2, OWN, refused, seeded  # noqa: F401 - fixture

NUMBER = with_my_number_check_digit("98765432109")
G = (NUMBER[:4], NUMBER[4:8], NUMBER[8:])
STARTED = {"状態": "確認中", "確認方法": "電話"}

REFUSED = [
    ("number in 担当者 with dots", {**STARTED, "担当者": ".".join(G)}, {"CASE_MYNUMBER_IN_TEXT"}),
    (
        "number in 確認者, full width",
        {**OWN, "確認者": "１２３４　５６７８　９０１８"},
        {"CASE_MYNUMBER_IN_TEXT"},
    ),
    (
        "number in 是正内容, parentheses",
        {**OWN, "是正内容": f"({G[0]}){G[1]}-{G[2]}", "是正日": OWN["確認日"]},
        {"CASE_MYNUMBER_IN_TEXT"},
    ),
    (
        "number in 備考, minus signs",
        {**STARTED, "担当者": "山田", "備考": "\u2212".join(G)},
        {"CASE_MYNUMBER_IN_TEXT"},
    ),
    (
        "number in 備考, long vowel marks",
        {**STARTED, "担当者": "山田", "備考": "ー".join(G)},
        {"CASE_MYNUMBER_IN_TEXT"},
    ),
    (
        "zero-width space in 確認者",
        {**OWN, "確認者": "山\u200b田"},
        {"CASE_NAME_CHARACTERS", "CASE_REVIEWER_SAME"},
    ),
    (
        "zero-width space in 担当者",
        {**OWN, "担当者": "佐\u200b藤"},
        {"CASE_NAME_CHARACTERS", "CASE_REVIEWER_SAME"},
    ),
    ("letter case", {**OWN, "担当者": "Yamada", "確認者": "yamada"}, {"CASE_REVIEWER_SAME"}),
    ("full-width letters", {**OWN, "担当者": "Yamada", "確認者": "ＹＡＭＡＤＡ"}, {"CASE_REVIEWER_SAME"}),
    ("異体字", {**OWN, "担当者": "高橋", "確認者": "髙橋"}, {"CASE_REVIEWER_SAME"}),
    ("half-width kana", {**OWN, "担当者": "ヤマダ", "確認者": "ﾔﾏﾀﾞ"}, {"CASE_REVIEWER_SAME"}),
    ("hiragana", {**OWN, "担当者": "ヤマダ", "確認者": "やまだ"}, {"CASE_REVIEWER_SAME"}),
    (
        "spaces of any width",
        {**OWN, "担当者": "山田 太郎", "確認者": "山田\u3000\u3000太郎"},
        {"CASE_REVIEWER_SAME"},
    ),
]

ACCEPTED = [
    ("two people", {**OWN}),
    ("an address and a time in 備考", {**OWN, "備考": "高知市本町1-2-3 101号室、2026/11/02 10:30 電話"}),
    ("a phone number in 備考", {**OWN, "備考": "本人へ 088-822-1234（携帯 090-1234-5678）"}),
    ("different people with similar names", {**OWN, "担当者": "斎藤", "確認者": "斉藤"}),
]


@pytest.mark.parametrize(("what", "cells", "codes"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused(seeded, tmp_path: Path, what: str, cells: dict, codes: set[str]) -> None:  # noqa: F811
    sheet = Sheet(export(seeded, tmp_path / "f5.xlsx"))
    sheet.fill(B2, **cells)
    messages = refused(seeded, sheet.save())
    assert {m.rsplit("[", 1)[1].rstrip("]") for m in messages} == codes
    assert all(NUMBER[:8] not in m for m in messages)
    report = (tmp_path / "f5_取込結果.csv").read_bytes().decode("cp932")
    assert NUMBER[:8] not in report.replace("-", "").replace(".", "")


@pytest.mark.parametrize(("what", "cells"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_accepted(seeded, tmp_path: Path, what: str, cells: dict) -> None:  # noqa: F811
    sheet = Sheet(export(seeded, tmp_path / "f5.xlsx"))
    sheet.fill(B2, **cells)
    assert import_workbook(seeded, sheet.save()).applied == 1
