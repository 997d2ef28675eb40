"""Real-world notation (issue 14): each class of variant, as pairs that must agree and pairs
that must stay apart, and how strong an agreement was.

Where a pair is quoted from a public source it says so: ``geolonia`` is the test suite of
geolonia/normalize-japanese-addresses (MIT, test/main.test.ts at e6cc34f6, 2024-09-17);
``常用漢字表`` is the 2010 table's 康熙字典体 (via mimneko/kanji-data, CC0); ``別表第二`` is
戸籍法施行規則 別表第二 二. The others are the issue's own examples of a class.
``benchmarks/real_variants.py`` runs the whole corpus.
"""

import polars as pl
import pytest

from pipelines.matching.address import parse_addresses
from pipelines.matching.comparisons import PREFIX_ONLY
from pipelines.matching.itaiji import builtin_itaiji, distinct_pairs, load_itaiji
from pipelines.matching.normalize import name_forms
from pipelines.matching.settings import MatchSettings
from pipelines.matching.testing import judge, run
from schemas.config import JimuSpec, MatchingOptions

E, V, D = "一致", "表記ゆれ一致", "不一致"

SAME_ADDRESS = [
    # (class, business side, 住基 side)
    ("ノ between numbers", "高知県高知市本町1ノ3", "高知県高知市本町1-3"),
    ("half-width ﾉ and 壱", "高知県高知市本町壱ﾉ３", "高知県高知市本町1-3"),
    ("ノ between 番地 and 号", "高知県高知市本町一丁目1ノ1", "高知県高知市本町一丁目1番1号"),
    (
        "ノ after a number in the 町字 (geolonia)",
        "新潟県新潟市中央区礎町通１ノ町１９６８−１",
        "新潟県新潟市中央区礎町通一ノ町1968-1",
    ),
    (
        "の after a number in the 町字 (geolonia)",
        "新潟県新潟市中央区礎町通１の町１９６８の１",
        "新潟県新潟市中央区礎町通一ノ町1968-1",
    ),
    ("dash U+2010", "高知県高知市本町1‐3", "高知県高知市本町1-3"),
    ("dash U+2011", "高知県高知市本町1‑3", "高知県高知市本町1-3"),
    ("en dash", "高知県高知市本町1–3", "高知県高知市本町1-3"),
    ("em dash", "高知県高知市本町1—3", "高知県高知市本町1-3"),
    ("minus sign", "高知県高知市本町1−3", "高知県高知市本町1-3"),
    ("long vowel mark (geolonia)", "大阪府堺市北区新金岡町４丁１ー８", "大阪府堺市北区新金岡町四丁1-8"),
    ("half-width long vowel mark", "高知県高知市本町1ｰ3", "高知県高知市本町1-3"),
    (
        "檜/桧 in the 町字 (geolonia)",
        "北海道久遠郡せたな町北桧山区北桧山１９３",
        "北海道久遠郡せたな町北檜山区北檜山193",
    ),
    ("彌/弥 in the 町字 (geolonia)", "愛知県名古屋市瑞穂区弥富町", "愛知県名古屋市瑞穂区彌富町"),
    ("莵/菟 in the 町字 (geolonia)", "京都府宇治市莵道森本8−10", "京都府宇治市菟道森本8-10"),
    ("冝/宜 in the 町字 (geolonia)", "岡山県笠岡市大冝1249－1", "岡山県笠岡市大宜1249-1"),
    ("榮/栄 in the 町字 (geolonia)", "東京都新宿区三榮町１７－１６", "東京都新宿区三栄町17-16"),
    ("町目 for 丁目 (geolonia)", "埼玉県上尾市一町目１１１", "埼玉県上尾市大字壱丁目111"),
    ("壱町目 for 壱丁目 (geolonia)", "埼玉県上尾市壱町目１１１", "埼玉県上尾市大字壱丁目111"),
    ("丁め", "高知県高知市本町2丁め3-4", "高知県高知市本町二丁目3番4号"),
    ("の between a one-character 町字 and its number", "高知県高知市ハの74", "高知県高知市ハ74"),
    ("ノ between a one-character 町字 and its number", "高知県高知市ハノ74", "高知県高知市ハ74"),
    ("a building name glued after the number", "東京都港区芝2-1三田ビル", "東京都港区芝二丁目1番"),
    ("a building name starting with 八 after 番地", "高知県高知市本町1番地八幡荘", "高知県高知市本町1番地"),
    (
        "a building after 号 (geolonia)",
        "沖縄県那覇市小禄１丁目５番２３号１丁目マンション３０１",
        "沖縄県那覇市小禄一丁目5-23",
    ),
    (
        "a building named 番町 (geolonia)",
        "東京都千代田区三番町２番地４三番町ＫＳビル１０階",
        "東京都千代田区三番町2-4",
    ),
    (
        "Kyoto street notation (geolonia)",
        "京都府京都市中京区寺町通御池上る上本能寺前町488番地",
        "京都府京都市中京区上本能寺前町488",
    ),
    (
        "Kyoto street notation, two directions (geolonia)",
        "京都府京都市東山区大和大路通三条下る東入若松町393",
        "京都府京都市東山区若松町393",
    ),
    (
        "Kyoto street notation with 東入 after 通 (geolonia)",
        "京都府京都市中京区錦小路通大宮東入七軒町466",
        "京都府京都市中京区七軒町466",
    ),
    ("a room after 番地 and a space", "高知県高知市本町1番地 301号室", "高知県高知市本町1番地"),
    ("a 号棟 after 番地 and a space", "高知県高知市本町1番地 八号棟", "高知県高知市本町1番地"),
    ("a 号棟 glued after 番地", "高知県高知市本町1番地八号棟", "高知県高知市本町1番地"),
    ("﨑 (outside JIS X 0208) in the 都道府県 and 市区町村", "長﨑県長﨑市桜町2-22", "長崎県長崎市桜町2-22"),
    ("髙 in the 市区町村", "高知県髙知市本町1-1-1", "高知県高知市本町1-1-1"),
    ("half-width ｹ in the 町字", "大阪府堺市北区東三国ｹ丘町１丁１－１", "大阪府堺市北区東三国ヶ丘町一丁1-1"),
    ("巿 (U+5DFF) for 市 (geolonia)", "千葉県巿川巿巿川1丁目", "千葉県市川市市川一丁目"),
    (
        "ヶ/ケ in the 町字 (geolonia)",
        "大阪府堺市北区東三国ケ丘町１丁１－１",
        "大阪府堺市北区東三国ヶ丘町一丁1-1",
    ),
    ("が for ケ", "埼玉県鶴ヶ島市富士見1-2", "埼玉県鶴が島市富士見1-2"),
    (
        "a space after 丁目 (geolonia)",
        "神奈川県横浜市港北区綱島西２丁目　２５－１８",
        "神奈川県横浜市港北区綱島西二丁目25-18",
    ),
    ("町字 of kanji numerals and katakana", "千葉県松戸市三ケ月1210-1", "千葉県松戸市三ヶ月1210-1"),
    (
        "a town name that is a kanji numeral stays a name (geolonia)",
        "神奈川県川崎市多摩区東三田1-2-2",
        "神奈川県川崎市多摩区東三田一丁目2-2",
    ),
    (
        "十一番町 keeps its number (geolonia)",
        "新潟県新潟市中央区上大川前通11番町1881-2",
        "新潟県新潟市中央区上大川前通十一番町1881-2",
    ),
]

DIFFERENT_ADDRESS = [
    ("ノ between other numbers", "高知県高知市本町1ノ3", "高知県高知市本町1-4"),
    ("a long vowel mark between other numbers", "高知県高知市本町1ー3", "高知県高知市本町1-5"),
    ("町目 of another number", "埼玉県上尾市一町目１１１", "埼玉県上尾市二丁目111"),
    ("another 町字 that folds alike only in part", "岡山県笠岡市大宜1249-1", "岡山県笠岡市大宮1249-1"),
    ("another one-character 町字", "高知県高知市ハの74", "高知県高知市ロ74"),
    ("a number written after the 町字 is not a building", "高知県高知市本町2-1-3", "高知県高知市本町2-1"),
    ("三 after 番 followed by 号 is a number", "高知県高知市本町2番三号", "高知県高知市本町2番4号"),
    (
        "different lots in a 町字 of kanji numerals (addresses.csv)",
        "神奈川県横浜市瀬谷区三ツ境103-1",
        "神奈川県横浜市瀬谷区三ツ境107-5",
    ),
    ("different lots in 三ケ月 (addresses.csv)", "千葉県松戸市三ケ月1210-1", "千葉県松戸市三ケ月1256-1"),
    (
        "Kyoto street notation before another 町字",
        "京都府京都市中京区寺町通御池上る上本能寺前町488",
        "京都府京都市中京区下本能寺前町488",
    ),
    (
        "東入部 and 西入部 are 町字, not directions",
        "福岡県福岡市早良区東入部1-2",
        "福岡県福岡市早良区西入部1-2",
    ),
    (
        "Kyoto street notation after 通 before another 町字",
        "京都府京都市中京区錦小路通大宮東入七軒町466",
        "京都府京都市中京区八軒町466",
    ),
    ("町字 of a kanji numeral and another character", "東京都港区三田1-2-3", "東京都港区三原1-2-3"),
    ("巿 folded, but another 市", "千葉県巿川巿巿川1丁目", "千葉県市原市市川1丁目"),
]


def _equal(row: dict) -> bool:
    return row["judgement_municipality"] in (E, V) and row["judgement_town"] in (E, V)


@pytest.mark.parametrize(("kind", "biz", "juki"), SAME_ADDRESS)
def test_two_writings_of_the_same_address_agree_fully(kind, biz, juki) -> None:
    row = judge(biz={"address": biz}, juki={"address": juki})
    assert _equal(row), (kind, row["level_municipality"], row["level_town"])
    assert PREFIX_ONLY not in row["grade_reason"], kind  # not merely by the first 2 characters


@pytest.mark.parametrize(("kind", "biz", "juki"), DIFFERENT_ADDRESS)
def test_different_addresses_stay_apart(kind, biz, juki) -> None:
    row = judge(biz={"address": biz}, juki={"address": juki})
    assert not _equal(row), (kind, row["level_town"])


def test_a_lookalike_is_a_variant_not_the_same_writing() -> None:
    row = judge(biz={"address": "千葉県巿川巿巿川1丁目"}, juki={"address": "千葉県市川市市川1丁目"})
    assert (row["judgement_municipality"], row["judgement_town"]) == (V, V)
    row = judge(biz={"address": "長﨑県長﨑市桜町2-22"}, juki={"address": "長崎県長崎市桜町2-22"})
    assert row["judgement_municipality"] == V


def test_folding_the_whole_address_never_changes_an_official_name() -> None:
    from pipelines.matching.address import address_variants, municipalities

    whole = address_variants("whole")
    table = municipalities()
    for name in table.names | table.prefectures:
        assert not set(name) & set(whole), name


def test_a_glued_building_name_is_cut_and_a_number_is_not() -> None:
    parsed = parse_addresses(
        pl.Series(["東京都港区芝2-1三田ビル", "東京都港区芝2-1-3", "東京都港区芝2-1 3F"])
    )
    assert parsed["numbers"].to_list() == ["2-1", "2-1-3", "2-1"]


# ---- how strong a 町字 agreement was -----------------------------------------------------

PREFIX_PAIRS = [
    # the manual's tolerance joins these (the examples): 表記ゆれ一致, visibly
    ("高知県高知市大森中1-1", "高知県高知市大森東1-1"),
    ("高知県高知市本町通1-1-1", "高知県高知市本町一丁目1番1号"),
    ("高知県高知市新堀1-1", "高知県高知市新堀町1-1"),
]


@pytest.mark.parametrize(("biz", "juki"), PREFIX_PAIRS)
def test_agreement_by_the_first_2_characters_only_is_visible(biz, juki) -> None:
    row = judge(biz={"address": biz}, juki={"address": juki})
    assert row["judgement_town"] == V  # the contract's value; the grade follows the manual
    assert row["grade"] == "A"
    assert "前方2文字" in row["level_town"]
    assert row["grade_reason"] == f"表記ゆれ一致（町字等（{PREFIX_ONLY}））"


def test_a_real_notation_difference_does_not_say_first_2_characters() -> None:
    row = judge(biz={"address": "高知県高知市本町1-1-1"}, juki={"address": "高知県高知市本町一丁目1番1号"})
    assert row["grade_reason"] == "表記ゆれ一致（町字等）"


def test_the_strict_setting_compares_the_whole_town_name() -> None:
    spec = JimuSpec.model_validate({"name": "テスト", "holds": {}})
    strict = MatchSettings.build("t", spec, MatchingOptions(town_whole_name=True))
    rows = [{"biz": {"address": b}, "juki": {"address": j}} for b, j in PREFIX_PAIRS]
    rows.append(
        {"biz": {"address": "高知県高知市本町1-1-1"}, "juki": {"address": "高知県高知市本町一丁目1番1号"}}
    )
    got = run(rows, strict)
    assert [r["judgement_town"] for r in got] == [D, D, D, V]
    assert [r["grade"] for r in got] == ["B", "B", "B", "A"]
    assert strict.digest() != MatchSettings.build("t", spec, MatchingOptions()).digest()


# ---- 異体字 from the public tables ------------------------------------------------------

NAME_PAIRS = [
    # (old form, standard form, source) — the failing examples and one per source
    ("滿", "満", "常用漢字表"),
    ("當", "当", "常用漢字表"),
    ("數", "数", "常用漢字表"),
    ("權", "権", "常用漢字表"),
    ("體", "体", "常用漢字表"),
    ("號", "号", "常用漢字表"),
    ("寫", "写", "常用漢字表"),
    ("槪", "概", "常用漢字表 (outside JIS X 0208)"),
    ("薗", "園", "別表第二"),
    ("凉", "涼", "別表第二"),
    ("鰺", "鯵", "JIS X 0208:1983 swap"),
    ("濤", "涛", "JIS X 0208:1983 swap"),
]


def _fold(text: str) -> str:
    return name_forms(pl.Series([text]), load_itaiji(None))["parts"][0]


@pytest.mark.parametrize(("old", "new", "source"), NAME_PAIRS)
def test_old_forms_from_the_public_tables_fold(old, new, source) -> None:
    assert _fold(f"{old}田　太郎") == _fold(f"{new}田　太郎"), source
    row = judge(biz={"name": f"{old}田　太郎"}, juki={"name": f"{new}田　太郎"})
    assert row["judgement_name"] == V


@pytest.mark.parametrize(("a", "b"), distinct_pairs())
def test_the_must_stay_different_table_holds(a, b) -> None:
    assert _fold(a) != _fold(b)


def test_an_agency_table_cannot_merge_a_must_stay_different_pair(tmp_path) -> None:
    extra = tmp_path / "itaiji.csv"
    extra.write_text("斉,斎\n籐,藤\n髙,高\n", encoding="utf-8")
    table = load_itaiji(str(extra))
    assert table.get("斉", "斉") != table.get("斎", "斎")
    assert table.get("籐", "籐") != table.get("藤", "藤")
    assert table["髙"] == "高"


def test_every_pair_names_its_source_kind() -> None:
    kinds = {
        "old_form",
        "outside_jis0208",
        "same_character_level1",
        "joyo_kangxi",
        "jis_1983",
        "jinmei_variant",
    }
    from importlib import resources

    text = resources.files("schemas").joinpath("data/itaiji.csv").read_text(encoding="utf-8")
    rows = [line.split(",") for line in text.splitlines()[1:]]
    assert {r[2] for r in rows} <= kinds
    assert len(rows) == len(builtin_itaiji())  # one row per variant


# ---- the agency's 町字マスター tells an unknown 町字 from a different one ------------------


def _master(tmp_path, header: str = "english") -> str:
    columns = {
        "english": ["lg_code", "machiaza_id", "pref", "county", "city", "ward", "oaza_cho", "chome", "koaza"],
        "japanese": [
            "全国地方公共団体コード",
            "町字id",
            "都道府県名",
            "郡名",
            "市区町村名",
            "政令市区名",
            "大字・町名",
            "丁目名",
            "小字名",
        ],
    }[header]
    rows = [
        ["392014", "0001001", "高知県", "", "高知市", "", "大森東", "", ""],
        ["392014", "0002001", "高知県", "", "高知市", "", "大森中", "", ""],
        ["392014", "0003001", "高知県", "", "高知市", "", "本町", "一丁目", ""],
        ["392014", "0004000", "高知県", "", "高知市", "", "本町通", "", ""],
    ]
    path = tmp_path / f"mt_town_{header}.csv"
    path.write_text("\n".join(",".join(r) for r in [columns, *rows]) + "\n", encoding="utf-8-sig")
    return str(path)


@pytest.mark.parametrize("header", ["english", "japanese"])
def test_a_town_master_tells_two_known_towns_apart(tmp_path, header) -> None:
    spec = JimuSpec.model_validate({"name": "テスト", "holds": {}})
    settings = MatchSettings.build("t", spec, MatchingOptions(town_master_file=_master(tmp_path, header)))
    rows = [
        # both in the master and different: not the same 町字, whatever the first 2 characters
        {"biz": {"address": "高知県高知市大森中1-1"}, "juki": {"address": "高知県高知市大森東1-1"}},
        {"biz": {"address": "高知県高知市本町通1-1-1"}, "juki": {"address": "高知県高知市本町一丁目1番1号"}},
        # one side not in the master (a variant or an old name): the manual's tolerance stays
        {"biz": {"address": "高知県高知市大森ひがし1-1"}, "juki": {"address": "高知県高知市大森東1-1"}},
        # the same known 町字
        {"biz": {"address": "高知県高知市本町1-1-1"}, "juki": {"address": "高知県高知市本町一丁目1番1号"}},
    ]
    got = run(rows, settings)
    assert [r["judgement_town"] for r in got] == [D, D, V, V]
    assert "町字マスター" in got[0]["level_town"]
    assert PREFIX_ONLY in got[2]["grade_reason"]
    assert settings.town_master_sha256 is not None
    assert settings.digest() != MatchSettings.build("t", spec, MatchingOptions()).digest()


def test_a_town_master_without_its_columns_is_refused(tmp_path) -> None:
    from pipelines.matching.address import TownMasterError, known_towns

    bad = tmp_path / "mt_town.csv"
    bad.write_text("lg_code,pref,city\n392014,高知県,高知市\n", encoding="utf-8")
    with pytest.raises(TownMasterError, match="大字・町名"):
        known_towns(str(bad))
