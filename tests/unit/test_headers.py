"""Header rows as offices really save them, and what the user is told (issue 11, class 11).

Columns with a blank header (Excel leaves empty columns after a table; a column inserted
and never named; a header of spaces) are ignored and reported, wherever they are. A
contract column given twice is ambiguous and refused, naming the column and both places.
How a file was read (an encoding detected, columns ignored) is a note for the user.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipelines.checkdigit import with_my_number_check_digit as with_cd
from pipelines.errors import TenkenInputError
from pipelines.stages.extract import extract
from pipelines.stages.inquiry_request import assign_inquiry_numbers, build_requests
from pipelines.stages.inquiry_result import read_results
from schemas.config import parse_settings

HEADER = ["宛名番号", "個人番号", "氏名", "氏名カナ", "生年月日", "性別", "住所", "住登区分", "取得経路"]
N1, N2 = with_cd("12345678901"), with_cd("98765432109")
ROWS = [
    [
        "A001",
        N1,
        "山田　太郎",
        "ヤマダ　タロウ",
        "19701204",
        "1",
        "高知県高知市本町1-1-1",
        "住登者",
        "本人申告",
    ],
    [
        "A002",
        N2,
        "山田　花子",
        "ヤマダ　ハナコ",
        "19720303",
        "2",
        "高知県高知市本町1-1-1",
        "住登者",
        "本人申告",
    ],
]


def lines(header: list[str], rows: list[list[str]]) -> list[str]:
    return [",".join(header), *(",".join(r) for r in rows)]


def write(tmp_path: Path, text_lines: list[str], encoding: str = "cp932") -> Path:
    path = tmp_path / "f1.csv"
    path.write_bytes(("\r\n".join(text_lines) + "\r\n").encode(encoding))
    return path


def run(path: Path, **settings: object):
    s = parse_settings(settings or None)
    return extract(path, settings=s, jimu=s.jimu["kaigo_hoken"], round_id="2026", today=date(2026, 11, 23))


def insert(at: int, header: str, values: list[str]) -> list[str]:
    return lines(
        [*HEADER[:at], header, *HEADER[at:]],
        [[*r[:at], v, *r[at:]] for r, v in zip(ROWS, values, strict=True)],
    )


# (case, file lines, the note that must be given)
ACCEPTED = [
    (
        "3 trailing empty columns (Excel)",
        lines([*HEADER, "", "", ""], [[*r, "", "", ""] for r in ROWS]),
        "見出しが空欄の列 3 列（10列目（J列）、11列目（K列）、12列目（L列））",
    ),
    ("trailing empty columns in the header only", lines([*HEADER, "", ""], ROWS), "見出しが空欄の列 2 列"),
    (
        "some rows stop before the trailing empty columns",
        [",".join([*HEADER, "", ""]), ",".join([*ROWS[0], "", ""]), ",".join(ROWS[1])],
        "見出しが空欄の列 2 列",
    ),
    ("an empty header in the middle", insert(3, "", ["", ""]), "見出しが空欄の列 1 列（4列目（D列））"),
    ("a header of spaces", insert(9, " 　 ", ["", ""]), "見出しが空欄の列 1 列（10列目（J列））"),
    (
        "values under a blank header are reported, not read",
        insert(9, "", ["メモ", ""]),
        "値のある行が 1 行ありましたが、読んでいません",
    ),
]


@pytest.mark.parametrize(("case", "text", "note"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_blank_headers_are_ignored_and_reported(
    tmp_path: Path, case: str, text: list[str], note: str
) -> None:
    out = run(write(tmp_path, text))
    assert (out.stats.rows_read, out.stats.in_scope) == (2, 2), case
    assert out.records["name"].to_list() == ["山田　太郎", "山田　花子"]
    assert any(note in n and n.startswith("f1.csv: ") for n in out.stats.notes), out.stats.notes


# (case, file lines, aliases, the column the refusal names, its detail)
REFUSED = [
    (
        "a contract column twice",
        lines([*HEADER, "氏名"], [[*r, "別"] for r in ROWS]),
        {},
        "氏名",
        "3列目（C列）「氏名」と10列目（J列）「氏名」",
    ),
    (
        "a contract name and its alias",
        lines([*HEADER, "漢字氏名"], [[*r, "別"] for r in ROWS]),
        {"氏名": ["漢字氏名"]},
        "氏名",
        "「氏名」と10列目（J列）「漢字氏名」",
    ),
    (
        "twice, full width and with a zero-width space",
        lines([*HEADER, "氏\u200b名　"], [[*r, "別"] for r in ROWS]),
        {},
        "氏名",
        "10列目（J列）",
    ),
]


@pytest.mark.parametrize(
    ("case", "text", "aliases", "column", "detail"), REFUSED, ids=[c[0] for c in REFUSED]
)
def test_a_contract_column_given_twice_is_refused_naming_it(
    tmp_path: Path, case: str, text: list[str], aliases: dict, column: str, detail: str
) -> None:
    with pytest.raises(TenkenInputError) as e:
        run(write(tmp_path, text, "utf-8"), columns=aliases)
    [problem] = e.value.problems
    assert (problem.code, problem.line, problem.column) == ("DUPLICATE_COLUMN", 1, column), case
    assert detail in (problem.detail or "")


def test_unused_columns_may_share_a_name(tmp_path: Path) -> None:
    out = run(write(tmp_path, lines([*HEADER, "メモ", "メモ"], [[*r, "a", "b"] for r in ROWS])))
    assert out.stats.extra_columns == ("メモ",) and out.stats.rows_read == 2


def test_a_row_longer_than_the_header_is_still_a_field_count_problem(tmp_path: Path) -> None:
    text = [",".join([*HEADER, ""]), ",".join([*ROWS[0], "", "x"]), ",".join([*ROWS[1], ""])]
    with pytest.raises(TenkenInputError) as e:
        run(write(tmp_path, text))
    assert [(p.code, p.line) for p in e.value.problems] == [("FIELD_COUNT", 2)]


def test_invisible_characters_in_a_header_do_not_hide_a_column(tmp_path: Path) -> None:
    header = ["\ufeff宛名番号", "個人番号\u200b", *HEADER[2:]]
    out = run(write(tmp_path, lines(header, ROWS), "utf-8"))
    assert out.stats.in_scope == 2 and out.stats.extra_columns == ()


@pytest.mark.parametrize(
    ("encoding", "note"),
    [
        ("utf-8", "f1.csv: 文字コードを UTF-8 と判定して読みました"),
        ("utf-8-sig", "f1.csv: 文字コードを UTF-8（BOM つき） と判定して読みました"),
        ("cp932", None),
    ],
)
def test_a_detected_encoding_is_a_note(tmp_path: Path, encoding: str, note: str | None) -> None:
    out = run(write(tmp_path, lines(HEADER, ROWS), encoding))
    assert list(out.stats.notes) == ([note] if note else [])


def test_notes_of_f1b_and_f3_reach_their_stage(tmp_path: Path) -> None:
    atena = tmp_path / "atena.csv"
    atena.write_bytes(f"宛名番号,個人番号,,\r\nA001,{N1},,\r\nA002,{N2},,\r\n".encode("utf-8-sig"))
    out = extract(
        write(tmp_path, lines(HEADER, [[r[0], "", *r[2:]] for r in ROWS])),
        settings=parse_settings(None),
        jimu=parse_settings(None).jimu["kaigo_hoken"],
        round_id="2026",
        today=date(2026, 11, 23),
        f1b=atena,
    )
    assert [n.split(":")[0] for n in out.stats.notes] == ["atena.csv", "atena.csv"]

    sent = build_requests(out.records, assign_inquiry_numbers(out.records["atena_no"], None))
    f3 = tmp_path / "f3.csv"
    body = [
        "照会番号,個人番号,処理結果,氏名,氏名カナ,生年月日,性別,住所,異動事由,異動年月日,",
        *(f"{n},{m},10,,,,,,,," for n, m in sent.select("inquiry_no", "my_number").iter_rows()),
    ]
    f3.write_bytes(("\r\n".join(body) + "\r\n").encode("utf-8"))
    _, stats = read_results([f3], sent, parse_settings(None))
    assert stats.notes == (
        "f3.csv: 文字コードを UTF-8 と判定して読みました",
        "f3.csv: 見出しが空欄の列 1 列（11列目（K列））は読まずに無視しました（値はありません）",
    )
