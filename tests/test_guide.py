"""The Japanese guide for staff and auditors explains every error code the product can emit.

The codes are discovered, not listed here: every code of the catalogue (``pipelines.errors``)
and every code the production source hands to a Problem, a refusal or a problems frame
(``Problem("X"``, ``refuse("X"``, ``pl.lit("X")``). A code found in the source but missing
from the catalogue fails too: it would reach a user without its Japanese text.
"""

from __future__ import annotations

import re
from pathlib import Path

from pipelines.errors import CATALOGUE

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "利用者向け手順書.md"
PRODUCTION = ("pipelines", "schemas", "assets", "tenken", "demo")
#: how production code names a code it emits
EMITTED = re.compile(
    r"""(?:Problem|refuse|lit|_problem|problem)\(\s*(?:code\s*=\s*)?["']([A-Z][A-Z0-9_]{3,})["']"""
)
CODE_KEYWORD = re.compile(r"""\bcode\s*=\s*["']([A-Z][A-Z0-9_]{3,})["']""")


def emitted_codes() -> set[str]:
    found: set[str] = set()
    for folder in PRODUCTION:
        for source in (ROOT / folder).rglob("*.py"):
            text = source.read_text(encoding="utf-8")
            found |= set(EMITTED.findall(text)) | set(CODE_KEYWORD.findall(text))
    return found


def test_the_scan_finds_the_codes_it_should() -> None:
    found = emitted_codes()
    # a sample across the layers: a reader refusal, a row rule, a workbook check, a preflight
    assert {"FILE_NOT_FOUND", "CONTROL_CHARACTER", "WORKBOOK_FORMULA", "OUT_IS_A_FILE"} <= found


def test_every_emitted_code_has_its_japanese_text() -> None:
    assert emitted_codes() - set(CATALOGUE) == set()


def test_the_guide_explains_every_code() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    codes = set(CATALOGUE) | emitted_codes()
    missing = sorted(code for code in codes if f"`{code}`" not in guide)
    assert missing == [], f"docs/利用者向け手順書.md does not explain: {missing}"


def test_the_guide_has_its_sections_and_is_linked_from_the_readme() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    for heading in (
        "1年の点検の手順",
        "確認作業リストの返し方",
        "判定（A・B・C）",
        "推定原因",
        "監査担当者向け",
    ):
        assert heading in guide
    assert "docs/利用者向け手順書.md" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_guide_explains_every_likely_cause() -> None:
    from pipelines.matching.causes import cause_rules

    guide = GUIDE.read_text(encoding="utf-8")
    labels = {rule.label for rule in cause_rules()}
    assert len(labels) > 10
    assert sorted(label for label in labels if label not in guide) == []
