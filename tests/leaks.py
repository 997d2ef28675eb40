"""Find 個人番号 where they must never be: logs, the Dagster instance, messages, evidence.

A number is looked for in every form it could take there: ASCII digits, full-width digits
(as typed into an extract), and full-width digits as JSON escapes (``\\uff11…``, how
Dagster serialises non-ASCII text into its SQLite event log).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

#: the parts of a tenken home that may legitimately hold 個人番号 (0600 data files)
DATA_DIRS = ("data",)

_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_TO_ASCII = str.maketrans("０１２３４５６７８９", "0123456789")
_TWELVE = re.compile(r"(?<![0-9０-９])[0-9０-９]{12}(?![0-9０-９])")


def forms(number: str) -> list[bytes]:
    """The byte patterns a stored or printed copy of ``number`` would contain."""
    ascii_form = number.translate(_TO_ASCII)
    wide = ascii_form.translate(_FULL_WIDTH)
    return [ascii_form.encode("ascii"), wide.encode("utf-8"), json.dumps(wide)[1:-1].encode("ascii")]


def numbers_in(paths: Iterable[Path]) -> set[str]:
    """Every 12-digit run (half or full width) in the given input files, as ASCII digits."""
    found: set[str] = set()
    for path in paths:
        data = path.read_bytes()
        for codec in ("utf-8", "cp932", "utf-16"):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                continue
            found |= {m.translate(_TO_ASCII) for m in _TWELVE.findall(text)}
    return found


def leaked(numbers: Iterable[str], texts: Iterable[str] = (), paths: Iterable[Path] = ()) -> list[str]:
    """Every place (text index or file) holding one of ``numbers``; masked in the report."""
    wanted = [(n[-4:], pattern) for n in numbers if n for pattern in forms(n)]
    found: list[str] = []
    for i, text in enumerate(texts):
        data = text.encode("utf-8", "replace")
        found += [f"text[{i}]: ********{tail}" for tail, p in wanted if p in data]
    for root in paths:
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for f in files:
            data = f.read_bytes()
            found += [f"{f}: ********{tail}" for tail, p in wanted if p in data]
    return sorted(set(found))


def instance_storage(home: Path) -> list[Path]:
    """Everything of a tenken home except its data folder (runs, events, logs, evidence)."""
    return [p for p in home.iterdir() if p.name not in DATA_DIRS]
