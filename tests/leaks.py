"""Find 個人番号 and residents' data where they must never be.

Where: logs, terminal output, the Dagster instance (event log, run storage, compute logs),
error reports, import reports, the audit trail and its export, metadata, F5 — everything but
the files meant to hold them (F1/F1b inputs, F2, F4, stage files, the case store's own
resident columns).

How a number is looked for, independently of the product's own masker: every text is
decoded (UTF-8, cp932, UTF-16; JSON ``\\uXXXX`` escapes as Dagster writes non-ASCII into
its SQLite event log; xlsx packages unzipped), NFKC-normalised (full-width digits become
digits), and every character that is neither a letter nor a digit is dropped, so ``1234 -
5678 ー 9018``, ``(1234)5678-9018`` and ``１２３４．５６７８．９０１８`` all read ``123456789018``.
A number is found wherever that skeleton holds it.

Residents' data: the 氏名 (as written and without spaces), 住所 and 生年月日 (as written and
as ``YYYYMMDD``) of every input row, found by their NFKC text.
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from pipelines.dates import parse_dates

#: the parts of a tenken home that may legitimately hold 個人番号 (0600 data files)
DATA_DIRS = ("data",)

#: a number in an input: 12 digits alone. Digits inside a hex token are not one: the hashes an
#: audit export or a manifest lists hold 12-digit runs by chance (about 1 in 40 SHA-256 values),
#: and the same hash in the instance's metadata (the chain head) then read as a leak
_TWELVE = re.compile(r"(?<![0-9A-Fa-f])\d{12}(?![0-9A-Fa-f])")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
#: what is dropped between digits: everything but letters and digits, and the long vowel
#: marks (ー ｰ), which count as letters but are used as dashes
_NOT_WORD = re.compile(r"[^\w]|[_\u30fc\uff70]", re.UNICODE)


def _texts_of(data: bytes) -> list[str]:
    """Every plausible decoding of ``data`` (a file may be cp932, UTF-8 or UTF-16)."""
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return [t for name in z.namelist() for t in _texts_of(z.read(name))]
        except zipfile.BadZipFile:
            pass
    texts = []
    for codec in ("utf-8", "cp932", "utf-16"):
        try:
            texts.append(data.decode(codec))
        except UnicodeDecodeError:
            continue
    if not texts:
        texts.append(data.decode("utf-8", "replace"))
    return texts


def skeleton(text: str) -> str:
    """``text`` with JSON escapes decoded, NFKC, and only letters and digits left."""
    unescaped = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", unescaped))


def numbers_in(paths: Iterable[Path]) -> set[str]:
    """Every 12-digit number (any grouping, any width) in the given input files."""
    found: set[str] = set()
    for path in paths:
        for text in _texts_of(path.read_bytes()):
            found |= set(_TWELVE.findall(unicodedata.normalize("NFKC", text)))
    return found


def _sources(texts: Iterable[str], paths: Iterable[Path]) -> Iterable[tuple[str, str]]:
    for i, text in enumerate(texts):
        yield f"text[{i}]", text
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for f in files:
            for text in _texts_of(f.read_bytes()):
                yield str(f), text


def leaked(numbers: Iterable[str], texts: Iterable[str] = (), paths: Iterable[Path] = ()) -> list[str]:
    """Every place (text index or file) holding one of ``numbers``, masked in the report."""
    wanted = {n for n in numbers if n}
    found: set[str] = set()
    for where, text in _sources(texts, paths):
        # anywhere in the skeleton, even glued to more digits (``1234 5678 9018 1``)
        found |= {f"{where}: ********{n[-4:]}" for n in twelve_digit_windows(skeleton(text)) & wanted}
    return sorted(found)


_DIGIT_RUN = re.compile(r"\d{12,}")


def twelve_digit_windows(flat: str) -> set[str]:
    """Every 12 consecutive digits of ``flat`` (so a set of numbers is looked up at once)."""
    return {
        run[i : i + 12]
        for m in _DIGIT_RUN.finditer(flat)
        for run in [m.group()]
        for i in range(len(run) - 11)
    }


@dataclass
class Residents:
    """The 氏名, 住所 and 生年月日 of the people in some input files."""

    names: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)
    births: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, paths: Iterable[Path]) -> Residents:
        found = cls()
        for path in paths:
            for text in _texts_of(path.read_bytes())[:1]:
                try:
                    frame = pl.read_csv(io.StringIO(text), infer_schema=False)
                except pl.exceptions.PolarsError:
                    continue
                found._add(frame, "氏名", found.names)
                found._add(frame, "住所", found.addresses)
                found._add(frame, "生年月日", found.births)
                if "生年月日" in frame.columns:
                    parsed = parse_dates(frame.select("生年月日"), "生年月日", today=date.today(), prefix="b")
                    found.births |= {d.strftime("%Y%m%d") for d in parsed["b_date"].drop_nulls()}
        return found

    @staticmethod
    def _add(frame: pl.DataFrame, column: str, into: set[str]) -> None:
        if column in frame.columns:
            into |= {skeleton(v) for v in frame[column].drop_nulls() if len(skeleton(v)) >= 4}

    def found_in(self, texts: Iterable[str] = (), paths: Iterable[Path] = ()) -> list[str]:
        """Every place holding a resident's 氏名, 住所 or 生年月日 (reported by kind only)."""
        kinds = (("氏名", self.names), ("住所", self.addresses), ("生年月日", self.births))
        found: set[str] = set()
        for where, text in _sources(texts, paths):
            flat = skeleton(text)
            for kind, values in kinds:
                if any(_holds(flat, v) for v in values):
                    found.add(f"{where}: {kind}")
        return sorted(found)


def _holds(flat: str, value: str) -> bool:
    """``value`` in ``flat``; a value that ends (starts) with a digit must not continue a
    longer number there (a birth date inside a timestamp is not a birth date)."""
    at = flat.find(value)
    while at >= 0:
        before = flat[at - 1] if at else ""
        after = flat[at + len(value) : at + len(value) + 1]
        if not (value[0].isdigit() and before.isdigit()) and not (value[-1].isdigit() and after.isdigit()):
            return True
        at = flat.find(value, at + 1)
    return False


def instance_storage(home: Path) -> list[Path]:
    """Everything of a tenken home except its data folder (runs, events, logs, evidence)."""
    return [p for p in home.iterdir() if p.name not in DATA_DIRS]


def case_store_events(home: Path) -> list[str]:
    """The append-only audit trail of a home's SQLite case store, as text (it must hold no
    number and no resident data; the ``cases`` table's resident columns may)."""
    path = home / "data" / "cases.sqlite"
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT * FROM case_events").fetchall()
    return [json.dumps(rows, ensure_ascii=False, default=str)]
