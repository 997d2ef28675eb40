"""漢字氏名 and カナ氏名: the 異体字 table, the MJ縮退マップ loader and the name tolerances.

The 異体字 table must fold what is the same character (髙/高 …, the issue's list) and never
what is a different one (斎/斉 and the over-merges of published tables, domain-facts §5), so
both directions are pinned. An agency's MJ縮退マップ is read in its real format (a JSON
keyed by MJ文字図形名, plus the MJ文字情報一覧表 that says which character each name is).
"""

import json
from pathlib import Path

import polars as pl
import pytest

from demo.vocab import TYPO_PAIRS
from pipelines.files.jis import jis0208_chars
from pipelines.matching.itaiji import ItaijiFileError, builtin_itaiji, load_itaiji, read_mj_shrink_map
from pipelines.matching.normalize import name_forms, whole
from pipelines.matching.settings import MatchSettings
from pipelines.matching.testing import judge, run
from schemas.config import JimuSpec, MatchingOptions

V, E, D, N = "表記ゆれ一致", "一致", "不一致", "比較不能"

MUST_FOLD = [
    # the list, then common 旧字体 in names
    ("髙", "高"),
    ("﨑", "崎"),
    ("邊", "辺"),
    ("邉", "辺"),
    ("邊", "邉"),
    ("澤", "沢"),
    ("濱", "浜"),
    ("齋", "斎"),
    ("廣", "広"),
    ("櫻", "桜"),
    ("嶋", "島"),
    ("嶌", "島"),
    ("濵", "浜"),
    ("𠮷", "吉"),
    ("國", "国"),
    ("眞", "真"),
    ("德", "徳"),
    ("惠", "恵"),
    ("實", "実"),
    ("龍", "竜"),
    ("瀨", "瀬"),
    ("黑", "黒"),
    ("榮", "栄"),
    ("藏", "蔵"),
]
MUST_STAY_APART = [
    # different characters: 斎藤 and 斉藤 are different names; the rest are the over-merges
    # of ja-itaiji and abr-geocoder's tables (domain-facts §5.2)
    ("斎", "斉"),
    ("齋", "齊"),
    ("斎", "齊"),
    ("齋", "斉"),
    ("崎", "埼"),
    ("崎", "碕"),
    ("藤", "籐"),
    ("吉", "桔"),
    ("澤", "途"),
    ("濱", "頻"),
    ("国", "囗"),
    ("萩", "荻"),
    ("磐", "盤"),
    ("秦", "奏"),
    ("埴", "植"),
    ("樟", "楠"),
    ("冶", "治"),
    ("曾", "会"),
    ("渡", "度"),
    ("太", "大"),
    ("島", "鳥"),
    ("沢", "択"),
]


def fold(text: str) -> str:
    forms = name_forms(pl.Series([text]), load_itaiji(None))
    return forms.select(whole(pl.col("parts"))).item()


@pytest.mark.parametrize(("a", "b"), MUST_FOLD)
def test_same_character_folds(a, b) -> None:
    assert fold(a) == fold(b)


@pytest.mark.parametrize(("a", "b"), MUST_STAY_APART)
def test_different_characters_stay_apart(a, b) -> None:
    assert fold(a) != fold(b)


def test_builtin_table_is_well_formed() -> None:
    table = builtin_itaiji()
    jis = jis0208_chars()
    assert len(table) > 250
    for variant, standard in table.items():
        assert len(variant) == 1 and len(standard) == 1 and variant != standard, variant
        assert standard in jis, f"{variant}→{standard}: the standard form must meet 住基ネット's repertoire"
        assert standard not in table, f"{variant}→{standard}→{table.get(standard)}: chains belong resolved"


def test_a_keying_slip_of_the_generator_is_never_a_variant() -> None:
    for typed, slip in TYPO_PAIRS.items():
        assert fold(typed) != fold(slip), (typed, slip)


NAME_CASES = [
    # (description, business 氏名, 住基 氏名, judgement)
    ("variation selector (IVS) ignored", "葛\U000e0100城　茂", "葛城　茂", V),
    ("compatibility ideograph (神 U+FA19)", "\ufa19田　茂", "神田　茂", V),
    ("user-defined 外字 on the business side meets 〓", "\ue000田　茂", "〓田　茂", V),
    ("user-defined 外字 is a wildcard against the real character", "\ue000田　茂", "吉田　茂", V),
    ("full-width letters of a foreign name", "ＳＭＩＴＨ　ＪＯＨＮ", "SMITH JOHN", V),
    ("a name of 外字 alone never matches by wildcard", "髙﨑", "〓〓", D),
    ("斉藤 is not 斎藤 even after folding", "斉藤　茂", "斎藤　茂", D),
    ("a different 名", "山田　次郎", "山田　太郎", D),
    ("blank on the 住基 side", "山田　太郎", None, N),
    ("blank on both sides", None, None, N),
]


@pytest.mark.parametrize(("description", "biz", "juki", "expected"), NAME_CASES)
def test_name_judgements(description, biz, juki, expected) -> None:
    assert judge(biz={"name": biz}, juki={"name": juki})["judgement_name"] == expected, description


KANA_CASES = [
    # (description, business カナ, 住基 カナ, small kana is a variant, judgement)
    ("middle dot between 姓 and 名", "ヤマダ・タロウ", "ヤマダ　タロウ", True, V),
    ("separate voiced mark (゛)", "ヤマタ゛　タロウ", "ヤマダ　タロウ", True, V),
    ("half-width with voiced mark", "ﾔﾏﾀﾞﾀﾛｳ", "ヤマダ　タロウ", True, V),
    ("dash as long vowel", "オ-ノ", "オーノ", True, V),
    ("small kana written large, setting on", "キヨウコ", "キョウコ", True, V),
    ("small kana written large, setting off", "キヨウコ", "キョウコ", False, D),
    ("small ッ written large, setting off", "ハツトリ", "ハットリ", False, D),
    ("long vowel is not a vowel (オーノ/オオノ)", "オオノ", "オーノ", True, D),
    ("ジ and ヂ fold to シ and チ, still different", "ヂロウ", "ジロウ", True, D),
    ("blank in the business data", None, "ヤマダ　タロウ", True, N),
]


@pytest.mark.parametrize(("description", "biz", "juki", "small", "expected"), KANA_CASES)
def test_kana_judgements(description, biz, juki, small, expected) -> None:
    settings = MatchSettings.build("t", JimuSpec(name="t"), MatchingOptions(small_kana_is_variant=small))
    row = run([{"biz": {"kana": biz}, "juki": {"kana": juki}}], settings)[0]
    assert row["judgement_kana"] == expected, description


# ---- MJ縮退マップ ---------------------------------------------------------------------


def _mj_files(tmp_path: Path, entries: list[dict], names: dict[str, str]) -> tuple[Path, Path]:
    shrink = tmp_path / "MJShrinkMap.1.2.0.json"
    shrink.write_text(json.dumps({"meta": {"version": "1.2.0"}, "content": entries}, ensure_ascii=False))
    mj_list = tmp_path / "mji.csv"
    rows = "\n".join(f"{name},U+{ord(char):04X}" for name, char in names.items())
    mj_list.write_text("MJ文字図形名,対応するUCS\n" + rows + "\n", encoding="utf-8")
    return shrink, mj_list


def _ucs(char: str) -> str:
    return f"U+{ord(char):04X}"


MJ_ENTRIES = [
    # 龝 → 秋 by 法務省告示582号別表第四 (a JIS level-2 old form the built-in table lacks)
    {
        "MJ文字図形名": "MJ000001",
        "法務省告示582号別表第四": [{"表": "第1", "順位": "1", "UCS": _ucs("秋"), "JIS X 0213": "1-29-3"}],
    },
    # 祗 → 祇 only by 読み・字形による類推: a different character, ignored
    {"MJ文字図形名": "MJ000002", "読み・字形による類推": [{"UCS": _ucs("祇"), "JIS X 0213": "1-21-33"}]},
    # 籐 → 藤 marked 別字 in the 戸籍 notices: ignored
    {
        "MJ文字図形名": "MJ000003",
        "法務省戸籍法関連通達・通知": [{"種別": "誤字俗字", "付記": "別字", "UCS": _ucs("藤")}],
    },
    # two candidates: ambiguous, ignored
    {
        "MJ文字図形名": "MJ000004",
        "JIS包摂規準・UCS統合規則": [{"UCS": _ucs("亀")}],
        "法務省告示582号別表第四": [{"UCS": _ucs("鬼")}],
    },
    # one JIS level-1 character onto another: left to the curated table
    {"MJ文字図形名": "MJ000005", "法務省戸籍法関連通達・通知": [{"種別": "俗字", "UCS": _ucs("斉")}]},
]
MJ_NAMES = {"MJ000001": "龝", "MJ000002": "祗", "MJ000003": "籐", "MJ000004": "龜", "MJ000005": "斎"}


def test_mj_shrink_map_takes_only_unambiguous_same_character_rules(tmp_path) -> None:
    shrink, mj_list = _mj_files(tmp_path, MJ_ENTRIES, MJ_NAMES)
    assert read_mj_shrink_map(shrink, str(mj_list)) == {"龝": "秋"}


def test_mj_shrink_map_changes_the_judgement_and_the_settings_digest(tmp_path) -> None:
    shrink, mj_list = _mj_files(tmp_path, MJ_ENTRIES, MJ_NAMES)
    spec = JimuSpec(name="t")
    plain = MatchSettings.build("t", spec, MatchingOptions())
    with_map = MatchSettings.build(
        "t", spec, MatchingOptions(itaiji_map_file=str(shrink), mj_list_file=str(mj_list))
    )
    rows = [{"biz": {"name": "龝山　茂"}, "juki": {"name": "秋山　茂"}}]
    assert run(rows, plain)[0]["judgement_name"] == D
    assert run(rows, with_map)[0]["judgement_name"] == V
    assert plain.digest() != with_map.digest()
    # the curated decisions still hold with the agency's map loaded
    assert (
        run([{"biz": {"name": "斎藤　茂"}, "juki": {"name": "斉藤　茂"}}], with_map)[0]["judgement_name"] == D
    )


def test_mj_list_may_be_an_excel_file(tmp_path) -> None:
    shrink, _ = _mj_files(tmp_path, MJ_ENTRIES, MJ_NAMES)
    xlsx = tmp_path / "mji.xlsx"
    pl.DataFrame(
        {"MJ文字図形名": list(MJ_NAMES), "対応するUCS": [_ucs(c) for c in MJ_NAMES.values()]}
    ).write_excel(xlsx)
    assert read_mj_shrink_map(shrink, str(xlsx)) == {"龝": "秋"}


def test_mj_shrink_map_without_the_mj_list_is_refused_with_a_reason(tmp_path) -> None:
    shrink, _ = _mj_files(tmp_path, MJ_ENTRIES, MJ_NAMES)
    with pytest.raises(ItaijiFileError, match="MJ文字情報一覧表"):
        load_itaiji(str(shrink), None)


def test_agency_csv_adds_one_to_one_rows_only(tmp_path) -> None:
    csv_file = tmp_path / "itaiji.csv"
    csv_file.write_text("元の文字,縮退後の文字\n龝,秋\n鬮,\n麿,麻呂\n", encoding="utf-8")
    table = load_itaiji(str(csv_file))
    assert table["龝"] == "秋" and "鬮" not in table and "麿" not in table
    assert table["髙"] == "高"  # the built-in table is still there
