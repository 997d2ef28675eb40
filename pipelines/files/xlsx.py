"""Workbooks people open: xlsxwriter's options, and data rows written in bulk.

xlsxwriter lays a workbook out (formats, column widths, data validation, protection,
header rows) and costs about 13 µs of Python per cell, which is minutes for a large round.
Here polars builds the data rows of big sheets as XML, a column at a time, and
``inject_rows`` streams them into the package in place of the empty ``<sheetData>``
xlsxwriter wrote: the same cells, styles and escapes xlsxwriter writes for an inline string
(its ``constant_memory`` form). Cell text is always written as text, never as a formula.

This reaches below xlsxwriter's public API in two places: a format's style number
(``Format._get_xf_index``) and the position of ``</sheetData>`` in its sheet XML. Both are
tied to the exact xlsxwriter release pinned in ``pyproject.toml``; ``tests/unit/
test_xlsx_rows.py`` compares our cells with xlsxwriter's own for that release and fails on
an upgrade that changes either, so an upgrade is a deliberate step.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import IO

import polars as pl
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name

from pipelines import parallel
from pipelines.files.csv_writer import FORMULA_START
from pipelines.parallel import OneBehind

#: xlsxwriter options for every workbook tenken writes: text stays text (never turned into a
#: formula, number or link), built in memory and written privately in one go
XLSX_OPTIONS = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}
#: xlsxwriter's default cell style (a cell written without a format)
DEFAULT_STYLE = 0


def style_number(fmt: Format) -> int:
    """The style number xlsxwriter gives ``fmt`` in styles.xml (registers it if unused)."""
    return fmt._get_xf_index()


#: rows of sheet XML built and compressed at a time (bounds memory for large rounds)
XML_CHUNK_ROWS = 50_000
#: xlsxwriter's escapes for cell text: control characters (but tab and newline) and the two
#: non-characters become ``_xHHHH_``, after a literal ``_xHHHH_`` got its underscore escaped
_CONTROL_ESCAPES = {chr(c): f"_x{c:04X}_" for c in (*range(0x00, 0x09), *range(0x0B, 0x20))} | {
    "\ufffe": "_xFFFE_",
    "\uffff": "_xFFFF_",
}
_XML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
#: both at once: no escape of one contains a character of the other
_CELL_ESCAPES = _CONTROL_ESCAPES | _XML_ESCAPES
#: white space that xlsxwriter keeps with ``xml:space="preserve"`` at either end of a text
_SPACE = r"[\t\n \x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
#: Excel's limit on the text of one cell (UTF-16 units); xlsxwriter truncates beyond it
MAX_CELL_TEXT = 32767
#: day 0 of Excel's serial dates, for dates from 1900-03-01 on
_EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class Cells:
    """One column of a sheet's data rows: values, cell style, and the style of a text that
    starts like a formula (``inert``, Excel's quote prefix)."""

    col: int
    values: pl.Expr
    xf: int
    inert: int | None = None
    is_date: bool = False


def _style(c: Cells, text: pl.Expr) -> pl.Expr:
    if c.inert is None:
        return pl.lit(str(c.xf))
    starts = text.str.contains(FORMULA_START)
    return pl.when(starts).then(pl.lit(str(c.inert))).otherwise(pl.lit(str(c.xf)))


def _cell(c: Cells, ref: pl.Expr) -> pl.Expr:
    """The ``<c>`` element xlsxwriter writes for this value, or null for no cell (empty)."""
    if c.is_date:
        serial = (c.values - pl.lit(_EXCEL_EPOCH)).dt.total_days().cast(pl.String)
        return pl.concat_str(pl.lit('<c r="'), ref, pl.lit(f'" s="{c.xf}"><v>'), serial, pl.lit("</v></c>"))
    text = c.values
    # xlsxwriter's order: a literal _xHHHH_ first, then control characters, then XML
    literal = pl.when(text.str.contains("_x", literal=True))
    unescaped = literal.then(text.str.replace_all(r"(_x[0-9a-fA-F]{4}_)", "_x005F${1}")).otherwise(text)
    # xml:space="preserve" where the escaped text starts or ends with what Python's ``\s``
    # matches (control characters are escaped by then)
    preserve = pl.when(text.str.contains(rf"^{_SPACE}|{_SPACE}$"))
    return (
        pl.when(text != "")
        .then(
            pl.concat_str(
                pl.lit('<c r="'),
                ref,
                pl.lit('" s="'),
                _style(c, text),
                pl.lit('" t="inlineStr"><is><t'),
                preserve.then(pl.lit(' xml:space="preserve"')).otherwise(pl.lit("")),
                pl.lit(">"),
                unescaped.str.replace_many(_CELL_ESCAPES),
                pl.lit("</t></is></c>"),
            )
        )
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def rows_xml(frame: pl.DataFrame, cells: Sequence[Cells], first_row: int) -> Iterator[bytes]:
    """``<row>`` elements for ``frame`` from Excel row ``first_row`` on, in chunks of bytes."""
    ordered = sorted(cells, key=lambda c: c.col)
    for offset in range(0, frame.height, XML_CHUNK_ROWS):
        # the row numbers as a column, so that the texts below are row-wise only
        first = first_row + offset
        part = frame.slice(offset, XML_CHUNK_ROWS).with_columns(
            (pl.int_range(pl.len(), dtype=pl.Int64) + first).cast(pl.String).alias("_excel_row")
        )
        number = pl.col("_excel_row")
        xml = pl.concat_str(
            [_cell(c, pl.lit(xl_col_to_name(c.col)) + number) for c in ordered], ignore_nulls=True
        )
        # a row without a cell is left out, as xlsxwriter does
        rows = pl.when(xml != "").then(
            pl.concat_str([pl.lit('<row r="'), number, pl.lit('">'), xml, pl.lit("</row>")])
        )
        # the row texts on every core, then joined (the join is the one step across rows)
        texts = parallel.select(part, rows.alias("_row")).to_series()
        yield texts.str.join("").item().encode("utf-8")


def utf16_units(text: pl.Expr) -> pl.Expr:
    """The length of a text as Excel counts it: UTF-16 units (a character outside the BMP,
    such as 𠮷, counts twice)."""
    return text.str.len_chars() + text.str.count_matches(r"[\x{10000}-\x{10FFFF}]")


def as_written(text: pl.Expr) -> pl.Expr:
    """Text as xlsxwriter stores it: at most Excel's 32,767 UTF-16 units a cell."""
    return (
        pl.when(text.str.len_chars() > MAX_CELL_TEXT // 2)
        .then(
            text.map_elements(_truncate, return_dtype=pl.String)  # only the rare very long values
        )
        .otherwise(text)
    )


def _truncate(text: str) -> str:
    units = text.encode("utf-16-le")
    if len(units) <= 2 * MAX_CELL_TEXT:
        return text
    return units[: 2 * MAX_CELL_TEXT].decode("utf-16-le", errors="ignore")


def inject_rows(package: bytes, out: IO[bytes], rows: Mapping[str, tuple[Iterator[bytes], str]]) -> None:
    """Copy the xlsx ``package`` to ``out``, adding ``rows[part]`` (chunks of ``<row>``
    XML, and the sheet's new dimension) after the rows xlsxwriter wrote in that sheet."""
    with (
        zipfile.ZipFile(io.BytesIO(package)) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename not in rows:
                dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
                continue
            chunks, dimension = rows[info.filename]
            xml = re.sub(
                r'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>', data.decode("utf-8"), count=1
            )
            cut = xml.index("</sheetData>")
            # each chunk is compressed on a second thread while polars builds the next one
            # (zlib leaves the interpreter free while it works)
            with dst.open(info.filename, "w", force_zip64=True) as fh, OneBehind("tenken-xlsx") as behind:
                behind.submit(fh.write, xml[:cut].encode("utf-8"))
                for chunk in chunks:
                    behind.submit(fh.write, chunk)
                behind.submit(fh.write, xml[cut:].encode("utf-8"))
