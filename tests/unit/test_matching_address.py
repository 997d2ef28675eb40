"""住所: the split into 都道府県 / 市区町村 / 町字等 and the manual's tolerances, table-driven.

The parse cases pin each part of the split; the judgement cases pin what a careful checker
decides for a pair, including the silent cases the README documents (building names, a
one-character 町字, town names with kanji numerals, a ward omitted).
"""

import polars as pl
import pytest

from pipelines.matching.address import kanji_to_number, municipalities, parse_addresses
from pipelines.matching.testing import judge

E, V, D, N = "一致", "表記ゆれ一致", "不一致", "比較不能"

PARSE_CASES = [
    # (description, address, 都道府県, 市区町村, 政令市, 町字 key, numbers)
    ("plain", "高知県高知市本町一丁目1番1号", "高知県", "高知市", "高知市", "本町", "1-1-1"),
    ("都道府県 omitted", "高知市本町1-1-1", None, "高知市", "高知市", "本町", "1-1-1"),
    (
        "spaces between the words",
        "高知県 高知市 本町 一丁目 一番地一",
        "高知県",
        "高知市",
        "高知市",
        "本町",
        "1-1-1",
    ),
    ("政令市の区", "北海道札幌市中央区北一条西2-1", "北海道", "札幌市中央区", "札幌市", "北1", "1-2-1"),
    ("政令市, ward omitted", "札幌市北一条西二丁目1番", None, "札幌市", "札幌市", "北1", "1-2-1"),
    (
        "the longest ward name",
        "福岡県北九州市小倉北区京町3-4-5",
        "福岡県",
        "北九州市小倉北区",
        "北九州市",
        "京町",
        "3-4-5",
    ),
    ("郡 written", "北海道上川郡東川町北町一丁目2番", "北海道", "東川町", "東川町", "北町", "1-2"),
    ("郡 omitted", "北海道東川町北町1-2", "北海道", "東川町", "東川町", "北町", "1-2"),
    (
        "郡 before a 町 that has 郡 in its name",
        "兵庫県赤穂郡上郡町竹万1-2",
        "兵庫県",
        "上郡町",
        "上郡町",
        "竹万",
        "1-2",
    ),
    ("郡山市 is not a 郡", "福島県郡山市朝日2-3-4", "福島県", "郡山市", "郡山市", "朝日", "2-3-4"),
    ("蒲郡市 is not a 郡", "愛知県蒲郡市港町1-2", "愛知県", "蒲郡市", "蒲郡市", "港町", "1-2"),
    (
        "大和郡山市 is not a 郡",
        "奈良県大和郡山市北郡山町1-2",
        "奈良県",
        "大和郡山市",
        "大和郡山市",
        "北郡",
        "1-2",
    ),
    ("府中市 of 東京都", "東京都府中市宮町1-2-3", "東京都", "府中市", "府中市", "宮町", "1-2-3"),
    ("府中市 of 広島県", "広島県府中市府川町1-2-3", "広島県", "府中市", "府中市", "府川", "1-2-3"),
    ("ヶ in the 市区町村 name", "茨城県龍ヶ崎市米町1-2", "茨城県", "龍ケ崎市", "龍ケ崎市", "米町", "1-2"),
    (
        "kanji numerals with 十 and 百",
        "高知県高知市本町百二十三番地四十五",
        "高知県",
        "高知市",
        "高知市",
        "本町",
        "123-45",
    ),
    (
        "kanji numerals with 千, 番地の",
        "高知県高知市朝倉千二百三十四番地の五",
        "高知県",
        "高知市",
        "高知市",
        "朝倉",
        "1234-5",
    ),
    ("positional kanji numerals", "高知県高知市朝倉一〇一番地", "高知県", "高知市", "高知市", "朝倉", "101"),
    (
        "full-width digits and hyphens",
        "高知県高知市本町１－２－３",
        "高知県",
        "高知市",
        "高知市",
        "本町",
        "1-2-3",
    ),
    ("long-vowel mark as hyphen", "高知県高知市本町1ー2ー3", "高知県", "高知市", "高知市", "本町", "1-2-3"),
    ("minus sign as hyphen", "高知県高知市本町1−2−3", "高知県", "高知市", "高知市", "本町", "1-2-3"),
    ("丁目 and hyphens mixed", "高知県高知市本町1丁目2-3", "高知県", "高知市", "高知市", "本町", "1-2-3"),
    ("leading zeros", "高知県高知市本町01-02-03", "高知県", "高知市", "高知市", "本町", "1-2-3"),
    (
        "大字 dropped from the key",
        "高知県高知市大字長浜1234番地",
        "高知県",
        "高知市",
        "高知市",
        "長浜",
        "1234",
    ),
    ("が folded into ケ", "東京都千代田区霞が関1-1-1", "東京都", "千代田区", "千代田区", "霞ケ", "1-1-1"),
    ("ノ folded into の", "高知県高知市梅ノ辻5番", "高知県", "高知市", "高知市", "梅の", "5"),
    (
        "town name with a kanji numeral",
        "東京都港区三田二丁目1番1号",
        "東京都",
        "港区",
        "港区",
        "3田",
        "3-2-1-1",
    ),
    (
        "town name that starts with 十",
        "新潟県十日町市十日町1-2-3",
        "新潟県",
        "十日町市",
        "十日町市",
        "10",
        "10-1-2-3",
    ),
    ("one-character 町字", "高知県高知市原123番地", "高知県", "高知市", "高知市", "原1", "123"),
    (
        "building after a space",
        "高知県高知市本町1-1-1 ハイツ本町201号室",
        "高知県",
        "高知市",
        "高知市",
        "本町",
        "1-1-1",
    ),
    (
        "building without a space",
        "高知県高知市本町1-1-1ハイツ本町201",
        "高知県",
        "高知市",
        "高知市",
        "本町",
        "1-1-1",
    ),
    (
        "building in half-width kana",
        "高知県高知市本町1-1-1 ﾊｲﾂ本町201",
        "高知県",
        "高知市",
        "高知市",
        "本町",
        "1-1-1",
    ),
    (
        "building named in kanji",
        "高知県高知市本町1-1-1高知第一ビル3階",
        "高知県",
        "高知市",
        "高知市",
        "本町",
        "1-1-1",
    ),
    (
        "building after 号",
        "高知県高知市本町1丁目1番1号高知ビル",
        "高知県",
        "高知市",
        "高知市",
        "本町",
        "1-1-1",
    ),
    (
        "room as one more number is kept here",
        "高知県高知市本町1-1-1-201",
        "高知県",
        "高知市",
        "高知市",
        "本町",
        "1-1-1-201",
    ),
    ("no 町字 at all", "高知県高知市", "高知県", "高知市", "高知市", "", ""),
    ("unknown 市区町村", "外国の住所", None, None, None, "外国", ""),
]


@pytest.mark.parametrize(("description", "address", "pref", "muni", "city", "key", "numbers"), PARSE_CASES)
def test_parse(description, address, pref, muni, city, key, numbers) -> None:
    row = parse_addresses(pl.Series([address])).row(0, named=True)
    got = (row["pref"], row["muni"], row["city"], row["town_key"], row["numbers"])
    assert got == (pref, muni, city, key, numbers), description


JUDGEMENT_CASES = [
    # (description, business address, 住基 address, 市区町村判定, 町字等判定)
    ("identical", "高知県高知市本町一丁目1番1号", "高知県高知市本町一丁目1番1号", E, E),
    ("identical but unknown 市区町村", "外国の住所", "外国の住所", E, E),
    ("different and unknown 市区町村", "外国の住所", "外国の別の住所", D, D),
    ("ward omitted on the business side", "札幌市北一条西2-1", "北海道札幌市中央区北一条西二丁目1番", V, V),
    ("two different wards", "北海道札幌市北区北一条西2-1", "北海道札幌市中央区北一条西二丁目1番", D, V),
    ("郡 omitted", "高知県いの町1234番地5", "高知県吾川郡いの町1234番地5", V, E),
    ("郡 omitted and 都道府県 omitted", "いの町1234-5", "高知県吾川郡いの町1234番地5", V, V),
    ("府中市 in two prefectures", "広島県府中市本町1-1-1", "東京都府中市本町一丁目1番1号", D, V),
    ("府中市 with the 都道府県 omitted on one side", "府中市本町1-1-1", "東京都府中市本町一丁目1番1号", V, V),
    ("full width and 番地", "高知県高知市本町１－１－１", "高知県高知市本町一丁目1番地1", E, V),
    ("room number as one more number", "高知県高知市本町1-1-1-201", "高知県高知市本町一丁目1番1号", E, V),
    (
        "a trailing number that may be a 号 is not a room",
        "高知県高知市本町1-1-5",
        "高知県高知市本町一丁目1番",
        E,
        D,
    ),
    (
        "a different room is not the same 号",
        "高知県高知市本町1-2-345",
        "高知県高知市本町一丁目2番346号",
        E,
        D,
    ),
    (
        "building on the 住基 side only",
        "高知県高知市本町1-1-1",
        "高知県高知市本町一丁目1番1号 ハイツ本町201号室",
        E,
        V,
    ),
    ("one-character 町字 with 小字 on one side", "高知県高知市原123番地", "高知県高知市原字東123番地", E, D),
    ("十日町 on both sides", "新潟県十日町市十日町1-2-3", "新潟県十日町市十日町一丁目2番3号", E, V),
    ("北一条西 in digits", "北海道札幌市中央区北1条西2-1", "北海道札幌市中央区北一条西二丁目1番", E, V),
    (
        "other 町字 with the same first 2 characters (the manual cannot see it)",
        "高知県高知市本町通1-1-1",
        "高知県高知市本町一丁目1番1号",
        E,
        V,
    ),
    ("other 町字", "高知県高知市旭町1-1-1", "高知県高知市本町一丁目1番1号", E, D),
    ("blank on the 住基 side", "高知県高知市本町1-1-1", None, N, N),
    ("blank on both sides", None, None, N, N),
]


@pytest.mark.parametrize(("description", "biz", "juki", "muni", "town"), JUDGEMENT_CASES)
def test_judgements(description, biz, juki, muni, town) -> None:
    row = judge(biz={"address": biz}, juki={"address": juki})
    assert (row["judgement_municipality"], row["judgement_town"]) == (muni, town), description


NUMERAL_CASES = [
    ("一", 1),
    ("十", 10),
    ("十二", 12),
    ("二十", 20),
    ("二十三", 23),
    ("百", 100),
    ("百五", 105),
    ("三百二十", 320),
    ("千二百三十四", 1234),
    ("一〇一", 101),
    ("二〇", 20),
    ("壱拾", 10),
]


@pytest.mark.parametrize(("run", "value"), NUMERAL_CASES)
def test_kanji_numerals(run, value) -> None:
    assert kanji_to_number(run) == value


def test_ward_table_knows_every_designated_city() -> None:
    table = municipalities()
    cities = set(table.city_of_ward.values())
    assert len(cities) == 20
    assert {"札幌市", "北九州市", "浜松市", "相模原市", "さいたま市"} <= cities
    # 東京23区 are municipalities of their own, not wards of a city
    assert "千代田区" not in table.city_of_ward
