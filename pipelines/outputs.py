"""Files people open: CSV in cp932 for Excel, safe from formula injection.

A text cell that starts with ``= + - @``, a tab or a carriage return would be run as a
formula by Excel; such cells get a leading apostrophe (Excel's own "this is text" mark).
Characters cp932 cannot hold (e.g. 𠮷 from a UTF-8 extract) become 〓 in the CSV, counted
and reported; the workbook keeps them exactly.
"""

from __future__ import annotations

import codecs
import contextvars
from pathlib import Path

import polars as pl

from pipelines.privacy import private_file
from schemas.codes import GETA

FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix ``'`` to every string cell Excel would evaluate as a formula."""
    return frame.with_columns(
        [
            pl.when(pl.col(c).str.contains(FORMULA_START))
            .then(pl.lit("'") + pl.col(c))
            .otherwise(pl.col(c))
            .alias(c)
            for c, t in frame.schema.items()
            if t == pl.String
        ]
    )


_replaced: contextvars.ContextVar[list[int]] = contextvars.ContextVar("tenken_geta_count")


def _geta(err: UnicodeError) -> tuple[str, int]:
    assert isinstance(err, UnicodeEncodeError)
    _replaced.get().append(err.end - err.start)
    return GETA * (err.end - err.start), err.end


codecs.register_error("tenken_geta", _geta)


def encode_cp932(text: str) -> tuple[bytes, int]:
    """``text`` in cp932, characters it cannot hold as 〓; returns (bytes, how many replaced)."""
    counts: list[int] = []
    token = _replaced.set(counts)
    try:
        return text.encode("cp932", errors="tenken_geta"), sum(counts)
    finally:
        _replaced.reset(token)


#: rows converted to text and cp932 at a time (the whole file is never one string)
CSV_CHUNK_ROWS = 200_000


def write_csv_cp932(frame: pl.DataFrame, path: Path, *, crlf: bool = True) -> int:
    """Write ``frame`` as cp932 CSV with header (0600, atomic). Returns replaced characters."""
    replaced = 0
    with private_file(path) as fh:
        for offset in range(0, max(frame.height, 1), CSV_CHUNK_ROWS):
            part = neutralise_formulas(frame.slice(offset, CSV_CHUNK_ROWS))
            text = part.write_csv(include_header=offset == 0, line_terminator="\r\n" if crlf else "\n")
            data, count = encode_cp932(text)
            fh.write(data)
            replaced += count
    return replaced
