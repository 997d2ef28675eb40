"""特定個人情報 helpers: masking free text, and private files that survive a crash cleanly."""

import os
import re
import stat
import unicodedata
from pathlib import Path

import polars as pl
import pytest

from pipelines.checkdigit import with_my_number_check_digit
from pipelines.errors import Problem, TenkenInputError
from pipelines.privacy import (
    my_number_in_text,
    private_file,
    quoted_value_expr,
    scrub,
    scrub_column,
    write_private,
)

#: a valid 個人番号 (check digit 8) and the ways people write it (issue 11, class 2)
NUMBER = with_my_number_check_digit("12345678901")
G = (NUMBER[:4], NUMBER[4:8], NUMBER[8:])
FULL = NUMBER.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
WRITINGS = [
    ("plain", NUMBER),
    ("hyphen", "-".join(G)),
    ("minus sign U+2212", "\u2212".join(G)),
    ("long vowel mark ー", "ー".join(G)),
    ("hyphen U+2010", "\u2010".join(G)),
    ("non-breaking hyphen U+2011", "\u2011".join(G)),
    ("en dash", "\u2013".join(G)),
    ("em dash", "\u2014".join(G)),
    ("full-width hyphen", "\uff0d".join(G)),
    ("dots", ".".join(G)),
    ("full-width dots", "．".join(G)),
    ("middle dots", "・".join(G)),
    ("slashes", "/".join(G)),
    ("spaced hyphen", " - ".join(G)),
    ("underscores", "_".join(G)),
    ("parentheses", f"({G[0]}){G[1]}-{G[2]}"),
    ("full-width parentheses", f"（{G[0]}）{G[1]}－{G[2]}"),
    ("spaces", " ".join(G)),
    ("ideographic spaces", "\u3000".join(G)),
    ("thin spaces", "\u2009".join(G)),
    ("no-break spaces", "\u00a0".join(G)),
    ("zero-width spaces", "\u200b".join(G)),
    ("commas", ",".join(G)),
    ("Japanese commas", "、".join(G)),
    ("full-width digits", FULL),
    ("full-width grouped", "　".join((FULL[:4], FULL[4:8], FULL[8:]))),
    ("3-3-3-3", "-".join((NUMBER[:3], NUMBER[3:6], NUMBER[6:9], NUMBER[9:]))),
    ("inside a sentence", f"本人の番号は{NUMBER}と申告"),
    ("glued to letters", f"No.{NUMBER}x"),
    ("with a digit after", f"{' '.join(G)} 1"),
]
#: text that is not a 個人番号 and must be neither masked nor refused
NOT_NUMBERS = [
    ("番地", "高知市本町1-2-3"),
    ("番地 with a room", "高知市本町1-2-3 101号室"),
    ("phone", "088-822-1234"),
    ("mobile", "090-1234-5678"),
    ("date", "2026-11-20"),
    ("date and time", "2026/11/20 10:30"),
    ("date range", "2026/11/20～2026/11/30"),
    ("amount", "12,345円"),
    ("和暦", "R8.11.20"),
    ("照会番号", "照会番号 0000000012"),
    ("11 digits", "12345678901"),
    ("case id", "2026-0000000012"),
    ("monthly case id", "2026-05-0000000012"),
    ("blank", ""),
]


@pytest.mark.parametrize(("how", "text"), WRITINGS, ids=[w[0] for w in WRITINGS])
def test_every_writing_of_a_number_is_masked_to_its_last_four_digits(how: str, text: str) -> None:
    masked = scrub(text)
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", masked))
    # nothing of the number but its last 4 digits (the digit after it may stay)
    assert "********" in masked and all(NUMBER[i : i + 5] not in digits for i in range(8)), masked
    assert scrub_column(pl.Series([text, None])).to_list() == [masked, None]  # the same on a column


@pytest.mark.parametrize(("how", "text"), WRITINGS, ids=[w[0] for w in WRITINGS])
def test_every_writing_of_a_number_is_refused_in_free_text(how: str, text: str) -> None:
    assert my_number_in_text(pl.Series([text])).to_list() == [True]


@pytest.mark.parametrize(("what", "text"), NOT_NUMBERS, ids=[w[0] for w in NOT_NUMBERS])
def test_what_is_not_a_number_stays(what: str, text: str) -> None:
    assert scrub(text) == text
    assert my_number_in_text(pl.Series([text])).to_list() == [False]


def test_twelve_digits_are_refused_whatever_the_check_digit() -> None:
    wrong = NUMBER[:11] + str((int(NUMBER[11]) + 1) % 10)
    assert my_number_in_text(pl.Series(["1234 5678 9010", wrong, None])).to_list() == [True, True, False]


def test_masking_keeps_the_rest_of_the_text() -> None:
    assert scrub(f'values: ["{NUMBER}"]') == 'values: ["********9018"]'
    assert scrub(f"番号{FULL}です") == "番号********９０１８です"
    assert scrub(f"X{NUMBER}") == "X********9018"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("3", "「3」"),
        ("M", "「M」"),
        ("99", "「99」"),
        ("山田　太郎", "5文字の値、内容は非表示"),
        ("昭和45年13月4日", "10文字の値、内容は非表示"),
        (NUMBER, "12文字の値、内容は非表示"),
        ("高知市本町1-2-3", "10文字の値、内容は非表示"),
        (None, None),
    ],
)
def test_a_refused_input_value_is_quoted_only_when_it_is_a_short_code(
    value: str | None, shown: str | None
) -> None:
    frame = pl.DataFrame({"v": [value]}, schema={"v": pl.String})
    assert frame.select(quoted_value_expr(pl.col("v"))).item() == shown


def test_no_problem_can_carry_a_number() -> None:
    """The masker runs when a Problem is made: file, column and detail, whoever built it."""
    p = Problem("DATE_FORMAT", file=f"{NUMBER}.csv", column=" ".join(G), detail=f"値 {'-'.join(G)}")
    text = str(TenkenInputError([p]))
    assert NUMBER not in re.sub(r"\D", "", text)
    assert p.file == "********9018.csv" and p.column == "********9018" and p.detail == "値 ********9018"


def test_private_files_are_owner_only_in_owner_only_folders(tmp_path: Path) -> None:
    path = write_private(tmp_path / "a" / "b" / "f.csv", b"x")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "a" / "b").stat().st_mode) == 0o700


def test_a_failed_write_leaves_the_old_file_and_no_temporary_copy(tmp_path: Path) -> None:
    target = write_private(tmp_path / "f.csv", b"old")
    with pytest.raises(RuntimeError), private_file(target) as fh:
        fh.write(b"half of the new")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.csv"]


def test_a_write_after_a_crash_removes_the_temporary_copy_the_crash_left(tmp_path: Path) -> None:
    # what SIGKILL between writing and renaming leaves behind (holds 個人番号 in real life)
    debris = tmp_path / ".f.csv.x1y2z3.part"
    debris.write_bytes(b"123456789018")
    write_private(tmp_path / "f.csv", b"new")
    assert sorted(os.listdir(tmp_path)) == ["f.csv"]
