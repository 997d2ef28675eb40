"""Evidence benchmark: what the Great Expectations checks cost per partition.

Builds stage outputs of N rows (default 100k and 1M) directly with polars — the columns the
suites read, with valid 個人番号 and real F2 files and manifest on disk — then times, for
each of the four suites (抽出, 住基照会要求, 照会結果, 照合):

* **build**: the polars part (narrow frames, cross-stage join flags, file hashes);
* **validate**: Great Expectations on those frames, with the Data Docs written;

and, once, the GX import (paid once per process, ≈5 s). Prints a table and writes it as
JSON to ``benchmarks/results/``::

    python benchmarks/evidence.py
    python benchmarks/evidence.py --rows 100000

Numbers only: nothing here is asserted (the tests never time anything).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import polars as pl

from pipelines.ops import evidence
from pipelines.stages.inquiry_request import assign_inquiry_numbers, build_requests, write_request_files

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
JUDGEMENTS = ("一致", "表記ゆれ一致", "不一致", "比較不能")


def my_numbers(n: int) -> pl.Series:
    base = (pl.int_range(n, eager=True) * 7_919_113 + 12_345_678_901) % 10**11
    text = base.cast(pl.String).str.zfill(11)
    digits = [text.str.slice(i, 1).cast(pl.Int64) * w for i, w in enumerate(WEIGHTS)]
    r = pl.select(pl.sum_horizontal(digits) % 11).to_series()
    check = pl.select(pl.when(r <= 1).then(0).otherwise(11 - r)).to_series()
    return (text + check.cast(pl.String)).alias("my_number")


def stage_frames(n: int, folder: Path) -> dict[str, object]:
    numbers = my_numbers(n)
    scope = pl.Series(["点検対象"] * (n - n // 4) + ["対象外"] * (n // 4))
    extract = pl.DataFrame(
        {
            "round_id": "2026",
            "extract_id": "x" * 16,
            "atena_no": pl.int_range(n, eager=True).cast(pl.String).str.zfill(10),
            "my_number": numbers,
            "birth_date": pl.date_range(date(1930, 1, 1), date(2020, 1, 1), "1d", eager=True).sample(
                n, with_replacement=True, seed=1
            ),
            "sex": pl.Series(["1", "2"] * (n // 2) + ["1"] * (n % 2)),
            "scope": scope,
        }
    )
    requests = build_requests(extract, assign_inquiry_numbers(extract["atena_no"], None))
    requests, _manifest = write_request_files(
        requests,
        folder,
        agency="392014",
        agency_name="高知県高知市",
        jimu="kaigo_hoken",
        jimu_name="介護保険",
        round_id="2026",
        max_records_per_file=100_000,
        now=datetime.now(),
    )
    m = requests.height
    results = requests.select(
        "inquiry_no",
        "my_number",
        pl.Series(["00"] * (m - m // 20) + ["10"] * (m // 20)).alias("result_code"),
    )
    grades = pl.Series(["A"] * (m - m // 10) + ["B"] * (m // 20) + ["C"] * (m - (m - m // 10) - m // 20))
    matches = results.with_columns(
        pl.when(pl.col("result_code") != "00").then(pl.lit("C")).otherwise(grades).alias("grade"),
        *[
            pl.Series(JUDGEMENTS, dtype=pl.String)
            .sample(m, with_replacement=True, seed=i)
            .alias(f"judgement_{f}")
            for i, f in enumerate(("name", "kana", "birth_date", "sex", "municipality", "town"))
        ],
    )
    return {"extract": extract, "requests": requests, "results": results, "matches": matches}


def run(n: int, docs: Path) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp:
        frames = stage_frames(n, Path(tmp))
        extract, requests = frames["extract"], frames["requests"]
        builders = {
            "抽出": lambda: evidence.extract_suite(extract, date.today()),
            "住基照会要求": lambda: evidence.inquiry_request_suite(
                requests, extract, evidence.request_files(Path(tmp))
            ),
            "照会結果": lambda: evidence.inquiry_result_suite(frames["results"], requests),
            "照合": lambda: evidence.match_result_suite(
                frames["matches"], extract, requests, frames["matches"].height
            ),
        }
        rows = []
        for name, build in builders.items():
            started = time.perf_counter()
            suite = build()
            built = time.perf_counter() - started
            outcome = evidence.validate(suite, docs, f"bench-{n}")
            assert outcome.success, outcome.unmet  # the frames are consistent by construction
            rows.append(
                {
                    "rows": n,
                    "suite": name,
                    "expectations": outcome.evaluated,
                    "build_s": round(built, 3),
                    "validate_s": round(outcome.seconds, 3),
                    "total_s": round(built + outcome.seconds, 3),
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as docs:
        started = time.perf_counter()
        import great_expectations  # noqa: F401  - the import cost, once

        import_s = time.perf_counter() - started
        rows = [r for n in args.rows for r in run(n, Path(docs))]
    print(f"great_expectations import: {import_s:.2f} s (once per process)")
    print(f"{'rows':>10} {'suite':<8} {'expect.':>7} {'build s':>8} {'GX s':>7} {'total s':>8}")
    for r in rows:
        print(
            f"{r['rows']:>10,} {r['suite']:<8} {r['expectations']:>7} {r['build_s']:>8.2f}"
            f" {r['validate_s']:>7.2f} {r['total_s']:>8.2f}"
        )
    for n in args.rows:
        total = sum(float(r["total_s"]) for r in rows if r["rows"] == n)  # type: ignore[arg-type]
        print(f"{n:>10,} all four suites: {total:.2f} s")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"evidence-{datetime.now():%Y%m%d-%H%M%S}.json"
    machine = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor(),
    }
    out.write_text(
        json.dumps(
            {"machine": machine, "gx_import_s": round(import_s, 2), "results": rows},
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"written: {out}")


if __name__ == "__main__":
    main()
