"""Formula injection: text that Excel would run never reaches a file tenken writes as a formula.

Values starting with ``= + - @`` are fed in where the contract allows free text (氏名 and 住所
in F1, 氏名, 住所 and 異動事由 in F3, a date that cannot be read and is quoted back in the error
report); both phases run through the CLI. Then every CSV and xlsx tenken wrote — F4, F5, the
error report, whatever else is there — is opened: no CSV cell may start with a formula
character (tab and CR included), and no xlsx cell may be a formula.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from pipelines.cases.importer import import_workbook
from pipelines.cases.merge import merge_round
from pipelines.cases.store import CaseStore
from tenken.cli import app
from tests.cases.factory import Sheet, candidates, export, graded
from tests.fixtures.bad_input import corpus

pytestmark = pytest.mark.slow

AGENCY, JIMU = "392014", "kaigo_hoken"
#: what Excel runs as a formula (or DDE) when a cell starts with it, stated here on purpose
FORMULA = r"^[=+\-@\t\r]"
EVIL = ['=HYPERLINK("http://example.invalid","x")', "+81-88-000-0000", "-2+3", "@SUM(1+1)"]


def tenken(*args: str | Path):
    return CliRunner().invoke(app, [str(a) for a in args])


def csv_cells(path: Path) -> list[str]:
    text = path.read_bytes().decode("cp932")
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def written(*folders: Path, suffix: str) -> list[Path]:
    return [p for f in folders for p in f.rglob(f"*{suffix}") if p.is_file()]


def test_no_output_cell_is_a_formula(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home, f2, f4 = tmp_path / "home", tmp_path / "f2", tmp_path / "f4"
    common = ["--home", home, "--agency", AGENCY, "--jimu", JIMU]

    rows = [
        corpus.f1_row(0, 氏名=f'"{EVIL[0].replace(chr(34), chr(34) * 2)}"'),
        corpus.f1_row(1, 住所=EVIL[1]),
        corpus.f1_row(2, 氏名=EVIL[2]),
        corpus.f1_row(3, 住所=EVIL[3]),
    ]
    f1 = tmp_path / "f1.csv"
    f1.write_bytes(corpus.csv_bytes([corpus.F1_HEADER, *rows]))
    assert tenken("request", *common, "--extract", f1, "--out", f2).exit_code == 0

    # 住基ネット answers with the same kind of text in its free-text fields
    f3 = pl.read_csv(corpus.HERE / "good_result.csv", encoding="cp932", infer_schema=False).with_columns(
        pl.Series("氏名", [EVIL[2], "架空　花子", EVIL[0], "試験　桜"]),
        pl.Series("住所", ["高知県高知市本町一丁目1番1号", EVIL[3], "高知県高知市", EVIL[1]]),
        pl.Series("異動事由", [None, EVIL[3], None, EVIL[0]]),
    )
    (tmp_path / "f3").mkdir()
    (tmp_path / "f3" / "result.csv").write_bytes(f3.write_csv(line_terminator="\r\n").encode("cp932"))
    done = tenken("match", *common, "--result", tmp_path / "f3", "--out", f4)
    assert done.exit_code == 0, done.output

    # and a refused file whose error report quotes the value back
    bad = tmp_path / "bad.csv"
    bad.write_bytes(corpus.csv_bytes([corpus.F1_HEADER, corpus.f1_row(0, 生年月日=EVIL[0].replace(",", ""))]))
    other = ["--home", home, "--agency", AGENCY, "--jimu", "nanbyo"]
    assert tenken("request", *other, "--extract", bad, "--out", tmp_path / "never").exit_code == 2

    csvs = written(home / "data" / "rounds", home / "data" / "audit", f2, f4, suffix=".csv")
    books = written(home / "data" / "rounds", f4, suffix=".xlsx")
    assert {p.name for p in csvs} >= {"照合結果.csv", "抽出_誤り一覧.csv"}
    assert {p.name for p in books} >= {"確認作業リスト.xlsx"}

    for path in csvs:
        cells = pl.Series(csv_cells(path), dtype=pl.String)
        assert cells.filter(cells.str.contains(FORMULA)).to_list() == [], path.name
    f4_text = "".join(csv_cells(f4 / "照合結果.csv"))
    assert "'" + EVIL[0] in f4_text and "'" + EVIL[1] in f4_text  # they did reach F4, neutralised

    assert_inert(books)
    seen = {v.lstrip("'") for path in books for v in xlsx_texts(path)}
    assert set(EVIL) <= seen  # the workbook holds such text, as text


def xlsx_texts(path: Path) -> list[str]:
    book = load_workbook(path)
    return [
        cell.value
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]


def assert_inert(books: list[Path]) -> None:
    """No cell is a formula, and every text cell Excel would run once edited (= + - @, tab,
    CR) carries the quote prefix (the xlsx form of a typed apostrophe)."""
    for path in books:
        book = load_workbook(path)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    where = f"{path.name}!{sheet.title}!{cell.coordinate}"
                    assert cell.data_type != "f", where
                    if isinstance(cell.value, str) and re.match(FORMULA, cell.value):
                        assert cell.quotePrefix, where


def test_staff_text_written_back_into_f5_stays_text(tmp_path: Path) -> None:
    """What staff typed (備考, 是正内容, 担当者) comes back into the next F5 from the store: a
    note such as ``=1+1`` or ``-2+3`` is written as quote-prefixed text, and the workbook
    still imports unchanged (the prefix is style, not value)."""
    frame = candidates("2026", [{"inquiry_no": "0000000001", "grade": "C", "juki_address": EVIL[1]}])
    with CaseStore.open(f"sqlite:///{tmp_path / 'store' / 'cases.sqlite'}") as store:
        merge_round(store, AGENCY, JIMU, "2026", frame, graded(frame), source="照合 test")
        sheet = Sheet(export(store, tmp_path / "f5.xlsx"))
        sheet.fill(
            "2026-0000000001",
            状態="確認中",
            担当者="@山田",
            確認方法="電話",
            備考="=1+1",
            是正内容="-2+3",
            確認日=date(2026, 11, 2),
        )
        for header in ("備考", "是正内容"):  # typed as text ('=1+1), as Excel saves it: not a formula
            sheet.ws.cell(sheet.row["2026-0000000001"], sheet.col[header]).data_type = "s"
        assert import_workbook(store, sheet.save()).applied == 1
        again = export(store, tmp_path / "again.xlsx")
        assert_inert([again])
        texts = set(xlsx_texts(again))
        assert {"@山田", "=1+1", "-2+3", EVIL[1]} <= texts
        assert import_workbook(store, again).applied == 0  # round trip intact
