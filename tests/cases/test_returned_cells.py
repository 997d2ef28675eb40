"""Cells of a returned F5 that calamine cannot read as typed (issue 11, classes 8 and 9).

Class 9: formula cells, as scripts, RPA tools and LibreOffice write them, with or without a
cached value, are refused as ``WORKBOOK_FORMULA`` naming row, column and cell; text that
merely looks like a formula is a value and passes.

Class 8: a value longer than an Excel cell holds is cut in F5; the read-only check compares
the cut text with the cut text, so such a case never blocks its partition.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl
import pytest

from pipelines.cases.importer import import_workbook, report_path
from pipelines.cases.merge import merge_round
from pipelines.cases.store import CaseStore
from pipelines.cases.workbook import CHECK_SHEET
from pipelines.cases.workbook_reader import formula_cells, read_workbook
from pipelines.errors import TenkenInputError
from pipelines.files.xlsx import MAX_CELL_TEXT
from tests.cases.factory import AGENCY, JIMU, Backend, Sheet, candidates, export, graded

RECORDS = [
    {"inquiry_no": "0260000001", "grade": "C"},
    {"inquiry_no": "0260000002", "grade": "B"},
]
C1, B2 = (f"2026-{r['inquiry_no']}" for r in RECORDS)
FILLED = {"状態": "確認中", "担当者": "山田", "確認方法": "電話"}


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[CaseStore]:
    with Backend("sqlite", f"sqlite:///{tmp_path / 'store' / 'cases.sqlite'}").open() as s:
        frame = candidates("2026", RECORDS)
        merge_round(s, AGENCY, JIMU, "2026", frame, graded(frame), source="照合 test")
        yield s


def cases(store: CaseStore) -> pl.DataFrame:
    with store.reading() as conn:
        return store.cases_frame(conn, AGENCY, JIMU)


def with_cached_values(path: Path, value: str) -> Path:
    """Give every formula of the case sheet a cached value, as Excel or an RPA tool saves
    it (openpyxl writes formulas without one)."""
    with zipfile.ZipFile(path) as src:
        items = [(i, src.read(i.filename)) for i in src.infolist()]
    target = path.with_name(path.stem + "_cached.xlsx")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in items:
            if info.filename.startswith("xl/worksheets/"):
                data = re.sub(
                    rb"<c ([^>]*?)(?: t=\"[a-z]+\")?><f>(.*?)</f><v ?/?>(?:</v>)?",
                    lambda m: (
                        b"<c "
                        + m.group(1)
                        + b' t="str"><f>'
                        + m.group(2)
                        + b"</f><v>"
                        + value.encode()
                        + b"</v>"
                    ),
                    data,
                )
            dst.writestr(info, data)
    return target


def by_libreoffice(path: Path) -> Path:
    """The workbook opened and saved again by LibreOffice Calc (it recalculates formulas and
    writes their cached values, shared formulas, and its own package layout)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
    out = path.parent / "lo"
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{path.parent / 'lo-profile'}", "--headless",
         "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(path)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    return out / path.name


Edit = Callable[[Sheet], tuple[int, str]]


def formula_in(case_id: str, header: str, formula: str) -> Edit:
    def edit(sheet: Sheet) -> tuple[int, str]:
        sheet.fill(case_id, **FILLED)
        row = sheet.row[case_id]
        cell = sheet.ws.cell(row, sheet.col[header])
        cell.value = formula  # openpyxl: a text starting with "=" is written as a formula
        return row, cell.coordinate

    return edit


def formula_below_the_cases(sheet: Sheet) -> tuple[int, str]:
    cell = sheet.ws.cell(50, sheet.col["備考"])
    cell.value = '="済"'
    return 50, cell.coordinate


#: (case, edit → (row, cell), the column the message names)
FORMULAS = [
    ("備考, a reference (reads as blank)", formula_in(B2, "備考", "=A1"), "備考"),
    ("確認結果, a text formula (not 'missing')", formula_in(C1, "確認結果", '="本人の番号"'), "確認結果"),
    ("担当者, CONCATENATE", formula_in(B2, "担当者", '=CONCATENATE("山","田")'), "担当者"),
    ("確認日, TODAY()", formula_in(C1, "確認日", "=TODAY()"), "確認日"),
    ("a read-only column", formula_in(B2, "業務_氏名", '="山田　太郎"'), "業務_氏名"),
    ("below the last case", formula_below_the_cases, "備考"),
]
WRITERS = {
    "openpyxl, no cached value": lambda p: p,
    "with a cached value": lambda p: with_cached_values(p, "本人の番号"),
    "LibreOffice": by_libreoffice,
}


@pytest.mark.parametrize("writer", list(WRITERS))
@pytest.mark.parametrize(("case", "edit", "column"), FORMULAS, ids=[c[0] for c in FORMULAS])
def test_formula_cells_are_refused_naming_the_cell(
    store: CaseStore, tmp_path: Path, writer: str, case: str, edit: Edit, column: str
) -> None:
    sheet = Sheet(export(store, tmp_path / "f5.xlsx"))
    row, cell = edit(sheet)
    path = WRITERS[writer](sheet.save())
    before = cases(store)
    with pytest.raises(TenkenInputError) as e:
        import_workbook(store, path)
    assert cases(store).equals(before), "nothing is applied"
    found = [p for p in e.value.problems if p.code == "WORKBOOK_FORMULA"]
    assert [(p.line, p.column, p.detail) for p in found] == [(row, column, f"セル {cell}")], case
    report = pl.read_csv(report_path(path), encoding="cp932", infer_schema=False)
    assert "WORKBOOK_FORMULA" in report["コード"].to_list()


def test_a_formula_in_the_hidden_check_sheet_refuses_the_file(store: CaseStore, tmp_path: Path) -> None:
    sheet = Sheet(export(store, tmp_path / "f5.xlsx"))
    sheet.book[CHECK_SHEET]["B2"] = '="0"&"1"'
    with pytest.raises(TenkenInputError) as e:
        read_workbook(sheet.save())
    assert e.value.codes == {"WORKBOOK_FORMULA"}
    assert f"シート「{CHECK_SHEET}」のセル B2" in str(e.value)


def text_like_a_formula(sheet: Sheet) -> None:
    sheet.fill(B2, **FILLED, 備考="=1+1 は数式ではなく文字")
    sheet.ws.cell(sheet.row[B2], sheet.col["備考"]).data_type = "s"  # typed as text ('=1+1)


#: (case, edit, 備考 stored for B2)
VALUES = [
    ("plain values", lambda s: s.fill(B2, **FILLED, 備考="11/2 電話"), "11/2 電話"),
    ("text starting with =", text_like_a_formula, "=1+1 は数式ではなく文字"),
    (
        "text holding XML of a formula",
        lambda s: s.fill(B2, **FILLED, 備考="<f>SUM(A1)</f>"),
        "<f>SUM(A1)</f>",
    ),
]


@pytest.mark.parametrize("libreoffice", [False, True], ids=["openpyxl", "LibreOffice"])
@pytest.mark.parametrize(("case", "edit", "note"), VALUES, ids=[c[0] for c in VALUES])
def test_values_pass(
    store: CaseStore, tmp_path: Path, libreoffice: bool, case: str, edit: Callable[[Sheet], object], note: str
) -> None:
    sheet = Sheet(export(store, tmp_path / "f5.xlsx"))
    edit(sheet)
    path = sheet.save()
    if libreoffice:
        path = by_libreoffice(path)
    assert formula_cells(path, ["確認作業リスト"]) == {"確認作業リスト": []}
    result = import_workbook(store, path)
    assert result.applied == 1, case
    assert cases(store).filter(pl.col("case_id") == B2)["note"][0] == note


def package(tmp_path: Path, sheet_xml: bytes, *, prefix: str = "") -> Path:
    """A minimal workbook package written by hand: one sheet ``S``, namespaces as given."""
    ns = (
        'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        if not prefix
        else (f'xmlns:{prefix}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"')
    )
    p = f"{prefix}:" if prefix else ""
    r = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    path = tmp_path / "hand.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "_rels/.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="/book/wb.xml"/></Relationships>',
        )
        z.writestr(
            "book/_rels/wb.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="sheets/one.xml"/></Relationships>',
        )
        z.writestr(
            "book/wb.xml",
            f'<{p}workbook {ns} {r}><{p}sheets><{p}sheet name="S" sheetId="1" r:id="rId7"/></{p}sheets></{p}workbook>',
        )
        z.writestr("book/sheets/one.xml", sheet_xml.replace(b"NS", ns.encode()))
    return path


@pytest.mark.parametrize(
    ("xml", "prefix", "cells"),
    [
        (
            b'<worksheet NS><sheetData><row r="1"><c r="A1"><f>1+1</f></c><c r="B1" t="s"><v>0</v></c></row></sheetData></worksheet>',
            "",
            ["A1"],
        ),
        (
            b'<worksheet NS><sheetData><row r="2"><c r="C2" s="1"><f t="shared" ref="C2:C3" si="0">A2</f><v>1</v></c></row>'
            b'<row r="3"><c r="C3" s="1"><f t="shared" si="0"/><v>2</v></c></row></sheetData></worksheet>',
            "",
            ["C2", "C3"],
        ),
        (
            b'<worksheet NS><sheetData><row r="4"><c r="AB4"><f t="array" ref="AB4">SUM(A1:A3*B1:B3)</f><v>9</v></c></row></sheetData></worksheet>',
            "",
            ["AB4"],
        ),
        (
            b'<x:worksheet NS><x:sheetData><x:row r="5"><x:c r="D5" t="str"><x:f>"a"</x:f><x:v>a</x:v></x:c></x:row></x:sheetData></x:worksheet>',
            "x",
            ["D5"],
        ),
        (
            b'<worksheet NS><sheetData><row r="6"><c r="E6" t="inlineStr"><is><t>&lt;f&gt;=SUM(A1)</t></is></c><c r="F6"/><c r="G6"><v>3</v></c></row></sheetData></worksheet>',
            "",
            [],
        ),
        (
            b'<worksheet NS><sheetData><row r="7"><c><f>1</f></c></row></sheetData><cols><col min="1" max="1"/></cols></worksheet>',
            "",
            ["?"],
        ),
    ],
    ids=["plain", "shared", "array", "prefixed", "no-formula", "no-reference"],
)
def test_formula_cells_are_found_in_any_package_layout(
    tmp_path: Path, xml: bytes, prefix: str, cells: list[str]
) -> None:
    assert formula_cells(package(tmp_path, xml, prefix=prefix), ["S", "absent"]) == {"S": cells, "absent": []}


# --- class 8: a value longer than a cell ------------------------------------------------------------


def test_a_case_longer_than_a_cell_never_blocks_its_partition(tmp_path: Path) -> None:
    long_address = "高知県高知市" + "本" * (MAX_CELL_TEXT + 500)  # e.g. a quarantined 要修正 row
    owners = ",".join(f"A{i:05d}" for i in range(6000))  # 36,000 characters of 推定の持ち主
    records = [
        {**RECORDS[0], "biz_address": long_address, "likely_owner": owners},
        RECORDS[1],
    ]
    with Backend("sqlite", f"sqlite:///{tmp_path / 'cases.sqlite'}").open() as store:
        frame = candidates("2026", records)
        merge_round(store, AGENCY, JIMU, "2026", frame, graded(frame), source="照合 test")
        for attempt in ("first export", "fresh export"):
            sheet = Sheet(export(store, tmp_path / f"{attempt}.xlsx"))
            assert len(str(sheet.get(C1, "業務_住所"))) == MAX_CELL_TEXT  # Excel's cell holds no more
            sheet.fill(C1, **FILLED, 備考=attempt)
            result = import_workbook(store, sheet.save())
            assert result.applied == 1, attempt
        stored = cases(store).filter(pl.col("case_id") == C1).row(0, named=True)
        assert stored["biz_address"] == long_address and stored["note"] == "fresh export"
        # an edit of the cut cell is still an edit
        sheet = Sheet(export(store, tmp_path / "edited.xlsx"))
        sheet.fill(C1, 業務_住所="高知県高知市本町")
        with pytest.raises(TenkenInputError) as e:
            import_workbook(store, sheet.save())
        assert e.value.codes == {"CASE_READONLY_EDITED"}
