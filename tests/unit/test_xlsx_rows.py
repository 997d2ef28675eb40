"""The bulk row writer (``pipelines.files.xlsx``) writes exactly the cells xlsxwriter would.

tenken builds the data rows of big sheets as XML with polars and injects them into a
workbook xlsxwriter laid out; that relies on the cell XML and the style numbers of one
xlsxwriter release. These tests compare with xlsxwriter's own output for the pinned release,
so an upgrade that changes either fails here instead of producing a broken F5.
"""

from __future__ import annotations

import io
import re
import tomllib
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import polars as pl
import xlsxwriter

from pipelines.files.xlsx import XLSX_OPTIONS, Cells, as_written, inject_rows, rows_xml, style_number

ROOT = Path(__file__).resolve().parents[2]

TEXTS = [
    "普通の氏名",
    "a&b<c>d",
    "ctl\x01x",
    "lit _x0041_ and _X00ff_",
    "tab\tnl\nx",
    " leading space",
    "trailing\u3000",
    '=HYPERLINK("http://x")',
    "+81",
    "-5",
    "@SUM(A1)",
    "𠮷野家",
    "\ufffe",
    "",
]


def _sheet_data(xml: bytes) -> str:
    return re.search(r"<sheetData>(.*)</sheetData>", xml.decode("utf-8"), re.S).group(1)  # type: ignore[union-attr]


def test_xlsxwriter_is_pinned_to_the_release_the_rows_were_verified_with() -> None:
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    (pin,) = [p for p in pins if p.lower().startswith("xlsxwriter")]
    assert pin.split("#")[0].strip().lower() == f"xlsxwriter=={xlsxwriter.__version__}"


def test_rows_are_the_cells_xlsxwriter_writes(tmp_path: Path) -> None:
    path = tmp_path / "reference.xlsx"
    options = {k: v for k, v in XLSX_OPTIONS.items() if k != "in_memory"} | {"constant_memory": True}
    book = xlsxwriter.Workbook(str(path), options)
    plain = book.add_format({"locked": True, "bg_color": "#F2F2F2"})
    inert = book.add_format({"locked": True, "bg_color": "#F2F2F2", "quote_prefix": True})
    dated = book.add_format({"locked": False, "num_format": "yyyy/mm/dd"})
    sheet = book.add_worksheet("s")
    days = [date(2024, 2, 29), None, date(1989, 1, 8)]
    for i, text in enumerate(TEXTS):
        if text:
            fmt = inert if re.match(r"^[=+\-@\t\r]", text) else plain
            sheet.write_string(i + 1, 0, text, fmt)
        day = days[i % len(days)]
        if day:
            sheet.write_datetime(i + 1, 2, datetime(day.year, day.month, day.day), dated)
    numbers = (style_number(plain), style_number(inert), style_number(dated))
    book.close()
    with zipfile.ZipFile(path) as z:
        reference = _sheet_data(z.read("xl/worksheets/sheet1.xml"))

    frame = pl.DataFrame({"t": TEXTS, "d": [days[i % len(days)] for i in range(len(TEXTS))]})
    cells = [
        Cells(0, as_written(pl.col("t")), numbers[0], numbers[1]),
        Cells(2, pl.col("d"), numbers[2], is_date=True),
    ]
    ours = b"".join(rows_xml(frame, cells, first_row=2)).decode("utf-8")
    # xlsxwriter also writes an empty <row r="1"/> for the header row we left out
    assert re.sub(r'<row r="1"[^>]*/>', "", reference).replace(' spans="1:3"', "") == re.sub(
        r' spans="[^"]*"', "", ours
    )


def test_injected_rows_open_with_their_styles() -> None:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, XLSX_OPTIONS)
    inert = book.add_format({"quote_prefix": True, "locked": False})
    book.add_worksheet("s").write_string(0, 0, "見出し")
    number = style_number(inert)  # registered although no cell xlsxwriter writes uses it
    book.close()
    out = io.BytesIO()
    frame = pl.DataFrame({"t": ["=1+1", "普通"]})
    inject_rows(
        buffer.getvalue(),
        out,
        {"xl/worksheets/sheet1.xml": (rows_xml(frame, [Cells(0, pl.col("t"), 0, number)], 2), "A1:A3")},
    )
    ws = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["s"]
    assert [ws.cell(r, 1).value for r in (1, 2, 3)] == ["見出し", "=1+1", "普通"]
    assert ws.cell(2, 1).quotePrefix and not ws.cell(2, 1).protection.locked
    assert ws.cell(2, 1).data_type == "s"  # text, never a formula
