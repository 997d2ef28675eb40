"""How a boundary file's columns are declared: contract name, code name, and whether required.

The contract fixes Japanese column names; the code uses the English names below everywhere
else (glossary in the README). An agency maps its own column names onto the contract by
configuration (``columns:`` aliases in tenken.yaml), never by code changes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    contract: str  # the Japanese name in the file, as the contract spells it
    name: str  # the code name used inside tenken
    required: bool
    description: str = ""


def by_contract(columns: tuple[Column, ...]) -> dict[str, Column]:
    return {c.contract: c for c in columns}


def normalise_header(name: str) -> str:
    """A header cell as compared with the contract's names: NFKC, without invisible format
    characters (a BOM or zero-width space left by joining or pasting), without quotes or
    spaces around it (full-width letters and stray quotes from hand-edited files still
    match). A header of spaces alone becomes blank."""
    text = "".join(c for c in unicodedata.normalize("NFKC", name) if unicodedata.category(c) != "Cf")
    return text.strip().strip('"').strip()
