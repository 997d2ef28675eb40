"""Helpers to run the matching rules on a few hand-written rows (tests, docs, support).

Like splink's ``is_in_level``: give the two sides as plain values, get the judgements.

Example::

    judge(biz={"name": "髙橋　一郎"}, juki={"name": "〓橋　一郎"})["judgement_name"]
    # '表記ゆれ一致'
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from pipelines.matching.causes import add_causes
from pipelines.matching.comparisons import build_comparisons, held_fields
from pipelines.matching.levels import compile_judgements
from pipelines.matching.owners import population_from_graded
from pipelines.matching.rules import classify
from pipelines.matching.settings import MatchSettings
from schemas.config import JimuSpec, MatchingOptions

#: a record where both sides agree exactly; tests change only what they are about
BASE: dict[str, Any] = {
    "name": "山田　太郎",
    "kana": "ヤマダ　タロウ",
    "birth_date": date(1970, 12, 4),
    "sex": "1",
    "address": "高知県高知市本町一丁目1番1号",
}


def default_settings(**holds: bool) -> MatchSettings:
    spec = JimuSpec.model_validate({"name": "テスト", "holds": holds})
    return MatchSettings.build("test", spec, MatchingOptions())


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows of ``{"biz": {...}, "juki": {...}, "result_code": "00"}`` as matching input."""
    records = []
    for i, row in enumerate(rows):
        biz = {**BASE, **row.get("biz", {})}
        juki = {**BASE, **row.get("juki", {})}
        records.append(
            {
                "round_id": "test",
                "inquiry_no": f"{i + 1:010d}",
                "atena_no": row.get("atena_no", f"A{i + 1:05d}"),
                "my_number": row.get("my_number", "123456789018"),
                "result_code": row.get("result_code", "00"),
                "move_reason": row.get("move_reason"),
                "number_shared_by": row.get("number_shared_by"),
                **{f"biz_{k}": v for k, v in biz.items()},
                **{f"juki_{k}": v for k, v in juki.items()},
            }
        )
    schema = {
        "biz_birth_date": pl.Date,
        "juki_birth_date": pl.Date,
        "move_reason": pl.String,
        "number_shared_by": pl.String,
    }
    return pl.DataFrame(records, schema_overrides=schema, infer_schema_length=None).with_columns(
        [
            pl.col(c).cast(pl.String)
            for c in (
                "biz_name",
                "juki_name",
                "biz_kana",
                "juki_kana",
                "biz_sex",
                "juki_sex",
                "biz_address",
                "juki_address",
            )
        ]
    )


def population(people: list[dict[str, Any]]) -> pl.DataFrame:
    """Other rows of the extract (``atena_no`` plus any of ``BASE``'s keys), as the likely
    owner lookup reads them; missing keys take ``BASE``'s value."""
    records = [
        {
            "atena_no": p["atena_no"],
            **{k: p.get(k, BASE[k]) for k in ("name", "kana", "birth_date", "sex", "address")},
        }
        for p in people
    ]
    return pl.DataFrame(
        records,
        schema={
            "atena_no": pl.String,
            "name": pl.String,
            "kana": pl.String,
            "birth_date": pl.Date,
            "sex": pl.String,
            "address": pl.String,
        },
    )


def run(
    rows: list[dict[str, Any]],
    settings: MatchSettings | None = None,
    others: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Judge, classify and explain ``rows``; ``others`` are further rows of the extract
    (the rows themselves are always part of it)."""
    settings = settings or default_settings()
    comparisons = build_comparisons(settings)
    judged = compile_judgements(frame(rows), comparisons)
    graded = classify(judged, comparisons, held_fields(settings))
    extract = None
    if others is not None:
        extract = pl.concat([population_from_graded(graded), population(others)])
    return add_causes(graded, settings, extract).to_dicts()


def judge(
    biz: dict[str, Any] | None = None,
    juki: dict[str, Any] | None = None,
    others: list[dict[str, Any]] | None = None,
    **kw: Any,
) -> dict[str, Any]:
    return run([{"biz": biz or {}, "juki": juki or {}, **kw}], others=others)[0]
