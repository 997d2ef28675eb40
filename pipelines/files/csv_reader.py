"""Reading boundary CSV files: encoding, structure and column names, with every problem located.

Reading happens in three vectorised passes over the decoded text:

1. **encoding** (``pipelines.files.transcode``): the file is decoded into a private UTF-8
   copy, which is what polars reads.
2. **structure**: every physical line is checked against a regular expression for a
   well-formed single-line CSV record and its fields are counted. Files that are not all
   well-formed single-line records (an embedded newline in a quoted field, a stray quote)
   take a slower exact path through Python's ``csv`` module; they are rare and usually
   refused anyway. A record with the wrong number of fields is a row problem; a short last
   record or an unterminated quote means the file was cut off and refuses the file.
3. **values**: polars parses the text, all columns as strings, aligned 1:1 with the records
   so every row keeps its physical line number (``_line``) for messages.
"""

from __future__ import annotations

import csv
import difflib
import io
import itertools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines import parallel
from pipelines.errors import PROBLEM_SCHEMA, Problem, TenkenInputError, empty_problems
from pipelines.files.limits import too_large
from pipelines.files.scratch import scratch_folder
from pipelines.files.transcode import (
    SEPARATORS,
    Encoding,
    TextWriter,
    Utf8Copy,
    refuse_empty_or_binary,
    utf8_copy,
)
from schemas.columns import Column, normalise_header

LINE = "_line"
# a field is either quoted (with "" escapes) or free of quotes and commas
_FIELD = r'(?:"(?:[^"]|"")*"|[^",]*)'
_WELL_FORMED = rf"^{_FIELD}(?:,{_FIELD})*$"
#: how a detected encoding is named to the user (settings: input.encoding)
_ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8（BOM つき）"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class CsvTable:
    """One boundary file, read: string columns under their code names, plus ``_line``."""

    file: str
    encoding: str
    frame: pl.DataFrame
    problems: pl.DataFrame  # structural row problems (FIELD_COUNT), PROBLEM_SCHEMA
    extra_columns: list[str] = field(default_factory=list)
    blank_records: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ColumnMap:
    """Where each contract column is in a file's header, and what is not read."""

    positions: dict[int, str]  # header position → code name
    extra: list[str]  # named columns that are not in the contract (ignored, reported)
    unnamed: list[int]  # positions whose header is blank (ignored, reported)


def map_columns(
    header: Sequence[str],
    columns: Sequence[Column],
    aliases: dict[str, list[str]],
    file: str,
    optional_absent: Sequence[str] = (),
) -> ColumnMap:
    """Map header positions to code names.

    Raises for missing required columns (with a spelling suggestion) and for a contract
    column given twice (by its name or an alias: which one holds the data is ambiguous).
    Columns the contract does not know are ignored and reported (contract: "extra
    columns"), also when two of them share a name; so are columns with a blank header
    (blank or only spaces), such as the empty columns Excel leaves after a table.
    ``optional_absent`` lists contract names that are required in general but may be
    absent in this particular read (個人番号 when F1b is given).
    """
    lookup: dict[str, Column] = {}
    for col in columns:
        lookup[normalise_header(col.contract)] = col
        for alias in aliases.get(col.contract, []):
            lookup[normalise_header(alias)] = col
    problems: list[Problem] = []
    positions: dict[int, str] = {}
    extra: list[str] = []
    unnamed: list[int] = []
    for i, raw in enumerate(header):
        name = normalise_header(raw)
        found = lookup.get(name)
        if not name:
            unnamed.append(i)
        elif found is None:
            extra += [] if name in extra else [name]
        elif found.name in positions.values():
            first = next(p for p, n in positions.items() if n == found.name)
            problems.append(
                Problem(
                    "DUPLICATE_COLUMN",
                    file=file,
                    line=1,
                    column=found.contract,
                    detail=f"{column_label(first)}「{header[first].strip()}」と{column_label(i)}「{raw.strip()}」",
                )
            )
        else:
            positions[i] = found.name
    for col in columns:
        if col.required and col.name not in positions.values() and col.contract not in optional_absent:
            close = difflib.get_close_matches(col.contract, extra, n=1, cutoff=0.5)
            hint = f"「{close[0]}」は「{col.contract}」の誤りではありませんか" if close else None
            problems.append(Problem("MISSING_COLUMN", file=file, line=1, column=col.contract, detail=hint))
    if problems:
        raise TenkenInputError(problems)
    return ColumnMap(positions, extra, unnamed)


def column_label(position: int) -> str:
    """A header position as a person finds it in Excel: ``12列目（L列）``."""
    letters = ""
    n = position + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(ord("A") + r) + letters
    return f"{position + 1}列目（{letters}列）"


def _unnamed_note(file: str, values: pl.DataFrame, unnamed: Sequence[int]) -> str | None:
    """What was ignored under blank headers: how many columns, where, and whether any held
    values (a value there is not read, so the user is told)."""
    if not unnamed:
        return None
    where = "、".join(column_label(i) for i in unnamed)
    filled = values.select(
        pl.sum_horizontal(
            [pl.col(f"c{i}").str.strip_chars(" \u3000").str.len_chars().fill_null(0) > 0 for i in unnamed]
        )
        .gt(0)
        .sum()
    ).item()
    held = f"そのうち値のある行が {filled:,} 行ありましたが、読んでいません" if filled else "値はありません"
    return f"{file}: 見出しが空欄の列 {len(unnamed)} 列（{where}）は読まずに無視しました（{held}）"


def read_csv_table(
    path: Path,
    *,
    columns: Sequence[Column],
    encoding: Encoding = "auto",
    aliases: dict[str, list[str]] | None = None,
    display_name: str | None = None,
    optional_absent: Sequence[str] = (),
    max_bytes: int | None = None,
) -> CsvTable:
    """Read a boundary CSV with a header row. Raises TenkenInputError for whole-file problems."""
    file = display_name or path.name
    if not path.is_file():
        raise TenkenInputError([Problem("FILE_NOT_FOUND", file=str(path))])
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise TenkenInputError([too_large(file, size, max_bytes)])
    refuse_empty_or_binary(path, file)
    with scratch_folder() as folder:
        copy, used = utf8_copy(path, encoding, file, folder / "utf8.csv")
        notes = []
        if encoding == "auto" and used != "cp932":
            notes.append(f"{file}: 文字コードを {_ENCODING_NAMES.get(used, used)} と判定して読みました")
        return _parse(
            copy,
            file=file,
            encoding=used,
            columns=columns,
            aliases=aliases or {},
            optional_absent=optional_absent,
            notes=notes,
        )


def parse_csv_text(
    text: str,
    *,
    file: str,
    encoding: str,
    columns: Sequence[Column],
    aliases: dict[str, list[str]],
    optional_absent: Sequence[str] = (),
    notes: list[str] | None = None,
) -> CsvTable:
    """``read_csv_table`` for text already decoded (tests, small inputs)."""
    with scratch_folder() as folder:
        target = folder / "utf8.csv"
        fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "wb") as out:
            writer = TextWriter(out)
            writer.write(text)
            writer.close()
        separator = next(c for c in SEPARATORS if c not in writer.present)
        copy = Utf8Copy(target, writer.quoted, separator)
        return _parse(
            copy,
            file=file,
            encoding=encoding,
            columns=columns,
            aliases=aliases,
            optional_absent=optional_absent,
            notes=notes,
        )


def _parse(
    copy: Utf8Copy,
    *,
    file: str,
    encoding: str,
    columns: Sequence[Column],
    aliases: dict[str, list[str]],
    optional_absent: Sequence[str] = (),
    notes: list[str] | None = None,
) -> CsvTable:
    lines = _physical_lines(copy.path, copy.separator)
    header_fields = next(csv.reader([lines[0]]))
    if len(header_fields) == 1 and "\t" in lines[0]:
        raise TenkenInputError(
            [Problem("NOT_COMMA_SEPARATED", file=file, line=1, detail="タブ区切りのようです")]
        )
    mapped = map_columns(header_fields, columns, aliases, file, optional_absent)
    width = len(header_fields)
    # a row may stop before the blank headers at the end of the header (Excel leaves such
    # columns behind in the header line only when they once held something)
    least = width - len(list(itertools.takewhile(lambda i: i in mapped.unnamed, reversed(range(width)))))
    repeated_header = _repeated_header_lines(lines)

    quoted = copy.quoted
    if not quoted or _all_well_formed(lines):
        records = _records_fast(lines, quoted)
        del lines
        values = _values_fast(copy.path, width)
    else:
        del lines
        records, values = _records_exact(copy.path.read_text(encoding="utf-8"), file, width)

    records = records.slice(1)  # the header
    values = values.with_columns(records["line"].alias(LINE))
    blank = records["raw_blank"]
    last = records.filter(~blank).tail(1)
    if last.height and last["fields"][0] < least:
        raise TenkenInputError(
            [
                Problem(
                    "TRUNCATED_LAST_RECORD",
                    file=file,
                    line=int(last["line"][0]),
                    detail=f"{last['fields'][0]} 項目 / 見出し {width} 項目",
                )
            ]
        )
    values = values.filter(~blank)
    records = records.filter(~blank)
    if values.height == 0:
        raise TenkenInputError([Problem("NO_RECORDS", file=file)])

    bad_count = records.filter((pl.col("fields") < least) | (pl.col("fields") > width))
    structural = pl.concat(
        [
            bad_count.select(
                pl.col("line").cast(pl.Int64),
                pl.lit(None, dtype=pl.String).alias("column"),
                pl.lit("FIELD_COUNT").alias("code"),
                pl.format("{} 項目 / 見出し {} 項目", pl.col("fields"), pl.lit(width)).alias("detail"),
            ),
            repeated_header,
        ]
    )

    # surrounding spaces (half- and full-width) carry no meaning in any contract field
    renamed = values.select(
        [
            _blank_as_null(pl.col(f"c{i}").str.strip_chars(" \u3000")).alias(name)
            for i, name in mapped.positions.items()
        ]
        + [pl.col(LINE)]
    )
    unnamed_note = _unnamed_note(file, values, mapped.unnamed)
    missing = [c.name for c in columns if c.name not in renamed.columns]
    renamed = renamed.with_columns([pl.lit(None, dtype=pl.String).alias(m) for m in missing])
    return CsvTable(
        file=file,
        encoding=encoding,
        frame=renamed,
        problems=structural.cast(PROBLEM_SCHEMA),  # type: ignore[arg-type]
        extra_columns=mapped.extra,
        blank_records=int(blank.sum()),
        notes=[*(notes or []), *([unnamed_note] if unnamed_note else [])],
    )


def _all_well_formed(lines: pl.Series) -> bool:
    """Every line is fields of plain or simply quoted text (the fast path reads them)."""
    frame = pl.DataFrame({"raw": lines})
    return bool(parallel.select(frame, pl.col("raw").str.contains(_WELL_FORMED))["raw"].all())


def _blank_as_null(text: pl.Expr) -> pl.Expr:
    return pl.when(text != "").then(text)


def _repeated_header_lines(lines: pl.Series) -> pl.DataFrame:
    """A HEADER_REPEATED problem for every later physical line equal to the header."""
    strip = "\ufeff \u3000"
    header = lines[:1].str.strip_chars(strip).item()
    # a line equal to the header once stripped holds the header: a substring search first,
    # so only those few lines are stripped, not a copy made of every line (0.44 s at 1M)
    hits = pl.DataFrame({"raw": lines}).with_row_index("index", offset=1).slice(1)
    hits = hits.filter(pl.col("raw").str.contains(header, literal=True)).filter(
        pl.col("raw").str.strip_chars(strip) == header
    )
    return hits.select(
        pl.col("index").cast(pl.Int64).alias("line"),
        pl.lit(None, dtype=pl.String).alias("column"),
        pl.lit("HEADER_REPEATED").alias("code"),
        pl.lit(None, dtype=pl.String).alias("detail"),
    )


def _records_fast(lines: pl.Series, quoted: bool) -> pl.DataFrame:
    """One record per line: physical line number, field count, blank flag."""
    raw = pl.col("raw")
    fields = (
        raw.str.count_matches(rf"(?:^|,){_FIELD}") if quoted else raw.str.count_matches(",", literal=True) + 1
    )
    counted = parallel.select(
        pl.DataFrame({"raw": lines}),
        fields.cast(pl.Int64).alias("fields"),
        raw.str.contains(r"^[,\s]*$").alias("raw_blank"),
    )
    return counted.select((pl.int_range(pl.len(), dtype=pl.Int64) + 1).alias("line"), pl.all())


def _physical_lines(source: Path, separator: str) -> pl.Series:
    """Every physical line of ``source`` (which ends with a newline), read by polars' C reader."""
    frame = pl.read_csv(
        source,
        has_header=False,
        separator=separator,
        quote_char=None,
        infer_schema=False,
        empty_string_is_null=False,
        new_columns=["raw"],
    )
    return frame["raw"].fill_null("")


def _values_fast(source: Path, width: int) -> pl.DataFrame:
    names = [f"c{i}" for i in range(width)]
    frame = pl.read_csv(
        source,
        has_header=False,
        new_columns=None,
        infer_schema=False,
        truncate_ragged_lines=True,
        skip_rows=0,
        quote_char='"',
    )
    frame = frame.select(frame.columns[:width]).slice(1)
    frame.columns = names[: frame.width]
    return frame.with_columns([pl.lit(None, dtype=pl.String).alias(n) for n in names[frame.width :]])


def _records_exact(text: str, file: str, width: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The exact path for files with multi-line or irregular quoting (Python's csv module)."""
    reader = csv.reader(io.StringIO(text), strict=True)
    starts: list[int] = []
    counts: list[int] = []
    blanks: list[bool] = []
    rows: list[list[str | None]] = []
    line = 1
    try:
        for row in reader:
            starts.append(line)
            counts.append(len(row))
            blanks.append(all(not v.strip() for v in row))
            padded: list[str | None] = [*row, *([None] * width)]
            rows.append(padded[:width])
            line = reader.line_num + 1
    except csv.Error:
        raise TenkenInputError([Problem("UNTERMINATED_QUOTE", file=file, line=line)]) from None
    records = pl.DataFrame(
        {"line": starts, "fields": counts, "raw_blank": blanks},
        schema={"line": pl.Int64, "fields": pl.Int64, "raw_blank": pl.Boolean},
    )
    body = rows[1:]
    values = pl.DataFrame(
        [list(col) for col in zip(*body, strict=True)] if body else [[] for _ in range(width)],
        schema={f"c{i}": pl.String for i in range(width)},
        orient="col",
    )
    return records, values


def without_repeated_headers(problems: pl.DataFrame, structural: pl.DataFrame) -> pl.DataFrame:
    """Drop value problems on lines that are a repeated header: HEADER_REPEATED says it all."""
    repeated = structural.filter(pl.col("code") == "HEADER_REPEATED")["line"]
    return problems.filter(~pl.col("line").is_in(repeated.implode())) if repeated.len() else problems


def control_character_problems(frame: pl.DataFrame, columns: Sequence[Column]) -> pl.DataFrame:
    """A CONTROL_CHARACTER problem for every field holding a control character (incl. newline)."""
    parts = []
    for col in columns:
        if col.name not in frame.columns:
            continue
        # U+FEFF too: an invisible BOM inside a field (files joined together) breaks matching
        hit = frame.filter(pl.col(col.name).str.contains(r"[\x00-\x1f\x7f\ufeff]"))
        if hit.height:
            parts.append(
                hit.select(
                    pl.col(LINE).alias("line"),
                    pl.lit(col.contract).alias("column"),
                    pl.lit("CONTROL_CHARACTER").alias("code"),
                    pl.lit(None, dtype=pl.String).alias("detail"),
                )
            )
    return pl.concat(parts) if parts else empty_problems()


def has_control_characters(text: str) -> bool:
    return _CONTROL.search(text) is not None
