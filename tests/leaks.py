"""Find 個人番号 where they must never be: logs, the Dagster instance, messages."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

#: the parts of a tenken home that may legitimately hold 個人番号 (0600 data files)
DATA_DIRS = ("data",)


def leaked(numbers: Iterable[str], texts: Iterable[str] = (), paths: Iterable[Path] = ()) -> list[str]:
    """Every place (text index or file) holding one of ``numbers``; masked in the report."""
    wanted = [n.encode("ascii") for n in numbers if n]
    found: list[str] = []
    for i, text in enumerate(texts):
        data = text.encode("utf-8", "replace")
        found += [f"text[{i}]: ********{n[-4:].decode()}" for n in wanted if n in data]
    for root in paths:
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for f in files:
            data = f.read_bytes()
            found += [f"{f}: ********{n[-4:].decode()}" for n in wanted if n in data]
    return found


def instance_storage(home: Path) -> list[Path]:
    """Everything of a tenken home except its data folder (runs, events, logs, schedules)."""
    return [p for p in home.iterdir() if p.name not in DATA_DIRS]
