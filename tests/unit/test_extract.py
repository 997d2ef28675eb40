"""抽出: encodings, file structure, row rules, scope and the count reconciliation."""

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipelines.checkdigit import with_my_number_check_digit as with_cd
from pipelines.errors import TenkenInputError
from pipelines.stages.extract import extract
from schemas.config import parse_settings

HEADER = "宛名番号,個人番号,氏名,氏名カナ,生年月日,性別,住所,住登区分,取得経路"
N1, N2, N3 = with_cd("12345678901"), with_cd("98765432109"), with_cd("11122233344")
GOOD = [
    f"A001,{N1},山田　太郎,ヤマダ　タロウ,昭和45年12月4日,1,高知県高知市本町一丁目1番1号,住登者,本人申告",
    f"A002,{N2},山田　花子,ﾔﾏﾀﾞ ﾊﾅｺ,S47.3.3,女,高知市本町1-1-1,住登者,自動連携",
    f"A003,{N3},髙橋　一郎,たかはし　いちろう,3451204,男,,住登外者,",
]
TODAY = date(2026, 11, 23)


def write(
    tmp_path: Path, lines: list[str], encoding: str = "cp932", name: str = "f1.csv", eol: str = "\r\n"
) -> Path:
    path = tmp_path / name
    path.write_bytes((eol.join(lines) + eol).encode(encoding))
    return path


def run(path: Path, settings=None, f1b: Path | None = None, jimu: str = "kaigo_hoken"):
    settings = settings or parse_settings(None)
    return extract(path, settings=settings, jimu=settings.jimu[jimu], round_id="2026", today=TODAY, f1b=f1b)


def codes(e: TenkenInputError) -> list[tuple[int | None, str | None, str]]:
    return [(p.line, p.column, p.code) for p in e.problems]


def test_good_file_reconciles_and_scopes(tmp_path: Path) -> None:
    out = run(write(tmp_path, [HEADER, *GOOD]))
    s = out.stats
    assert (s.rows_read, s.in_scope, s.out_of_scope, s.needs_fix) == (3, 2, 1, 0)
    assert s.rows_read == s.in_scope + s.out_of_scope + s.needs_fix
    rec = out.records.sort("line")
    assert rec["line"].to_list() == [2, 3, 4]
    assert rec["birth_date"].to_list() == [date(1970, 12, 4), date(1972, 3, 3), date(1970, 12, 4)]
    assert rec["sex"].to_list() == ["1", "2", "1"]
    assert rec["scope"].to_list() == ["点検対象", "対象外", "点検対象"]


def test_scope_setting_off_checks_auto_linked_rows(tmp_path: Path) -> None:
    settings = parse_settings({"scope": {"exclude_auto_linked": False}})
    assert run(write(tmp_path, [HEADER, *GOOD]), settings).stats.in_scope == 3


@pytest.mark.parametrize("encoding", ["cp932", "utf-8", "utf-8-sig"])
def test_encodings_are_accepted_by_default(tmp_path: Path, encoding: str) -> None:
    out = run(write(tmp_path, [HEADER, *GOOD], encoding=encoding))
    assert out.records["name"].to_list()[0] == "山田　太郎"
    assert out.stats.encoding == encoding


def test_utf8_declared_as_cp932_is_refused(tmp_path: Path) -> None:
    settings = parse_settings({"input": {"encoding": "cp932"}})
    with pytest.raises(TenkenInputError) as e:
        run(write(tmp_path, [HEADER, *GOOD], encoding="utf-8"), settings)
    assert e.value.codes == {"ENCODING_LOOKS_UTF8"}
    assert "f1.csv" in str(e.value)


def test_cp932_declared_as_utf8_is_refused(tmp_path: Path) -> None:
    settings = parse_settings({"input": {"encoding": "utf-8"}})
    with pytest.raises(TenkenInputError) as e:
        run(write(tmp_path, [HEADER, *GOOD]), settings)
    assert e.value.codes == {"ENCODING_LOOKS_CP932"}


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([], "FILE_EMPTY"),
        ([HEADER], "NO_RECORDS"),
        ([HEADER.replace("生年月日", "生年月目"), *GOOD], "MISSING_COLUMN"),
        ([HEADER, GOOD[0], GOOD[1], GOOD[2][:30]], "TRUNCATED_LAST_RECORD"),
        ([HEADER, GOOD[0], 'A009,"unterminated'], "UNTERMINATED_QUOTE"),
    ],
)
def test_whole_file_problems(tmp_path: Path, lines: list[str], code: str) -> None:
    path = tmp_path / "f1.csv"
    path.write_bytes(("\r\n".join(lines) + ("\r\n" if lines else "")).encode("cp932"))
    with pytest.raises(TenkenInputError) as e:
        run(path)
    assert code in e.value.codes


def test_misspelt_column_gets_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(TenkenInputError) as e:
        run(write(tmp_path, [HEADER.replace("生年月日", "生年月目"), *GOOD]))
    assert "「生年月目」は「生年月日」の誤りではありませんか" in str(e.value)


def test_every_row_problem_is_listed_at_once(tmp_path: Path) -> None:
    bad = [
        f"A001,{N1},山田　太郎,ヤマダ,昭和64年1月8日,1,,,",  # impossible date
        f"A002,{N1[:11]},山田　次郎,ヤマダ,19700101,1,,,",  # 11 digits
        f"A003,{N1[:11]}0,山田　三郎,ヤマダ,19700101,3,,,",  # check digit, sex code
        "A004,１２３４５６７８９０１８,山田　四郎,ヤマダ,19700101,1,,,",  # full-width digits
        f"A004,{N2},,ヤマダ,20301231,1,,住登,",  # dup 宛名番号, blank name, future, class
        f"A-6,{N3},山田　六郎,Yamada,19700101,1,,,宅配",  # 宛名番号 format, kana, route
        f"A007,{N3},山田\t七郎,ヤマダ,19700101,1,,,",  # control character
        f"A008,{N3},山田　八郎,ヤマダ,19700101",  # field count (not last)
        f"A009,{N3},山田　九郎,ヤマダ,19700101,1,,,",
    ]
    with pytest.raises(TenkenInputError) as e:
        run(write(tmp_path, [HEADER, *bad]))
    found = set(codes(e.value))
    expected = {
        (2, "生年月日", "DATE_IMPOSSIBLE"),
        (3, "個人番号", "MYNUMBER_LENGTH"),
        (4, "個人番号", "MYNUMBER_CHECK_DIGIT"),
        (4, "性別", "SEX_CODE"),
        (5, "個人番号", "MYNUMBER_NOT_ASCII"),
        (5, "宛名番号", "ATENA_DUPLICATE"),
        (6, "宛名番号", "ATENA_DUPLICATE"),
        (6, "氏名", "REQUIRED_BLANK"),
        (6, "生年月日", "DATE_FUTURE"),
        (6, "住登区分", "RESIDENT_CLASS_CODE"),
        (7, "宛名番号", "ATENA_FORMAT"),
        (7, "氏名カナ", "KANA_CHARACTERS"),
        (7, "取得経路", "ROUTE_CODE"),
        (8, "氏名", "CONTROL_CHARACTER"),
        (9, None, "FIELD_COUNT"),
    }
    assert expected <= found, expected - found
    # messages never carry a 個人番号 (a masked form at most)
    assert N1 not in str(e.value) and N2 not in str(e.value)
    assert all(p.file == "f1.csv" for p in e.value.problems)


def test_quarantine_counts_bad_rows_as_needs_fix(tmp_path: Path) -> None:
    settings = parse_settings({"input": {"on_row_error": "quarantine"}})
    lines = [HEADER, *GOOD, f"A009,{N1[:11]}0,山田　九郎,ヤマダ,昭和64年1月8日,1,,,"]
    out = run(write(tmp_path, lines), settings)
    s = out.stats
    assert (s.rows_read, s.in_scope, s.out_of_scope, s.needs_fix) == (4, 2, 1, 1)
    bad = out.records.filter(pl.col("scope") == "要修正")
    assert bad["problem_codes"][0] == "MYNUMBER_CHECK_DIGIT,DATE_IMPOSSIBLE"


def test_embedded_newline_is_a_control_character_on_its_physical_line(tmp_path: Path) -> None:
    lines = [HEADER, GOOD[0], f'A002,{N2},"山田\n花子",ヤマダ,19700101,2,,,', GOOD[2]]
    with pytest.raises(TenkenInputError) as e:
        run(write(tmp_path, lines, eol="\n"))
    assert codes(e.value) == [(3, "氏名", "CONTROL_CHARACTER")]


def test_blank_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    out = run(write(tmp_path, [HEADER, GOOD[0], "", GOOD[1], ",,,,,,,,", GOOD[2]]))
    assert out.stats.rows_read == 3
    assert out.stats.blank_records == 2
    assert out.records["line"].to_list() == [2, 4, 6]


def test_column_aliases_and_extra_columns(tmp_path: Path) -> None:
    settings = parse_settings({"columns": {"宛名番号": ["住民コード"], "生年月日": ["生年月日（和暦）"]}})
    header = HEADER.replace("宛名番号", "住民コード").replace("生年月日", "生年月日（和暦）") + ",備考"
    out = run(write(tmp_path, [header, *[g + ",メモ" for g in GOOD]]), settings)
    assert out.stats.extra_columns == ("備考",)
    assert out.records["atena_no"].to_list() == ["A001", "A002", "A003"]


def test_code_aliases(tmp_path: Path) -> None:
    settings = parse_settings(
        {"codes": {"sex": {"M": "1", "F": "2"}, "acquisition_route": {"連携": "自動連携"}}}
    )
    lines = [HEADER, GOOD[0].replace(",1,高知県", ",F,高知県").replace("本人申告", "連携")]
    out = run(write(tmp_path, lines), settings)
    assert out.records["sex"][0] == "2"
    assert out.records["scope"][0] == "対象外"


def test_jimu_without_sex_ignores_the_column(tmp_path: Path) -> None:
    lines = [HEADER, GOOD[0].replace(",1,高知県", ",X,高知県")]
    out = run(write(tmp_path, lines), jimu="shogaiji_nyusho")
    assert out.records["sex"][0] is None


class TestAtena:
    """F1b: 個人番号 from the 統合宛名ファイル by 宛名番号."""

    def test_numbers_come_from_f1b(self, tmp_path: Path) -> None:
        f1 = write(tmp_path, [HEADER, *[",".join([*g.split(",")[:1], "", *g.split(",")[2:]]) for g in GOOD]])
        f1b = write(tmp_path, ["宛名番号,個人番号", f"A001,{N1}", f"A002,{N2}", f"A003,{N3}"], name="f1b.csv")
        out = run(f1, f1b=f1b)
        assert out.records["my_number"].to_list() == [N1, N2, N3]
        assert out.stats.atena_rows == 3

    def test_missing_and_conflicting_numbers(self, tmp_path: Path) -> None:
        f1 = write(
            tmp_path, [HEADER, GOOD[0], ",".join([*GOOD[1].split(",")[:1], "", *GOOD[1].split(",")[2:]])]
        )
        f1b = write(tmp_path, ["宛名番号,個人番号", f"A001,{N3}"], name="f1b.csv")
        with pytest.raises(TenkenInputError) as e:
            run(f1, f1b=f1b)
        assert set(codes(e.value)) == {
            (2, "個人番号", "MYNUMBER_CONFLICT"),
            (3, "個人番号", "MYNUMBER_MISSING"),
        }

    def test_duplicate_atena_in_f1b_refuses_it(self, tmp_path: Path) -> None:
        f1 = write(tmp_path, [HEADER, *GOOD])
        f1b = write(tmp_path, ["宛名番号,個人番号", f"A001,{N1}", f"A001,{N2}"], name="f1b.csv")
        with pytest.raises(TenkenInputError) as e:
            run(f1, f1b=f1b)
        assert [p.file for p in e.value.problems] == ["f1b.csv", "f1b.csv"]


IMPOSSIBLE_DATES = [
    # (as written in F1, what the message shows)
    ("昭和64年1月8日", "昭和64年1月8日"),  # 昭和 ended on 1月7日
    ("S64.1.8", "S64.1.8"),
    ("3640108", "3640108"),
    ("平成2年2月30日", "平成2年2月30日"),
    ("19890230", "19890230"),
    ("1989/02/30", "1989/02/30"),
    ("H2.2.30", "H2.2.30"),
    ("4020230", "4020230"),
]


@pytest.mark.parametrize(("written", "shown"), IMPOSSIBLE_DATES)
def test_an_impossible_date_is_an_input_error_naming_its_row(
    tmp_path: Path, written: str, shown: str
) -> None:
    lines = [HEADER, *GOOD, f"A009,{with_cd('22233344455')},山田　九郎,ヤマダ,{written},1,,,"]
    with pytest.raises(TenkenInputError) as e:
        run(write(tmp_path, lines))
    (problem,) = e.value.problems
    assert (problem.file, problem.line, problem.column, problem.code) == (
        "f1.csv",
        5,
        "生年月日",
        "DATE_IMPOSSIBLE",
    )
    assert problem.render().startswith("ファイル「f1.csv」 5行目 列「生年月日」: ")
    # a birth date is a resident's data: the message names the cell, never its content
    assert shown not in problem.render()
    assert f"{len(written)}文字の値、内容は非表示" in problem.render()
