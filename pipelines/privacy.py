"""特定個人情報 handling: masking, and files that only their owner can read.

個人番号 never leaves the data files: messages, logs, metadata and previews use
``mask_my_number`` (``********1234``). Every file that may hold one is written through
``write_private`` / ``private_file``: created 0600 inside 0700 folders, written to a
temporary name and renamed, so a crash never leaves half a file under the real name.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

import polars as pl

from pipelines.checkdigit import is_valid_my_number
from pipelines.system import fsync_dir, set_private_mode

FILE_MODE = 0o600
DIR_MODE = 0o700


def mask_my_number(value: str | None) -> str:
    """``123456789018`` -> ``********9018`` (a value known to be a 個人番号)."""
    if not value:
        return ""
    tail = value[-4:] if len(value) >= 4 else ""
    return "*" * max(len(value) - len(tail), 8 - len(tail)) + tail


def _char_class(items: tuple[str | tuple[str, str], ...]) -> str:
    """A regex character class the same for Python's ``re`` and polars (Rust ``regex``):
    ASCII punctuation escaped, ranges as ``lo-hi``, everything else literal."""
    out = []
    for item in items:
        lo, hi = item if isinstance(item, tuple) else (item, None)
        esc = ["\\" + c if c.isascii() and not c.isalnum() else c for c in (lo, hi) if c is not None]
        out.append("-".join(esc))
    return "[" + "".join(out) + "]"


#: what people put between the digits of a number they write by hand or paste: spaces of
#: every width, zero-width and other format characters, dashes and long vowel marks of every
#: kind, dots, slashes, underscores, commas, brackets and the like. Not colons or wave
#: dashes: a time (10:30) or a range (11/20～11/30) next to a date is not one number. A 個人番号 written
#: ``1234−5678−9018``, ``1234.5678.9018``, ``(1234)5678-9018`` or ``１２３４ ５６７８ ９０１８`` is
#: still a 個人番号.
# fmt: off
NUMBER_SEPARATORS = _char_class(
    (
        # spaces and line breaks of every width
        " ", "\t", "\n", "\r", "\x0b", "\x0c", "\u00a0", "\u1680", ("\u2000", "\u200a"),
        "\u2028", "\u2029", "\u202f", "\u205f", "\u3000",
        # invisible format characters (zero-width space, joiners, marks, BOM)
        "\u00ad", "\u180e", ("\u200b", "\u200f"), ("\u2060", "\u2064"), "\ufeff",
        # dashes, minus signs, long vowel marks
        "-", ("\u2010", "\u2015"), "\u2043", "\u2212", "\u2e3a", "\u2e3b", "\u30fc", "\ufe58",
        "\ufe63", "\uff0d", "\uff70",
        # dots and middle dots
        ".", "\u00b7", "\u2024", "\u2027", "\u3002", "\u30fb", "\uff0e", "\uff61", "\uff65",
        # slashes, underscores, commas
        "/", "\\", "\u2044", "\u2215", "\uff0f", "\uff3c", "_", "\uff3f", ",", "\u3001", "\uff0c",
        "\uff64",
        # brackets of every kind
        "(", ")", "[", "]", "{", "}", "\uff08", "\uff09", "\uff3b", "\uff3d", "\uff5b", "\uff5d",
        ("\u3008", "\u3011"), ("\u3014", "\u301b"),
        # bars and signs people put in a number
        "|", "\uff5c", "#", "\uff03", "+", "\uff0b", "*", "\uff0a", "=", "\uff1d",
    )
)
# fmt: on
#: at most this many separator characters between two digits of one number (``1234 - 5678``)
_GAP = NUMBER_SEPARATORS + "{0,3}"
#: a number-like run: 12 or more digits (any script's decimal digits: ``\d`` is Unicode in
#: both regex engines), each at most a short run of separators from the next
NUMBER_RUN = rf"\d(?:{_GAP}\d){{11,}}"
_RUN_RE = re.compile(NUMBER_RUN)
_GROUP_RE = re.compile(r"\d+")
MASK = "********"
#: tenken's own case ids (``<点検回>-<照会番号>``, e.g. ``2026-0000000012``): identifiers staff
#: quote, made of a year (and month) and a 10-digit 照会番号, never someone's number
CASE_ID_FORM = r"\d{4}(?:-\d{2})?-\d{10}"
_CASE_ID_RE = re.compile(CASE_ID_FORM)


def scrub(text: str) -> str:
    """Mask every 個人番号-like number in ``text``, keeping its last 4 digits (``********9018``).

    The one masker of every value quoted in a message, an error report, a log line,
    metadata, or a data text field of a case: whatever the grouping (``1234-5678-9018``,
    ``1234 5678 9018``, full-width, with dots, slashes, dashes of any kind or parentheses).

    A number-like run (``NUMBER_RUN``: 12 or more digits, each at most 3 separators from the
    next) of exactly 12 digits is masked whole. In a longer run, every stretch of whole digit
    groups holding exactly 12 digits is masked and the rest kept (``高知市本町1-2-3
    1234-5678-9018`` keeps its 番地); a longer run with no such stretch is masked whole, the
    safe side. Shorter runs stay (a 番地 ``1-2-3``, a date, a phone number, a 照会番号), and so
    do tenken's own case ids (``CASE_ID_FORM``). A 12-digit 宛名番号 in such text is masked
    too: the safe side.
    """
    return _RUN_RE.sub(_masked, text)


def _masked(match: re.Match[str]) -> str:
    run = match.group()
    if _CASE_ID_RE.fullmatch(run):
        return run
    groups = list(_GROUP_RE.finditer(run))
    if sum(len(g.group()) for g in groups) == 12:
        return _mask_span(run)
    spans = []
    for i in range(len(groups)):
        total = 0
        for j in range(i, len(groups)):
            total += len(groups[j].group())
            if total >= 12:
                break
        if total == 12:
            spans.append((groups[i].start(), groups[j].end()))
    if not spans:
        return _mask_span(run)
    out, at = [], 0
    for start, end in spans:
        start = max(start, at)
        out.append(run[at:start] + _mask_span(run[start:end]))
        at = end
    return "".join(out) + run[at:]


def _mask_span(span: str) -> str:
    return MASK + "".join(_GROUP_RE.findall(span))[-4:]


def holds_number(text: str) -> bool:
    """Whether ``scrub`` would mask something in ``text``."""
    return scrub(text) != text


#: the older name of ``holds_number``
holds_twelve_digits = holds_number


def scrub_column(values: pl.Series) -> pl.Series:
    """``scrub`` over a column: only the distinct values that hold a number-like run at all
    (found by a vectorised regex) are masked one by one, so a file is never walked in Python."""
    frame = pl.DataFrame({"text": values.cast(pl.String)})
    candidates = frame.filter(holds_number_expr(pl.col("text")).fill_null(False)).unique()
    masked = candidates.with_columns(
        pl.col("text").map_elements(scrub, return_dtype=pl.String).alias("masked")
    )
    joined = frame.join(masked, on="text", how="left", maintain_order="left")
    return joined.select(pl.coalesce("masked", "text")).to_series().rename(values.name)


def holds_number_expr(text: pl.Expr) -> pl.Expr:
    """Whether each value holds a number-like run (after NFKC: ``①`` and other compatibility
    digits count as digits). Null stays null."""
    return text.str.normalize("NFKC").str.contains(NUMBER_RUN)


def _holds_my_number(text: str) -> bool:
    for run in _RUN_RE.finditer(unicodedata.normalize("NFKC", text)):
        groups = _GROUP_RE.findall(run.group())
        if sum(map(len, groups)) == 12:
            return True  # 12 digits, however grouped: a 個人番号, mistyped or not
        # longer: 12 digits on group boundaries, in groups of 3 or more as numbers are
        # written (not the 2-digit months and days of a date range), or inside one long
        # group, that check out
        for i in range(len(groups)):
            digits = ""
            for group in groups[i:]:
                if len(group) < 3:
                    break
                digits += group
                if len(digits) >= 12:
                    break
            if len(digits) == 12 and is_valid_my_number(digits):
                return True
            long = groups[i]
            if len(long) > 12 and any(is_valid_my_number(long[k : k + 12]) for k in range(len(long) - 11)):
                return True
    return False


def my_number_in_text(values: pl.Series) -> pl.Series:
    """Whether each free-text value holds a 個人番号, in any grouping (refused in free text).

    A run of exactly 12 digits (any separators, full width, NFKC digits) always counts,
    whatever its check digit: a mistyped number is still someone's. A longer run counts when
    12 digits of it, on group boundaries in groups of 3 digits or more, or inside one long
    group, have a valid check digit (``1234 5678 9018 1`` does; a date range
    ``2026-11-20 - 2026-11-30`` does not). Shorter runs never do (a 番地 ``1-2-3``, a phone
    number, a date, a time).

    Vectorised where it matters: only the distinct values that hold a run of 12 or more
    digits at all are looked at one by one.
    """
    frame = pl.DataFrame({"text": values.cast(pl.String)})
    candidates = frame.filter(holds_number_expr(pl.col("text")).fill_null(False)).unique()
    found = candidates.with_columns(
        pl.col("text").map_elements(_holds_my_number, return_dtype=pl.Boolean).alias("found")
    )
    joined = frame.join(found, on="text", how="left", maintain_order="left")
    return joined["found"].fill_null(False).rename(values.name)


#: an input value a message may quote as it is: a short code of ASCII letters and digits
_SHORT_CODE = r"^[0-9A-Za-z]{1,4}$"


def masked_number_expr(text: pl.Expr) -> pl.Expr:
    """The first number-like run of ``text`` as a message may show it: ``********9018``."""
    run = text.str.normalize("NFKC").str.extract(f"({NUMBER_RUN})", 1)
    return pl.lit(MASK) + run.str.replace_all(r"\D", "").str.slice(-4)


def quoted_value_expr(value: pl.Expr, *, safe: str = _SHORT_CODE) -> pl.Expr:
    """How a message or error report shows an input value it refused.

    A short code (``3``, ``M``, ``99``) is quoted: it tells staff what to fix and is nobody's
    data. Anything else is described by its length only, never shown: a value in the wrong
    column may be a 氏名, an address, a birth date or a 個人番号 (the row and column locate
    it in the file, which staff open themselves). ``safe``: the pattern of values that may be
    quoted (a 照会番号 of up to 11 digits, say).
    """
    return (
        pl.when(value.str.contains(safe))
        .then(pl.format("「{}」", value))
        .when(value.is_not_null())
        .then(pl.format("{}文字の値、内容は非表示", value.str.len_chars()))
    )


def mask_expr(column: str) -> pl.Expr:
    """Vectorised ``mask_my_number`` for previews."""
    c = pl.col(column)
    return (
        pl.when(c.is_null() | (c.str.len_chars() == 0))
        .then(pl.lit(""))
        .otherwise(pl.lit("********") + c.str.slice(-4))
        .alias(column)
    )


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents we create) as 0700 and return it."""
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            d.mkdir(mode=DIR_MODE)
        os.chmod(d, DIR_MODE)
    return path


@contextlib.contextmanager
def private_file(path: Path) -> Iterator[BinaryIO]:
    """Open ``path`` for writing, 0600, atomically: the real name appears only on success."""
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    set_private_mode(fd, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)  # a power cut right after keeps the new file
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    # a process killed while writing this file earlier (SIGKILL, power loss) left its
    # temporary copy behind; it may hold 個人番号 and is never renamed, so it goes now
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.part"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def write_private(path: Path, data: bytes) -> Path:
    with private_file(path) as fh:
        fh.write(data)
    return path


#: of every stage file: lz4 is written a quarter and read twice as fast as the default zstd,
#: for files that only live between two stages (1.5× the size)
STAGE_COMPRESSION: Final = "lz4"


def write_private_parquet(path: Path, frame: pl.DataFrame) -> Path:
    with private_file(path) as fh:
        frame.write_parquet(fh, compression=STAGE_COMPRESSION)
    return path


@dataclass(frozen=True)
class ParquetParts:
    """A stage result already written as private parquet files (``write_private_parquet``),
    in order, for the IO manager to make its stage file of.

    One part (every stage's result, and 照合's up to 1M records) becomes the stage file by a
    rename; only several parts are read and written again as one file. At 1M rows the
    rename spared 照合 a second write of the whole result (1.2–1.8 s measured).
    """

    paths: tuple[Path, ...]

    def scan(self) -> pl.LazyFrame:
        return pl.scan_parquet(list(self.paths))

    def move_to(self, target: Path) -> None:
        """``target`` holds the parts, as one file (0600, atomically); the parts are gone."""
        if len(self.paths) == 1:
            private_dir(target.parent)
            try:
                os.replace(self.paths[0], target)
                fsync_dir(target.parent)
                return
            except OSError as e:  # another file system (a store placed elsewhere): copy below
                if e.errno != errno.EXDEV:
                    raise
        with private_file(target) as fh:
            self.scan().sink_parquet(fh, compression=STAGE_COMPRESSION)
        for part in self.paths:
            remove_quietly(part)


def remove_quietly(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False
