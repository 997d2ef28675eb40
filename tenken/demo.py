"""`tenken demo`: synthetic agencies × 事務 through both phases, answered by the simulator.

Every file the demo makes is synthetic (made-up people from ``pipelines.synthetic``); the
住基ネット answers come from the built-in **simulator** (住基ネット模擬応答), never from the
real system. The runs go through the same CLI path and Dagster instance as real work, so
``tenken ui`` afterwards shows the whole lineage materialized.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from demo.generator import SyntheticData, generate
from demo.simulator import SIMULATOR_NAME, answer_files
from pipelines.home import HomeLayout
from pipelines.stages.match_result import F4_FILE
from tenken.runner import Home, match, request


@dataclass(frozen=True)
class DemoPartition:
    agency: str
    jimu: str
    rows: int
    with_atena: bool = False


#: 高知市, 南国市 and 高知県 — three bodies, four 事務, one without 性別, one with F1b
DEMO_PARTITIONS = (
    DemoPartition("392014", "kaigo_hoken", 4000),
    DemoPartition("392014", "shogaisha_techo", 2500),
    DemoPartition("392049", "shogaiji_nyusho", 1500, with_atena=True),
    DemoPartition("390003", "nanbyo", 2000),
)
DEMO_ROUND = "2026"


@dataclass
class DemoResult:
    agency: str
    jimu: str
    counts: dict[str, int]
    agreement: float
    mislinks_in_a: int
    out_dir: Path


def run_partition(home: Home, part: DemoPartition, scale: float, seed: int) -> DemoResult:
    settings = home.settings()
    holds_sex = settings.jimu[part.jimu].holds.sex
    data: SyntheticData = generate(
        max(50, int(part.rows * scale)),
        agency=part.agency,
        jimu=part.jimu,
        seed=seed,
        holds_sex=holds_sex,
        with_atena=part.with_atena,
    )
    layout = HomeLayout.of(home.path)
    # not the inbox: a running sensor would start the same rounds a second time
    inputs = layout.data / "demo" / part.agency / part.jimu / DEMO_ROUND
    extract_file = data.write_extract(inputs / "点検用元ファイル.csv")
    atena_file = data.write_atena(inputs / "統合宛名ファイル.csv") if part.with_atena else None
    request(
        home,
        agency=part.agency,
        jimu=part.jimu,
        extract_file=extract_file,
        atena_file=atena_file,
        round_id=DEMO_ROUND,
    )
    request_dir = layout.request_dir(part.agency, part.jimu, DEMO_ROUND)
    result_dir = inputs / "result"
    answer_files(sorted(request_dir.glob("request_*.csv")), data.registry, result_dir)
    outcome = match(home, agency=part.agency, jimu=part.jimu, result_path=result_dir, round_id=DEMO_ROUND)
    figures = outcome.metadata.get("periodic_report", {})
    counts = {k: int(v) for k, v in figures.items() if isinstance(v, int)}
    f4 = pl.read_csv(
        layout.result_dir(part.agency, part.jimu, DEMO_ROUND) / F4_FILE,
        encoding="cp932",
        infer_schema=False,
    )
    scored = f4.join(data.truth, left_on="宛名番号", right_on="atena_no")
    agreement = float((scored["判定"] == scored["expected_grade"]).cast(pl.Float64).mean() or 0.0)  # type: ignore[arg-type]
    mislinks_in_a = scored.filter(pl.col("is_mislink") & (pl.col("判定") == "A")).height
    return DemoResult(
        part.agency,
        part.jimu,
        counts,
        agreement,
        mislinks_in_a,
        layout.result_dir(part.agency, part.jimu, DEMO_ROUND),
    )


def run_demo(home: Home, *, scale: float = 1.0, seed: int = 2026) -> list[DemoResult]:
    """Both phases for every demo partition. Returns per-partition figures and scores."""
    return [run_partition(home, part, scale, seed + i) for i, part in enumerate(DEMO_PARTITIONS)]


__all__ = ["DEMO_PARTITIONS", "SIMULATOR_NAME", "DemoResult", "run_demo"]
