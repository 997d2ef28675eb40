"""Files people open: CSV in cp932 for Excel, safe from formula injection.

A text cell that starts with ``= + - @``, a tab or a carriage return would be run as a
formula by Excel; such cells get a leading apostrophe (Excel's own "this is text" mark).
Characters cp932 cannot hold (e.g. 𠮷 from a UTF-8 extract) become 〓 in the CSV, counted
and reported; the workbook keeps them exactly.
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import io
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl

from pipelines.parallel import OneBehind
from pipelines.privacy import private_file
from schemas.codes import GETA

#: first characters that make Excel evaluate a cell as a formula (or DDE)
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


class CsvCp932Writer:
    """A cp932 CSV (0600, atomic) written frame by frame: the header once, then the rows of
    every frame given to ``write``, in order. The file appears under its name only when the
    ``with`` block ends without error. ``replaced`` counts characters written as 〓.

    A chunk is encoded and written by a second thread while polars formats the next one:
    the cp932 codec holds the interpreter, polars' formatting into a buffer does not, so the
    two overlap. One chunk at most waits, so memory stays two chunks.
    """

    def __init__(self, path: Path, *, crlf: bool = True) -> None:
        self.path = path
        self.crlf = crlf
        self.replaced = 0
        self._header = True
        self._file: contextlib.AbstractContextManager[BinaryIO] | None = None
        self._fh: BinaryIO | None = None
        self._behind: OneBehind | None = None

    def __enter__(self) -> CsvCp932Writer:
        self._file = private_file(self.path)
        self._fh = self._file.__enter__()
        self._behind = OneBehind("tenken-cp932")
        return self

    def write(self, frame: pl.DataFrame) -> None:
        assert self._fh is not None and self._behind is not None
        # a frame with no rows still writes the header when it is the first one
        for offset in range(0, max(frame.height, 1 if self._header else 0), CSV_CHUNK_ROWS):
            part = neutralise_formulas(frame.slice(offset, CSV_CHUNK_ROWS))
            # into bytes: formatting into a Python text holds the interpreter, into a buffer not
            utf8 = io.BytesIO()
            part.write_csv(utf8, include_header=self._header, line_terminator="\r\n" if self.crlf else "\n")
            self._header = False
            self._behind.submit(self._encode_and_write, utf8.getvalue())

    def _encode_and_write(self, utf8: bytes) -> None:
        assert self._fh is not None
        data, count = encode_cp932(utf8.decode("utf-8"))
        self._fh.write(data)
        self.replaced += count

    def __exit__(self, *exc: Any) -> bool | None:
        assert self._file is not None and self._behind is not None
        try:
            # the last chunk is written (or has failed) before the file is kept or removed
            self._behind.__exit__(*exc)
        except BaseException as error:
            self._file.__exit__(type(error), error, error.__traceback__)
            raise
        return self._file.__exit__(*exc)


def write_csv_cp932(frame: pl.DataFrame, path: Path, *, crlf: bool = True) -> int:
    """Write ``frame`` as cp932 CSV with header (0600, atomic). Returns replaced characters."""
    with CsvCp932Writer(path, crlf=crlf) as writer:
        writer.write(frame)
    return writer.replaced
