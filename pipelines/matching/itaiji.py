"""異体字 folding tables: the curated built-in table, and an agency's own file.

The built-in table (``schemas/data/itaiji.csv``) maps a glyph variant to the standard form
of **the same character**: 旧字体 (澤 → 沢, 國 → 国), characters outside JIS X 0208 that
住基ネット holds as 外字 (髙 → 高, 﨑 → 崎, 𠮷 → 吉), and a few pairs where both forms are
everyday JIS level-1 characters but one character (嶋 → 島, 龍 → 竜), each decided on purpose.
It never joins two different characters, even where published tables do (斎 and 斉 stay
apart; 崎 is not 埼; 藤 is not 籐): a wrong merge would let a different person pass as A.

An agency may add (``matching.itaiji_map_file``):

* a CSV ``元の文字,縮退後の文字`` (UTF-8, header optional), one character to one character;
* the official **MJ縮退マップ** (IPA/CITPC ``MJShrinkMap.*.json``). Its entries are keyed by
  MJ文字図形名 (``MJ000001``), not by character, so it needs the **MJ文字情報一覧表**
  (``matching.mj_list_file``, CSV or xlsx with the columns ``MJ文字図形名`` and
  ``対応するUCS``) to know which character each entry is about. Only the unambiguous rules are
  used: ``JIS包摂規準・UCS統合規則``, ``法務省告示582号別表第四`` and
  ``法務省戸籍法関連通達・通知`` (minus candidates marked 別字); ``辞書類等による関連字`` and
  ``読み・字形による類推`` join different characters and are ignored. A character is mapped
  only when those rules give exactly one other character in JIS X 0208, and never from one
  JIS level-1 character to another (that decision stays with the curated table).
"""

from __future__ import annotations

import csv
import json
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.files.jis import jis0208_chars

#: MJ縮退マップ rules that keep the character (the rest join different characters)
MJ_RULES = ("JIS包摂規準・UCS統合規則", "法務省告示582号別表第四", "法務省戸籍法関連通達・通知")
MJ_SEPARATE_CHARACTER = "別字"


class ItaijiFileError(ValueError):
    """An agency's 異体字 file cannot be read as configured (the message says why)."""


@cache
def builtin_itaiji() -> dict[str, str]:
    text = resources.files("schemas").joinpath("data/itaiji.csv").read_text(encoding="utf-8")
    return {r["variant"]: r["standard"] for r in csv.DictReader(text.splitlines())}


@cache
def distinct_pairs() -> tuple[tuple[str, str], ...]:
    """Pairs of different characters that no table may fold together (``itaiji_distinct.csv``)."""
    text = resources.files("schemas").joinpath("data/itaiji_distinct.csv").read_text(encoding="utf-8")
    return tuple((r["a"], r["b"]) for r in csv.DictReader(text.splitlines()))


def jis_level(char: str) -> int | None:
    """1 or 2 for JIS X 0208 kanji of that level, 0 for other JIS X 0208 characters."""
    if char not in jis0208_chars():
        return None
    lead = char.encode("euc_jp")[0]
    return 1 if 0xB0 <= lead <= 0xCF else 2 if lead >= 0xD0 else 0


def load_itaiji(extra_file: str | None, mj_list_file: str | None = None) -> dict[str, str]:
    """The built-in table, extended by an agency's file, with chains resolved (A→B→C).

    Read once per file version (the official files are large; a run asks several times).
    """
    stamps = tuple(
        Path(f).stat().st_mtime_ns if f and Path(f).exists() else None for f in (extra_file, mj_list_file)
    )
    return dict(_load_itaiji(extra_file, mj_list_file, stamps))


@lru_cache(maxsize=8)
def _load_itaiji(
    extra_file: str | None, mj_list_file: str | None, stamps: tuple[int | None, ...]
) -> tuple[tuple[str, str], ...]:
    del stamps  # part of the cache key only: a changed file is read again
    table = dict(builtin_itaiji())
    if extra_file:
        path = Path(extra_file)
        extra = read_mj_shrink_map(path, mj_list_file) if path.suffix.lower() == ".json" else read_pairs(path)
        for variant, standard in extra.items():
            table.setdefault(variant, standard)  # the curated decision wins
    return tuple(_keep_apart(_resolve_chains(table)).items())


def _keep_apart(table: dict[str, str]) -> dict[str, str]:
    """Drop an agency's pairs that would fold two different characters together (斎/斉)."""
    builtin = builtin_itaiji()
    for a, b in distinct_pairs():
        if table.get(a, a) == table.get(b, b):
            for char in (a, b):
                if char not in builtin:
                    table.pop(char, None)
            # the agency's pair may be on the target side (X→斎 and 斉→X)
            target = table.get(a, a)
            for char, folded in list(table.items()):
                if folded == target and char not in builtin:
                    del table[char]
    return _resolve_chains(table)


def read_pairs(path: Path) -> dict[str, str]:
    """CSV ``元の文字,縮退後の文字``: one character to one other character per row.

    A row mapping to several characters, or to nothing (MJ縮退マップ's "no substitute"),
    is skipped: it would make different names equal.
    """
    out: dict[str, str] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.reader(fh):
            if len(row) >= 2 and len(row[0]) == 1 and len(row[1]) == 1 and row[0] != row[1]:
                out[row[0]] = row[1]
    return out


def read_mj_shrink_map(path: Path, mj_list_file: str | None) -> dict[str, str]:
    """MJ縮退マップ (JSON) + MJ文字情報一覧表 → character → standard character."""
    if not mj_list_file:
        raise ItaijiFileError(
            f"MJ縮退マップ「{path.name}」を使うには MJ文字情報一覧表（matching.mj_list_file）も"
            "指定してください"
        )
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8-sig"))
        entries = data["content"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ItaijiFileError(f"MJ縮退マップ「{path.name}」を読めません: {e}") from None
    source_of = _mj_sources(Path(mj_list_file))
    candidates: dict[str, set[str]] = {}
    for entry in entries:
        source = source_of.get(entry.get("MJ文字図形名", ""))
        if source is None:
            continue
        targets = candidates.setdefault(source, set())
        for rule in MJ_RULES:
            for item in entry.get(rule) or []:
                if item.get("付記") == MJ_SEPARATE_CHARACTER:
                    continue
                char = _ucs_char(item.get("UCS", ""))
                if char and char != source:
                    targets.add(char)
    out = {}
    for source, targets in candidates.items():
        if len(targets) != 1:
            continue
        (target,) = targets
        if jis_level(target) is None or (jis_level(source) == 1 and jis_level(target) == 1):
            continue
        out[source] = target
    return out


def _ucs_char(code: str) -> str | None:
    """``U+9AD9`` → 髙; anything else (a sequence, a blank) → None."""
    if not code.upper().startswith("U+") or " " in code:
        return None
    try:
        return chr(int(code[2:], 16))
    except ValueError:
        return None


def _mj_sources(path: Path) -> dict[str, str]:
    """MJ文字情報一覧表: MJ文字図形名 → the character (対応するUCS)."""
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            frame = pl.read_excel(path, infer_schema_length=0)
        else:
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except Exception as e:  # polars/fastexcel raise many kinds; the message names the file
        raise ItaijiFileError(f"MJ文字情報一覧表「{path.name}」を読めません: {e}") from None
    missing = [c for c in ("MJ文字図形名", "対応するUCS") if c not in frame.columns]
    if missing:
        raise ItaijiFileError(f"MJ文字情報一覧表「{path.name}」に列 {missing} がありません")
    out = {}
    for name, code in frame.select("MJ文字図形名", "対応するUCS").iter_rows():
        char = _ucs_char(code or "")
        if name and char:
            out[name] = char
    return out


def _resolve_chains(table: dict[str, str]) -> dict[str, str]:
    """Follow A→B→C so one pass of replacement folds completely."""
    resolved = {}
    for variant in table:
        seen = {variant}
        target = table[variant]
        while target in table and target not in seen:
            seen.add(target)
            target = table[target]
        if target != variant:
            resolved[variant] = target
    return resolved
