"""Reading back an F5 確認作業リスト.xlsx that staff returned (before any validation).

Whole-file problems (not a workbook, not ours, a column deleted) refuse the file here; the
row-level checks against the store are the importer's (``pipelines.cases.importer``).

**Formula cells.** Cells are read with calamine (fastexcel), which sees a formula's cached
value only: a formula written by a script or an RPA tool has none and would read as blank
(a 備考 silently stored empty, a 確認結果 refused as missing), and a cached value may not be
what the formula gives once Excel recalculates. So every formula cell of the case sheet is
refused, with or without a cached value, as ``WORKBOOK_FORMULA`` naming the cell (the
importer lists them with the row problems); one in the hidden ``_検証`` sheet refuses the
file. What a person typed is a value; a formula is pasted as values (Excel's 値の貼り付け)
before the file is returned. Formulas are found in the sheet XML itself (``<f>`` elements),
one regular-expression pass, rather than cell by cell.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import fastexcel
import polars as pl

from pipelines.cases.workbook import CHECK_SHEET, FIRST_ROW, FORMAT, READONLY_COLUMNS, SHEET
from pipelines.errors import PROBLEM_SCHEMA, Problem, TenkenInputError, empty_problems
from schemas.cases import CASE_STAFF_COLUMNS


@dataclass(frozen=True)
class ReturnedWorkbook:
    """A workbook staff sent back, as read (before any validation against the store).

    ``rows``: one row per non-blank sheet row: ``excel_row`` (the row number Excel shows),
    the read-only columns and the staff columns, all as text (dates as Excel wrote them).
    ``checks``: ``case_id``, ``readonly_hash``, ``staff_hash`` as exported.
    ``formulas``: a ``WORKBOOK_FORMULA`` problem (line = Excel row, column, detail = cell)
    for every formula cell of the case sheet (PROBLEM_SCHEMA).
    """

    path: Path
    sha256: str
    meta: dict[str, str]
    rows: pl.DataFrame
    checks: pl.DataFrame
    formulas: pl.DataFrame = field(default_factory=empty_problems)


def _refuse(code: str, path: Path, detail: str | None = None, column: str | None = None) -> TenkenInputError:
    return TenkenInputError([Problem(code, file=path.name, column=column, detail=detail)])


def read_meta(path: Path) -> dict[str, str]:
    """The partition block of a returned workbook (which agency × 事務 × round it is)."""
    reader = _open(path)
    return _meta(reader, path)


def _open(path: Path) -> fastexcel.ExcelReader:
    if not path.is_file():
        raise _refuse("FILE_NOT_FOUND", path)
    try:
        reader = fastexcel.read_excel(str(path))
    except Exception as e:  # calamine reports every kind of unreadable file differently
        raise _refuse("WORKBOOK_UNREADABLE", path, type(e).__name__) from None
    if SHEET not in reader.sheet_names or CHECK_SHEET not in reader.sheet_names:
        raise _refuse("WORKBOOK_NOT_F5", path)
    return reader


def _meta(reader: fastexcel.ExcelReader, path: Path) -> dict[str, str]:
    raw = reader.load_sheet_by_name(CHECK_SHEET, header_row=None, dtypes="string").to_polars()
    if raw.width < 7:
        raise _refuse("WORKBOOK_NOT_F5", path)
    pairs = raw.select(raw.columns[5], raw.columns[6]).drop_nulls(raw.columns[5]).rows()
    meta = {str(k): str(v or "") for k, v in pairs}
    if meta.get("format") != FORMAT or not meta.get("agency") or not meta.get("jimu"):
        raise _refuse("WORKBOOK_NOT_F5", path)
    return meta


def read_workbook(path: Path) -> ReturnedWorkbook:
    """Read a returned F5. Whole-file problems (not a workbook, not ours, a column deleted)
    raise ``TenkenInputError``; row-level checks are the importer's."""
    reader = _open(path)
    meta = _meta(reader, path)
    sheet = reader.load_sheet_by_name(SHEET, dtypes="string").to_polars()
    wanted = {
        title: code
        for title, code in (*READONLY_COLUMNS, *((c.contract, c.name) for c in CASE_STAFF_COLUMNS))
    }
    missing = [title for title in wanted if title not in sheet.columns]
    if missing:
        raise _refuse("WORKBOOK_COLUMN_MISSING", path, "、".join(missing))
    rows = (
        sheet.select(list(wanted))
        .rename(wanted)
        .with_row_index("excel_row", offset=FIRST_ROW)
        .with_columns(pl.col("excel_row").cast(pl.Int64))
    )
    rows = rows.filter(pl.any_horizontal([pl.col(c).is_not_null() for c in wanted.values()]))
    checks_raw = reader.load_sheet_by_name(CHECK_SHEET, dtypes="string").to_polars()
    checks = checks_raw.select(pl.col("case_id"), pl.col("readonly_hash"), pl.col("staff_hash")).drop_nulls(
        "case_id"
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    formulas = formula_cells(path, (SHEET, CHECK_SHEET))
    if formulas[CHECK_SHEET]:
        raise _refuse(
            "WORKBOOK_FORMULA", path, f"シート「{CHECK_SHEET}」のセル {'、'.join(formulas[CHECK_SHEET])}"
        )
    return ReturnedWorkbook(
        path=path,
        sha256=digest,
        meta=meta,
        rows=rows,
        checks=checks,
        formulas=_formula_problems(formulas[SHEET], sheet.columns),
    )


#: the end of an element name ``f`` (a formula): found first, as ``f`` is rare in the XML of
#: a case sheet; each hit is then checked to be a tag, and its cell's reference read
_F_NAME_END = re.compile(rb"f[\s/>]")
#: the start tag of a cell, just before its first child (CT_Cell: f?, v?, is?); an optional
#: namespace prefix, as some writers put on every element (``<x:c>``)
_CELL_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c\b([^>]*)>\s*\Z")
_TAG_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?\Z")
_REFERENCE = re.compile(rb"\br\s*=\s*[\"']([A-Z]{1,3})([0-9]+)[\"']")
#: how far back a formula's cell start tag may be (its attributes: r, s, t, cm, vm, ph)
_CELL_TAG_MAX = 512


def formula_cells(path: Path, sheets: Sequence[str]) -> dict[str, list[str]]:
    """Sheet name → the references (``L12``) of its cells that hold a formula, for each of
    ``sheets`` the workbook has. A formula cell without a reference (allowed, rarely
    written) is listed as ``?``."""
    with zipfile.ZipFile(path) as package:
        parts = _sheet_parts(package)
        return {name: _formulas(package.read(parts[name])) if name in parts else [] for name in sheets}


def _formulas(xml: bytes) -> list[str]:
    found = []
    for hit in _F_NAME_END.finditer(xml):
        end = hit.start()  # the "f" of a possible <f …> or <x:f …>
        opening = xml.rfind(b"<", max(0, end - 64), end)
        if opening < 0 or not _TAG_START.match(xml, opening, end):
            continue  # an "f" in text or in a longer name
        cell = _CELL_START.search(xml, max(0, opening - _CELL_TAG_MAX), opening)
        if cell is None:
            continue  # not a cell's formula
        ref = _REFERENCE.search(cell.group(1))
        found.append((ref.group(1) + ref.group(2)).decode("ascii") if ref else "?")
    return found


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _relationships(package: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Id → (type, target part) of the relationships of ``part`` ("" for the package)."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", f"{name}.rels")
    if rels not in package.namelist():
        return {}
    out = {}
    for rel in ElementTree.fromstring(package.read(rels)):
        target = rel.get("Target", "")
        resolved = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join(folder, target))
        )
        out[rel.get("Id", "")] = (rel.get("Type", ""), resolved)
    return out


def _sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → the package part holding its XML (as the workbook's relationships say)."""
    book = next(
        (target for kind, target in _relationships(package, "").values() if kind.endswith("/officeDocument")),
        "xl/workbook.xml",
    )
    targets = _relationships(package, book)
    parts = {}
    for element in ElementTree.fromstring(package.read(book)).iter():
        if _local(element.tag) != "sheet":
            continue
        rel_id = next((v for k, v in element.attrib.items() if _local(k) == "id"), "")
        if rel_id in targets:
            parts[element.get("name", "")] = targets[rel_id][1]
    return parts


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def _formula_problems(cells: list[str], headers: Sequence[str]) -> pl.DataFrame:
    """WORKBOOK_FORMULA per formula cell of the case sheet, named by row, column and cell."""
    rows: list[tuple[int | None, str | None, str, str]] = []
    for ref in cells:
        match = re.fullmatch(r"([A-Z]+)([0-9]+)", ref)
        if match is None:
            rows.append((None, None, "WORKBOOK_FORMULA", "セルの位置不明"))
            continue
        index = _column_index(match.group(1))
        title = headers[index] if index < len(headers) else None
        rows.append((int(match.group(2)), title, "WORKBOOK_FORMULA", f"セル {ref}"))
    return pl.DataFrame(rows, schema=PROBLEM_SCHEMA, orient="row")
