"""One simulated round in plain Python: 抽出 → 住基照会要求 → 模擬応答 → 照会結果.

For the quality benchmark and tests that score 照合 against the generator's ground truth
without Dagster: the same pipeline functions the assets call, on files written the way an
agency's system would write them (F1 and F1b in cp932), answered by the 住基ネット
simulator. Returns what 照合 takes: the extract records and the inquiry results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from demo.generator import SyntheticData
from demo.simulator import answer_files
from pipelines.stages.extract import extract
from pipelines.stages.inquiry_request import assign_inquiry_numbers, build_requests, write_request_files
from pipelines.stages.inquiry_result import read_results
from schemas.codes import Scope
from schemas.config import TenkenSettings


@dataclass(frozen=True)
class SimulatedRound:
    records: pl.DataFrame  # ExtractRecords: every F1 row
    results: pl.DataFrame  # InquiryResults: one row per 照会番号


def simulate_round(
    data: SyntheticData,
    work: Path,
    settings: TenkenSettings,
    *,
    round_id: str = "2026",
    today: date = date(2026, 11, 23),
) -> SimulatedRound:
    """Run phase 1, answer it with the simulator, read the answers (files under ``work``)."""
    spec = settings.jimu[data.jimu]
    f1 = data.write_extract(work / "点検用元ファイル.csv")
    f1b = data.write_atena(work / "統合宛名ファイル.csv") if data.atena is not None else None
    records = extract(f1, settings=settings, jimu=spec, round_id=round_id, today=today, f1b=f1b).records
    numbers = assign_inquiry_numbers(
        records.filter(pl.col("scope") == Scope.IN_SCOPE.value)["atena_no"], None
    )
    requests, _ = write_request_files(
        build_requests(records, numbers),
        work / "request",
        agency=data.agency,
        agency_name=data.agency,
        jimu=data.jimu,
        jimu_name=spec.name,
        round_id=round_id,
        max_records_per_file=settings.request.max_records_per_file,
        now=datetime.combine(today, datetime.min.time()),
    )
    answers = answer_files(sorted((work / "request").glob("request_*.csv")), data.registry, work / "result")
    results, _ = read_results(answers, requests, settings)
    return SimulatedRound(records, results)
