"""Quality benchmark: how well 照合 grades and explains the generator's cases.

Runs the real pipeline functions (抽出 → 住基照会要求 → 住基ネット模擬応答 → 照会結果 → 照合)
on synthetic partitions totalling ``--rows`` (default 100k) and scores F4 against the
generator's ground truth:

* 高知市 × 介護保険 (the bulk), 高知市 × 児童手当,
* 札幌市 × 障害児入所支援 (a 政令市 with wards, a 事務 without 性別),
* 南国市 × 公金受取口座 with an F1b 統合宛名ファイル (numbers from F1b, F1 left blank).

Printed: the confusion matrix of expected against given 判定; agreement on the rows whose
expected label is not ambiguous; mislinks graded A; per kind of difference the share
caught as B/C and the share whose 推定原因 names it rightly; the share of correct links
that needed no work (A); how often the likely true owner was named; how often a 個人番号
held by two 宛名番号 of the extract (番号重複, made by the generator wherever a family
member's, twin's or neighbour's number was keyed in and that person is in the extract too,
in scope or 対象外) names the other 宛名番号 and puts the case first; then how long 照合
of ``--timing-rows`` rows (default 1M) takes, split into normalisation + field rules,
classification, and 推定原因.

    python benchmarks/quality.py
    python benchmarks/quality.py --rows 20000 --timing-rows 0    # quick look, no timing

Numbers only: nothing here is asserted (the tests never time anything). The results are
also written as JSON to ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from demo.generator import EXPECTED_CAUSES, MISLINKS, generate
from demo.round_trip import simulate_round
from pipelines.matching.causes import add_causes
from pipelines.matching.comparisons import build_comparisons, held_fields
from pipelines.matching.levels import compile_judgements
from pipelines.matching.owners import population_from_extract
from pipelines.matching.rules import classify
from pipelines.matching.settings import MatchSettings
from pipelines.stages.match_result import match, match_inputs
from schemas.config import load_settings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
ROUND = "2026"
TODAY = date(2026, 11, 23)
OWNER_KINDS = ("family", "twin", "neighbour")


@dataclass(frozen=True)
class Partition:
    agency: str
    jimu: str
    share: float
    with_atena: bool = False


PARTITIONS = (
    Partition("392014", "kaigo_hoken", 0.45),
    Partition("392014", "jido_teate", 0.20),
    Partition("011002", "shogaiji_nyusho", 0.20),
    Partition("392049", "kokin_koza", 0.15, with_atena=True),
)


def run_partition(part: Partition, rows: int, seed: int, work: Path) -> pl.DataFrame:
    """F4 of one partition joined to the ground truth (one row per 点検対象 record)."""
    settings = load_settings(None)
    spec = settings.jimu[part.jimu]
    data = generate(
        rows,
        agency=part.agency,
        jimu=part.jimu,
        seed=seed,
        holds_sex=spec.holds.sex,
        with_atena=part.with_atena,
    )
    round_ = simulate_round(data, work, settings, round_id=ROUND, today=TODAY)
    match_settings = MatchSettings.build(part.jimu, spec, settings.matching)
    f4 = match(match_inputs(round_.records, round_.results), match_settings, round_.records)
    return (
        f4.join(data.truth, on="atena_no")
        .join(data.shared_numbers(), on="atena_no", how="left")
        .with_columns(pl.lit(f"{part.agency}×{part.jimu}").alias("partition"))
    )


def score(scored: pl.DataFrame) -> dict[str, Any]:
    """Every figure of the report, from the scored rows."""
    clear = scored.filter(~pl.col("ambiguous"))
    correct_links = scored.filter(~pl.col("is_mislink"))
    expected = pl.col("kind").replace_strict(
        {k: sorted(v) for k, v in EXPECTED_CAUSES.items()}, default=[], return_dtype=pl.List(pl.String)
    )
    cases = scored.filter(pl.col("grade") != "A").with_columns(
        expected.list.contains(pl.col("likely_cause_code")).alias("cause_right")
    )
    per_kind = (
        scored.group_by("kind")
        .agg(
            pl.len().alias("rows"),
            (pl.col("grade") != "A").mean().alias("caught_BC"),
            pl.col("ambiguous").sum().alias("ambiguous"),
        )
        .join(
            cases.group_by("kind").agg(pl.col("cause_right").mean().alias("cause_named_right")),
            on="kind",
            how="left",
        )
        .sort("kind")
    )
    true_mislinks = cases.filter(pl.col("is_mislink") & ~pl.col("ambiguous"))
    swaps = scored.filter(pl.col("kind").is_in(OWNER_KINDS) & pl.col("true_owner_atena").is_not_null())
    owner_named = swaps.with_columns(
        pl.col("likely_owner")
        .fill_null("")
        .str.split(",")
        .list.contains(pl.col("true_owner_atena"))
        .alias("hit")
    )
    # 番号重複: the number is on another 宛名番号 of the extract (ground truth from the files)
    shared = scored.filter(pl.col("shared_with").is_not_null())
    shared_cases = shared.filter(pl.col("grade") != "A")
    confusion = (
        scored.group_by("expected_grade", "grade")
        .len()
        .pivot(on="grade", index="expected_grade", values="len", sort_columns=True)
        .fill_null(0)
        .sort("expected_grade")
    )
    return {
        "rows": scored.height,
        "confusion": confusion,
        "agreement_all": float(scored.select((pl.col("grade") == pl.col("expected_grade")).mean()).item()),
        "agreement_clear": float(clear.select((pl.col("grade") == pl.col("expected_grade")).mean()).item()),
        "ambiguous_rows": scored.height - clear.height,
        "mislinks_in_A": scored.filter(pl.col("is_mislink") & (pl.col("grade") == "A")).height,
        "mislinks_in_A_clear": clear.filter(pl.col("is_mislink") & (pl.col("grade") == "A")).height,
        "per_kind": per_kind,
        "correct_links_A": float(correct_links.select((pl.col("grade") == "A").mean()).item()),
        "notation_only_A": float(
            scored.filter(pl.col("kind") == "ok").select((pl.col("grade") == "A").mean()).item()
        ),
        "cause_right_mislinks": float(true_mislinks["cause_right"].mean() or 0.0),  # type: ignore[arg-type]
        "cause_right_all_cases": float(cases["cause_right"].mean() or 0.0),  # type: ignore[arg-type]
        "owner_swaps": owner_named.height,
        "owner_named": float(owner_named["hit"].mean() or 0.0),  # type: ignore[arg-type]
        "owner_named_by_kind": owner_named.group_by("kind").agg(pl.col("hit").mean()).sort("kind"),
        "shared_numbers": shared.height,
        "shared_named_right": float(
            shared.select(
                (pl.col("number_shared_by") == pl.col("shared_with")).fill_null(False).mean()
            ).item()
            or 0.0
        ),
        "shared_cases": shared_cases.height,
        "shared_cases_flagged": float(
            shared_cases.select(
                (pl.col("likely_cause").str.contains("番号重複") & (pl.col("priority") == 1)).mean()
            ).item()
            or 0.0
        ),
        "grade_share": scored.group_by("grade")
        .len()
        .with_columns((pl.col("len") / scored.height).alias("share")),
    }


def timing(rows: int, seed: int, work: Path) -> dict[str, float]:
    """Seconds for 照合 of ``rows`` records (best of 2), split into its parts."""
    settings = load_settings(None)
    spec = settings.jimu["kaigo_hoken"]
    round_ = simulate_round(generate(rows, seed=seed), work, settings, round_id=ROUND, today=TODAY)
    records, results = round_.records, round_.results
    ms = MatchSettings.build("kaigo_hoken", spec, settings.matching)
    best: dict[str, float] = {}
    for _ in range(2):
        t0 = time.perf_counter()
        inputs = match_inputs(records, results)
        t1 = time.perf_counter()
        comparisons = build_comparisons(ms)
        judged = compile_judgements(inputs, comparisons)
        t2 = time.perf_counter()
        graded = classify(judged, comparisons, held_fields(ms))
        t3 = time.perf_counter()
        add_causes(graded, ms, population_from_extract(records))
        t4 = time.perf_counter()
        match(inputs, ms, records)
        t5 = time.perf_counter()
        lap = {
            "match_inputs_s": t1 - t0,
            "normalise_and_field_rules_s": t2 - t1,
            "classify_s": t3 - t2,
            "causes_and_owners_s": t4 - t3,
            "match_total_s": t5 - t4,
        }
        best = {k: min(v, best.get(k, v)) for k, v in lap.items()}
    return {"rows": float(records.filter(pl.col("scope") == "点検対象").height), **best}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--timing-rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    frames = []
    with tempfile.TemporaryDirectory(prefix="tenken-quality-") as tmp:
        for i, part in enumerate(PARTITIONS):
            work = Path(tmp) / f"p{i}"
            frames.append(run_partition(part, max(200, int(args.rows * part.share)), args.seed + i, work))
        scored = pl.concat(frames, how="vertical_relaxed")
        figures = score(scored)
        timed = timing(args.timing_rows, args.seed, Path(tmp) / "timing") if args.timing_rows else {}

    with pl.Config(tbl_rows=60, tbl_width_chars=160, fmt_float="full", float_precision=4):
        print(f"点検対象 {figures['rows']} 件（{len(PARTITIONS)} partitions）")
        print(scored.group_by("partition").len().sort("partition"))
        print("\n判定: expected (rows) × given (columns)")
        print(figures["confusion"])
        f = figures
        lines = [
            ("agreement, all rows", f"{f['agreement_all']:.5f}"),
            (
                "agreement, non-ambiguous rows",
                f"{f['agreement_clear']:.5f} ({f['ambiguous_rows']} ambiguous)",
            ),
            ("true mislinks graded A", f"{f['mislinks_in_A_clear']} (incl. ambiguous: {f['mislinks_in_A']})"),
            (
                "correct links needing no work",
                f"{f['correct_links_A']:.4f} (notation only: {f['notation_only_A']:.4f})",
            ),
            ("推定原因 right, true mislinks", f"{f['cause_right_mislinks']:.4f}"),
            ("推定原因 right, every B/C case", f"{f['cause_right_all_cases']:.4f}"),
            (
                "likely owner named",
                f"{f['owner_named']:.4f} of {f['owner_swaps']} family/twin/neighbour swaps",
            ),
            (
                "番号重複 other holders named",
                f"{f['shared_named_right']:.4f} of {f['shared_numbers']} records whose number is held twice",
            ),
            (
                "番号重複 flagged, priority 1",
                f"{f['shared_cases_flagged']:.4f} of {f['shared_cases']} such B/C cases",
            ),
        ]
        print()
        for label, value in lines:
            print(f"{label:32s} {value}")
        print("\nper kind (mislinks: " + ", ".join(MISLINKS) + ")")
        print(figures["per_kind"])
        print(figures["owner_named_by_kind"])
        if timed:
            print(f"\n照合 of {int(timed['rows'])} rows (best of 2, seconds):")
            for key, value in timed.items():
                if key != "rows":
                    print(f"  {key:30s} {value:6.2f}")

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"quality-{datetime.now():%Y%m%d-%H%M%S}.json"
    serialisable = {k: (v.to_dicts() if isinstance(v, pl.DataFrame) else v) for k, v in figures.items()}
    serialisable["timing"] = timed
    serialisable["machine"] = {"python": platform.python_version(), "polars": pl.__version__}
    out.write_text(json.dumps(serialisable, ensure_ascii=False, indent=2))
    print(f"\nwritten {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
