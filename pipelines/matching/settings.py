"""MatchSettings: everything that decides a 照合 outcome, saved with each result for audit."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pipelines.matching.itaiji import load_itaiji
from schemas.config import JimuSpec, MatchingOptions

#: bump when a level or rule changes meaning, so old results say which rules made them
RULES_VERSION = "2026.12-1"


@dataclass(frozen=True)
class MatchSettings:
    jimu: str
    holds_name: bool
    holds_kana: bool
    holds_birth_date: bool
    holds_sex: bool
    holds_address: bool
    small_kana_is_variant: bool
    itaiji_map_file: str | None
    itaiji_sha256: str
    mj_list_file: str | None = None
    town_whole_name: bool = False
    town_master_file: str | None = None
    town_master_sha256: str | None = None
    rules_version: str = RULES_VERSION

    @classmethod
    def build(cls, jimu: str, spec: JimuSpec, options: MatchingOptions) -> MatchSettings:
        table = load_itaiji(options.itaiji_map_file, options.mj_list_file)
        digest = hashlib.sha256(
            "\n".join(f"{k}{v}" for k, v in sorted(table.items())).encode("utf-8")
        ).hexdigest()
        h = spec.holds
        return cls(
            jimu=jimu,
            holds_name=h.name,
            holds_kana=h.kana,
            holds_birth_date=h.birth_date,
            holds_sex=h.sex,
            holds_address=h.address,
            small_kana_is_variant=options.small_kana_is_variant,
            itaiji_map_file=options.itaiji_map_file,
            itaiji_sha256=digest,
            mj_list_file=options.mj_list_file,
            town_whole_name=options.town_whole_name,
            town_master_file=options.town_master_file,
            town_master_sha256=_file_sha256(options.town_master_file),
        )

    def itaiji(self) -> dict[str, str]:
        return load_itaiji(self.itaiji_map_file, self.mj_list_file)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchSettings:
        return cls(**data)

    def digest(self) -> str:
        """Identifies what judged a result: these settings and the rules they build."""
        return _digest(self)

    def rules_sha256(self) -> str:
        """SHA-256 of the compiled rules (see ``causes.rules_fingerprint``)."""
        return _rules_sha256(self)


def _file_sha256(path: str | None) -> str | None:
    """SHA-256 of a configured file (None when not configured; a missing file is reported
    when it is read)."""
    if not path or not Path(path).is_file():
        return None
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@cache
def _rules_sha256(settings: MatchSettings) -> str:
    # imported here: the rules are built from the settings (causes → comparisons → settings)
    from pipelines.matching.causes import rules_fingerprint

    return rules_fingerprint(settings)


@cache
def _digest(settings: MatchSettings) -> str:
    payload = {**settings.to_dict(), "rules_sha256": _rules_sha256(settings)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
