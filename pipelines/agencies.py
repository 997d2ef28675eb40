"""Agencies (地方公共団体コード) and 事務: validation and Japanese names.

Partition keys are validated here, in plain Python, so the CLI, the sensor and the assets
refuse the same things with the same messages.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from pipelines.checkdigit import agency_check_digit, is_valid_agency_code
from pipelines.errors import Problem, TenkenInputError
from schemas.config import ROUND, JimuSpec, TenkenSettings


@dataclass(frozen=True)
class Agency:
    code: str
    name: str  # 高知県高知市, or the configured name; "" when unknown
    prefecture_code: str  # the 都道府県 it belongs to (390003 for 392014)

    @property
    def is_prefecture(self) -> bool:
        return self.code == self.prefecture_code


@cache
def _names() -> dict[str, tuple[str, str]]:
    text = resources.files("schemas").joinpath("data/municipalities.csv").read_text(encoding="utf-8")
    return {r["code"]: (r["prefecture"], r["name"]) for r in csv.DictReader(text.splitlines())}


def prefecture_code(code: str) -> str:
    base = code[:2] + "000"
    return base + str(agency_check_digit(base))


def agency(code: str, settings: TenkenSettings | None = None) -> Agency:
    """Validate ``code`` (6 digits, check digit) and look up its name."""
    if not is_valid_agency_code(code):
        raise TenkenInputError([Problem("AGENCY_CODE", column="団体コード", detail=code)])
    configured = (settings.agencies if settings else {}).get(code)
    pref, name = _names().get(code, ("", ""))
    display = configured or (f"{pref}{name}" if name else pref)
    return Agency(code=code, name=display, prefecture_code=prefecture_code(code))


def jimu(slug: str, settings: TenkenSettings) -> JimuSpec:
    try:
        return settings.jimu[slug]
    except KeyError:
        known = "、".join(sorted(settings.jimu))
        raise TenkenInputError(
            [Problem("JIMU_UNKNOWN", column="事務", detail=f"{slug}（設定にある事務: {known}）")]
        ) from None


def default_round(today: date) -> str:
    """The 年度 (April–March) as the default 点検回: 2026-11-23 → ``2026``."""
    return str(today.year if today.month >= 4 else today.year - 1)


def check_round(round_id: str) -> str:
    if not ROUND.match(round_id):
        raise TenkenInputError([Problem("ROUND_ID", column="点検回", detail=round_id)])
    return round_id


def reporting_bodies(prefecture: str) -> list[str]:
    """The prefecture itself and its municipalities that report on their own: the 政令市 and
    not its 区 (行政区 are not 地方公共団体), Tokyo's 特別区 (they are)."""
    prefix = prefecture[:2]

    def is_ward(name: str) -> bool:
        # 行政区 are named 〇〇市〇〇区 in the code table; Tokyo's 特別区 are 〇〇区 alone
        return "市" in name and name.endswith("区") and name.index("市") < len(name) - 2

    return sorted(c for c, (_, name) in _names().items() if c.startswith(prefix) and not is_ward(name))
