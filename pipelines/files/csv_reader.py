"""Reading boundary CSV files: encoding, structure and column names, with every problem located.

Reading happens in three vectorised passes over the decoded text:

1. **encoding**: cp932 by default, UTF-8 with or without BOM accepted; ``auto`` detects and
   says what it found, an explicit declaration that contradicts the bytes is refused with a
   message saying so (never mojibake). The file is decoded in chunks into a UTF-8 copy with
   ``\n`` line ends in a private scratch folder (0600 in 0700, removed after reading), so a
   large file is never held in memory as bytes, as text and as UTF-8 at once; the copy is
   what polars reads. An undecodable byte is still reported with its line and column.
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

import codecs
import contextlib
import csv
import difflib
import io
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

import polars as pl

from pipelines.errors import PROBLEM_SCHEMA, Problem, TenkenInputError, empty_problems
from schemas.columns import Column

Encoding = Literal["auto", "cp932", "utf-8"]

LINE = "_line"
_BOM = b"\xef\xbb\xbf"
# a field is either quoted (with "" escapes) or free of quotes and commas
_FIELD = r'(?:"(?:[^"]|"")*"|[^",]*)'
_WELL_FORMED = rf"^{_FIELD}(?:,{_FIELD})*$"
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


def _undecodable(data: bytes, codec: str, file: str) -> Problem:
    try:
        data.decode(codec)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        if e.end >= len(data.rstrip(b"\r\n")) and line > 1:
            # the last character is cut in half: the copy or export stopped early
            return Problem(
                "TRUNCATED_LAST_RECORD", file=file, line=line, detail="最後の文字が途中で切れています"
            )
        return Problem(
            "ENCODING_UNDECODABLE",
            file=file,
            line=line,
            column=_column_at(data, e.start, codec) if line > 1 else None,
            detail=f"{codec} で読めないバイト",
        )
    raise AssertionError("decodes")  # pragma: no cover


def _column_at(data: bytes, offset: int, codec: str) -> str | None:
    """The header name of the field holding byte ``offset`` (best effort, for messages)."""
    header_end = data.find(b"\n")
    line_start = data.rfind(b"\n", 0, offset) + 1
    header = next(csv.reader([data[:header_end].decode(codec, errors="replace").strip("\r\ufeff")]))
    prefix = data[line_start:offset].decode(codec, errors="replace")
    index = len(next(csv.reader([prefix]), [""])) - 1 if prefix else 0
    return _normalise_header(header[index]) if index < len(header) else None


#: file signatures of things staff send instead of a CSV: (prefix, what it looks like)
_NOT_TEXT = (
    (b"PK\x03\x04", "Excel ブック（.xlsx）などの圧縮ファイルのようです"),
    (b"\xd0\xcf\x11\xe0", "Excel 97-2003 ブック（.xls）のようです"),
    (b"\xff\xfe", "UTF-16（Excel の「Unicode テキスト」）のようです"),
    (b"\xfe\xff", "UTF-16 のようです"),
    (b"%PDF", "PDF のようです"),
)


def _refuse_non_text(head: bytes, nul_in_first_line: bool, file: str) -> None:
    for prefix, looks_like in _NOT_TEXT:
        if head.startswith(prefix):
            raise TenkenInputError([Problem("NOT_TEXT", file=file, detail=looks_like)])
    if nul_in_first_line:
        raise TenkenInputError(
            [Problem("NOT_TEXT", file=file, line=1, detail="NUL バイトを含むバイナリのようです")]
        )


def _normalise_header(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().strip('"').strip()


def map_columns(
    header: Sequence[str],
    columns: Sequence[Column],
    aliases: dict[str, list[str]],
    file: str,
    optional_absent: Sequence[str] = (),
) -> tuple[dict[int, str], list[str]]:
    """Map header positions to code names. Returns ({position: code name}, extra columns).

    Raises for missing required columns (with a spelling suggestion) and duplicated names.
    ``optional_absent`` lists contract names that are required in general but may be absent
    in this particular read (個人番号 when F1b is given).
    """
    lookup: dict[str, Column] = {}
    for col in columns:
        lookup[_normalise_header(col.contract)] = col
        for alias in aliases.get(col.contract, []):
            lookup[_normalise_header(alias)] = col
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    positions: dict[int, str] = {}
    extra: list[str] = []
    for i, raw in enumerate(header):
        name = _normalise_header(raw)
        if name in seen:
            problems.append(Problem("DUPLICATE_COLUMN", file=file, line=1, column=name))
            continue
        seen[name] = i
        found = lookup.get(name)
        if found is None:
            extra.append(name)
        elif found.name in positions.values():
            problems.append(Problem("DUPLICATE_COLUMN", file=file, line=1, column=found.contract))
        else:
            positions[i] = found.name
    for col in columns:
        if col.required and col.name not in positions.values() and col.contract not in optional_absent:
            close = difflib.get_close_matches(col.contract, extra, n=1, cutoff=0.5)
            hint = f"「{close[0]}」は「{col.contract}」の誤りではありませんか" if close else None
            problems.append(Problem("MISSING_COLUMN", file=file, line=1, column=col.contract, detail=hint))
    if problems:
        raise TenkenInputError(problems)
    return positions, extra


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
    _refuse_empty_or_binary(path, file)
    with _scratch() as folder:
        copy, used = _utf8_copy(path, encoding, file, folder / "utf8.csv")
        notes = []
        if encoding == "auto" and used != "cp932":
            notes.append(f"{file}: 文字コードを {used} と判定して読みました")
        return _parse(
            copy,
            file=file,
            encoding=used,
            columns=columns,
            aliases=aliases or {},
            optional_absent=optional_absent,
            notes=notes,
        )


GIBIBYTE = 1024**3
#: machine memory per byte of F1 admitted. Measured by benchmarks/scale.py (RSS of the
#: process tree) since 照合 streams its slices and the later stages read lazily: ≈2.4 GB for
#: the 104 MB F1 of 1M rows (≈0.6 GB of it fixed), ≈8.5 GB for the 1.04 GiB F1 of 10M rows
#: (phase 2, 不一致確認), i.e. ≈8× the input at scale; ÷ 20 keeps more than twice that free
#: for the system and whatever else runs (24 GB: 1.2 GB of F1, ≈11M rows)
MEMORY_PER_INPUT_BYTE = 20


def machine_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def input_limit(configured: int | None) -> int:
    """The largest input file read: ``input.max_input_bytes``, or else what this machine's
    memory allows (``MEMORY_PER_INPUT_BYTE``)."""
    return configured if configured is not None else machine_memory() // MEMORY_PER_INPUT_BYTE


def too_large(file: str, size: int, limit: int) -> Problem:
    """FILE_TOO_LARGE, saying what to do instead (the limit protects the machine's memory)."""
    return Problem(
        "FILE_TOO_LARGE",
        file=file,
        detail=(
            f"{size / GIBIBYTE:.2f} GiB（{size:,} バイト）> 上限 {limit / GIBIBYTE:.2f} GiB"
            f"（{limit:,} バイト。この端末のメモリ {machine_memory() / GIBIBYTE:.0f} GiB では、"
            f"入力の約 {MEMORY_PER_INPUT_BYTE} 倍のメモリが要ります）。"
            "読み込むと途中でメモリが足りなくなり強制終了されるおそれがあるため、何も読まずに止めました。"
            "対処: 抽出を分けて（例: 宛名番号の範囲ごとに）別の事務・点検回として実行するか、"
            "メモリの多い端末で実行してください（tenken.yaml の input.max_input_bytes で上限を指定できます）"
        ),
    )


#: bytes decoded at a time
CHUNK_BYTES = 16 << 20
#: characters the physical-lines reader may use as its (absent) separator
_SEPARATORS = "\x1f\x1e\x1d\x1c\x01\x02\x03"
_SCRATCH_PREFIX = "tenken-csv-"


@dataclass
class Utf8Copy:
    """A boundary file as UTF-8, ``\n`` line ends and a final newline (what polars reads)."""

    path: Path
    quoted: bool  # holds a double quote somewhere
    separator: str  # a character it does not hold


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    """A private folder (0700) for the UTF-8 copy of an input, removed afterwards.

    Folders a killed process left behind (they may hold 個人番号) go first.
    """
    base = Path(tempfile.gettempdir())
    for stale in base.glob(f"{_SCRATCH_PREFIX}*"):
        pid = stale.name.removeprefix(_SCRATCH_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{_SCRATCH_PREFIX}{os.getpid()}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            yield chunk


def _refuse_empty_or_binary(path: Path, file: str) -> None:
    """FILE_EMPTY, then NOT_TEXT, as for the whole file, reading only as far as needed."""
    head = b""
    blank = True  # nothing but a BOM and white space so far
    nul_in_first_line = False
    first_line_done = False
    for chunk in _chunks(path):
        body = chunk
        if not head:
            head = chunk[:16]
            body = chunk.removeprefix(_BOM)
        blank = blank and not body.strip()
        if not first_line_done:
            cut = chunk.find(b"\n")
            nul_in_first_line = b"\x00" in (chunk if cut < 0 else chunk[:cut])
            first_line_done = cut >= 0 or nul_in_first_line
        if not blank and first_line_done:
            break
    if blank:
        raise TenkenInputError([Problem("FILE_EMPTY", file=file)])
    _refuse_non_text(head, nul_in_first_line, file)


class _Writer:
    """Normalises decoded text as it comes (line ends, final newline) and writes it as UTF-8."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.held_cr = False  # a chunk ended in CR: it may be the first half of CRLF
        self.last = ""
        self.quoted = False
        self.present: set[str] = set()

    def write(self, text: str) -> None:
        if self.held_cr:
            text = "\r" + text
            self.held_cr = False
        if text.endswith("\r"):
            text = text[:-1]
            self.held_cr = True
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if not text:
            return
        self.quoted = self.quoted or '"' in text
        self.present.update(c for c in _SEPARATORS if c not in self.present and c in text)
        self.last = text[-1]
        self.out.write(text.encode("utf-8"))

    def close(self) -> None:
        if self.held_cr:
            self.held_cr = False
            self.write("\n")
        if self.last != "\n":
            self.write("\n")


def _transcode(path: Path, codec: str, target: Path | None) -> tuple[bool, Utf8Copy | None]:
    """Decode ``path`` with ``codec`` in chunks, into ``target`` when given.

    Returns (whether it decoded, the copy); (False, None) at the first undecodable byte.
    """
    decoder = codecs.getincrementaldecoder(codec)()
    sink = target.open("wb") if target is not None else open(os.devnull, "wb")  # noqa: SIM115
    with sink:
        writer = _Writer(sink)
        try:
            for chunk in _chunks(path):
                writer.write(decoder.decode(chunk))
            writer.write(decoder.decode(b"", final=True))
        except UnicodeDecodeError:
            return False, None
        writer.close()
    if target is None:
        return True, None
    separator = next(c for c in _SEPARATORS if c not in writer.present)
    return True, Utf8Copy(target, writer.quoted, separator)


def _is_ascii(path: Path) -> bool:
    return all(chunk.isascii() for chunk in _chunks(path))


def _utf8_copy(path: Path, declared: Encoding, file: str, target: Path) -> tuple[Utf8Copy, str]:
    """The UTF-8 copy of ``path`` and the encoding it was read as; the same decisions and
    refusals as ``decode`` for the whole file."""
    fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)
    with path.open("rb") as fh:
        has_bom = fh.read(len(_BOM)) == _BOM
    utf8_ok, copy = _transcode(path, "utf-8-sig", target)
    looks_utf8 = utf8_ok and (has_bom or not _is_ascii(path))
    used = "utf-8-sig" if has_bom else "utf-8"
    if declared == "cp932":
        if looks_utf8:
            raise TenkenInputError([Problem("ENCODING_LOOKS_UTF8", file=file)])
        used = "cp932"
    elif declared == "utf-8":
        if not utf8_ok:
            if _transcode(path, "cp932", None)[0]:
                raise TenkenInputError([Problem("ENCODING_LOOKS_CP932", file=file)])
            raise TenkenInputError([_undecodable(path.read_bytes(), "utf-8", file)])
    elif not looks_utf8:
        used = "cp932"
    if copy is not None:  # UTF-8 that is also what cp932 reads (ASCII), or UTF-8 itself
        return copy, used
    cp932_ok, copy = _transcode(path, "cp932", target)
    if not cp932_ok or copy is None:
        raise TenkenInputError([_undecodable(path.read_bytes(), "cp932", file)])
    return copy, "cp932"


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
    with _scratch() as folder:
        target = folder / "utf8.csv"
        fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "wb") as out:
            writer = _Writer(out)
            writer.write(text)
            writer.close()
        separator = next(c for c in _SEPARATORS if c not in writer.present)
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
    positions, extra = map_columns(header_fields, columns, aliases, file, optional_absent)
    width = len(header_fields)
    repeated_header = _repeated_header_lines(lines)

    quoted = copy.quoted
    if not quoted or lines.str.contains(_WELL_FORMED).all():
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
    if last.height and last["fields"][0] < width:
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

    bad_count = records.filter(pl.col("fields") != width)
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
            for i, name in positions.items()
        ]
        + [pl.col(LINE)]
    )
    missing = [c.name for c in columns if c.name not in renamed.columns]
    renamed = renamed.with_columns([pl.lit(None, dtype=pl.String).alias(m) for m in missing])
    return CsvTable(
        file=file,
        encoding=encoding,
        frame=renamed,
        problems=structural.cast(PROBLEM_SCHEMA),  # type: ignore[arg-type]
        extra_columns=extra,
        blank_records=int(blank.sum()),
        notes=notes or [],
    )


def _blank_as_null(text: pl.Expr) -> pl.Expr:
    return pl.when(text != "").then(text)


def _repeated_header_lines(lines: pl.Series) -> pl.DataFrame:
    """A HEADER_REPEATED problem for every later physical line equal to the header."""
    bare = lines.str.strip_chars("\ufeff \u3000")
    hits = pl.DataFrame({"raw": bare}).with_row_index("index", offset=1).slice(1)
    hits = hits.filter(pl.col("raw") == bare[0])
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
    return pl.DataFrame({"raw": lines}).select(
        (pl.int_range(pl.len(), dtype=pl.Int64) + 1).alias("line"),
        fields.cast(pl.Int64).alias("fields"),
        raw.str.contains(r"^[,\s]*$").alias("raw_blank"),
    )


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
