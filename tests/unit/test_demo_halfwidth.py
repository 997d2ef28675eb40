"""The demo's half-width kana (NFKC inverted, issue 12.8: jaconv dropped) writes what jaconv did."""

from __future__ import annotations

import unicodedata

import polars as pl

from demo.generator import _halfwidth_of, _to_halfwidth_kana


def test_the_table_is_nfkc_inverted_with_voiced_marks_as_two_characters() -> None:
    table = _halfwidth_of()
    # what jaconv.z2h(kana=True, ascii=False, digit=False) gives for these (checked with jaconv 0.5.0)
    assert table["ア"] == "ｱ" and table["ガ"] == "ｶﾞ" and table["パ"] == "ﾊﾟ" and table["ヴ"] == "ｳﾞ"
    assert table["ッ"] == "ｯ" and table["ー"] == "ｰ" and table["ヲ"] == "ｦ"
    for full, half in table.items():
        assert unicodedata.normalize("NFKC", half) == full


def test_a_name_round_trips_through_nfkc() -> None:
    out = pl.select(_to_halfwidth_kana(pl.lit("ヤマザキ　ジュンペイ")).alias("k")).item()
    assert out == "ﾔﾏｻﾞｷ ｼﾞｭﾝﾍﾟｲ"
    assert unicodedata.normalize("NFKC", out) == "ヤマザキ ジュンペイ"
