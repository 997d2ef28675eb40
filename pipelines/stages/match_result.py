"""照合: compare each 点検対象 record with its 住基ネット result and classify A/B/C.

Grain: one row per 点検対象 record. The rules are data (``pipelines.matching``); the
settings that produced a result are saved beside it (``照合設定.json``) for audit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.errors import Problem, TenkenInputError
from pipelines.files.csv_writer import CsvCp932Writer
from pipelines.matching.causes import add_causes, describe_causes
from pipelines.matching.comparisons import Comparison, build_comparisons, held_fields
from pipelines.matching.levels import compile_judgements
from pipelines.matching.owners import Population, population_from_extract
from pipelines.matching.rules import classify, describe_rules
from pipelines.matching.settings import MatchSettings
from pipelines.privacy import write_private
from schemas.codes import Grade, Scope
from schemas.match_result import F4_COLUMNS

F4_FILE = "照合結果.csv"
#: records judged at a time (see ``match``)
MATCH_CHUNK_ROWS = 1_000_000
SETTINGS_FILE = "照合設定.json"

Frame = pl.DataFrame | pl.LazyFrame
#: the columns of the extract 照合 reads (the rest is never loaded)
_EXTRACT_COLUMNS = (
    "extract_id",
    "scope",
    "atena_no",
    "my_number",
    "name",
    "name_kana",
    "birth_date",
    "sex",
    "address",
)


@dataclass(frozen=True)
class MatchStats:
    records: int
    by_grade: dict[str, int]
    by_judgement: dict[str, dict[str, int]]
    by_cause: dict[str, int]


def match_inputs(extract_records: Frame, results: Frame) -> pl.DataFrame:
    """The 業務 side (点検対象 rows) beside the 住基 side, one row per 照会番号.

    Lazy inputs are read for the columns 照合 uses only.
    """
    extract = extract_records.lazy().select(_EXTRACT_COLUMNS)
    in_scope = extract.filter(pl.col("scope") == Scope.IN_SCOPE.value)
    biz, extract_ids = pl.collect_all(
        [
            in_scope.select(
                "atena_no",
                pl.col("name").alias("biz_name"),
                pl.col("name_kana").alias("biz_kana"),
                pl.col("birth_date").alias("biz_birth_date"),
                pl.col("sex").alias("biz_sex"),
                pl.col("address").alias("biz_address"),
            ),
            in_scope.select(pl.col("extract_id").n_unique()),
        ]
    )
    if extract_ids.item() > 1:
        raise ValueError("extract holds more than one extract_id")
    # the columns 照合 carries on (not the extract id or the file each answer came in)
    results = results.lazy().select(pl.exclude("extract_id", "result_file")).collect()
    joined = results.join(biz, on="atena_no", how="inner", maintain_order="left")
    if joined.height != results.height or joined.height != biz.height:
        raise TenkenInputError(
            [Problem("EXTRACT_CHANGED", detail=f"照会結果 {results.height} 件 / 点検対象 {biz.height} 件")]
        )
    del results, biz
    # the few numbers held by more than one 宛名番号 of the extract (a finding in itself):
    # 対象外 and 要修正 rows count too, since an auto-linked record holding the same number
    # points straight at the mislinked one. The rows of a repeated number are found first,
    # so the distinct (宛名番号, 個人番号) pairs are taken of those few only.
    held = extract.select("atena_no", "my_number").drop_nulls()
    holders = (
        held.filter(pl.col("my_number").is_duplicated())
        .unique()
        .filter(pl.col("my_number").is_duplicated())
        .group_by("my_number")
        .agg(pl.col("atena_no").alias("_holders"))
        .collect()
    )
    others = pl.col("_holders").list.set_difference(pl.concat_list(pl.col("atena_no")))
    shared = joined.join(holders, on="my_number", how="left", maintain_order="left").with_columns(
        pl.when(others.list.len() > 0).then(others.list.sort().list.join(",")).alias("number_shared_by")
    )
    del joined
    shared = shared.drop("_holders")
    # 照会結果 is stored in 照会番号 order: then the sort below costs nothing but the check (a
    # sort of 7.5M texts made a second copy of the whole input at 10M rows)
    return shared if shared["inquiry_no"].is_sorted() else shared.sort("inquiry_no")


def match(
    inputs: pl.DataFrame, settings: MatchSettings, extract_records: Frame | None = None
) -> pl.DataFrame:
    """Judge every field, classify, add 推定原因, likely owner and priority. Returns MatchResults.

    ``extract_records`` (every row of the extract, not only the 点検対象 ones) is where the
    likely true owner of a mislinked number is looked for; without it, only the records
    in ``inputs`` are.
    """
    return pl.concat(list(match_slices(inputs, settings, extract_records)), how="vertical")


def match_slices(
    inputs: pl.DataFrame, settings: MatchSettings, extract_records: Frame | None = None
) -> Iterator[pl.DataFrame]:
    """``match`` in slices of ``MATCH_CHUNK_ROWS`` records, in 照会番号 order: the slices
    one after another are the result of ``match``, so each can be written and dropped
    before the next is judged. The caller need not keep ``inputs``.
    """
    comparisons = build_comparisons(settings)
    population = population_from_extract(extract_records) if extract_records is not None else None
    # records are judged independently of each other: in slices, so the intermediate forms
    # of a large round are never all in memory at once; 照会番号 is unique, so slices of the
    # sorted inputs, each sorted, follow each other in order
    ordered = inputs if inputs["inquiry_no"].is_sorted() else inputs.sort("inquiry_no")
    del inputs
    for offset in range(0, max(ordered.height, 1), MATCH_CHUNK_ROWS):
        part = ordered.slice(offset, MATCH_CHUNK_ROWS)
        yield _match_slice(part, settings, comparisons, population).sort("inquiry_no")


def _match_slice(
    inputs: pl.DataFrame,
    settings: MatchSettings,
    comparisons: tuple[Comparison, ...],
    population: Population | None,
) -> pl.DataFrame:
    judged = compile_judgements(inputs, comparisons)
    graded = classify(judged, comparisons, held_fields(settings))
    with_causes = add_causes(graded, settings, population)
    return with_causes.select(
        "round_id",
        pl.lit(settings.digest()).alias("settings_digest"),
        "inquiry_no",
        "atena_no",
        "my_number",
        "result_code",
        "grade",
        "grade_rule",
        "grade_reason",
        *[f"judgement_{c.field.value}" for c in comparisons],
        *[f"level_{c.field.value}" for c in comparisons],
        "likely_cause",
        "likely_cause_code",
        "likely_owner",
        pl.col("priority").cast(pl.Int64),
        "number_shared_by",
        "biz_name",
        "biz_kana",
        "biz_birth_date",
        "biz_sex",
        "biz_address",
        "juki_name",
        "juki_kana",
        "juki_birth_date",
        "juki_sex",
        "juki_address",
        "move_reason",
        "move_date",
    )


def match_stats(results: Frame) -> MatchStats:
    """Counts per 判定, per field judgement and per 推定原因 (lazy frames: these columns only)."""
    lazy = results.lazy()
    columns = lazy.collect_schema().names()
    judgement_cols = [c for c in columns if c.startswith("judgement_")]
    keyed = ["grade", *judgement_cols, "likely_cause"]
    frames = pl.collect_all(
        [lazy.select(pl.len())]
        + [lazy.select(pl.col(c).drop_nulls().value_counts()).unnest(c) for c in keyed]
    )
    height = int(frames[0].item())

    def counts(column: str, vc: pl.DataFrame) -> dict[str, int]:
        return dict(zip(vc[column].to_list(), vc["count"].to_list(), strict=True))

    found = {c: counts(c, f) for c, f in zip(keyed, frames[1:], strict=True)}
    by_grade = {g.value: 0 for g in Grade} | found["grade"]
    judgements = {c.removeprefix("judgement_"): found[c] for c in judgement_cols}
    return MatchStats(height, by_grade, judgements, found["likely_cause"])


def f4_frame(results: pl.DataFrame) -> pl.DataFrame:
    """F4 columns exactly, dates as YYYYMMDD."""
    return results.select(
        [
            (pl.col(code).dt.strftime("%Y%m%d") if results.schema[code] == pl.Date else pl.col(code)).alias(
                name
            )
            for name, code in F4_COLUMNS
        ]
    )


def audit_record(settings: MatchSettings) -> dict[str, Any]:
    """Everything that decided the result, in Japanese, as saved beside F4."""
    return {
        "照合設定": settings.to_dict(),
        "設定ハッシュ": settings.digest(),
        "規則ハッシュ": settings.rules_sha256(),
        "判定規則": describe_rules(),
        "推定原因の規則": describe_causes(),
        "項目ごとの比較": [c.describe() for c in build_comparisons(settings)],
    }


def write_match_outputs(
    results: pl.DataFrame | Iterable[pl.DataFrame], settings: MatchSettings, out_dir: Path
) -> dict[str, Any]:
    """Write 照合結果.csv (F4, cp932) and 照合設定.json. Returns file facts for metadata.

    ``results`` may be the slices of ``match_slices`` (written one after another, in order).
    """
    slices = [results] if isinstance(results, pl.DataFrame) else results
    rows = 0
    with CsvCp932Writer(out_dir / F4_FILE) as writer:
        for part in slices:
            f4 = f4_frame(part)
            writer.write(f4)
            rows += f4.height
    write_private(
        out_dir / SETTINGS_FILE,
        json.dumps(audit_record(settings), ensure_ascii=False, indent=2, default=str).encode("utf-8"),
    )
    return {"f4_path": str(out_dir / F4_FILE), "f4_rows": rows, "cp932_replaced_chars": writer.replaced}
