"""What issue 11's input checks cost: Excel's cell limit at 抽出, formula cells in a returned F5.

1. 抽出 of an N-row F1 (generated, cp932), end to end, and the cell-limit rules alone
   (``FIELD_TOO_LONG`` over every F1 column) on the prepared frame;
2. the formula scan of a returned F5 of M cases (written from a store by tenken, one
   formula typed into it with openpyxl), and the whole read of that workbook for scale.

::

    python benchmarks/input_checks.py                    # N=1,000,000, M=100,000
    python benchmarks/input_checks.py --rows 200000 --cases 20000

Numbers only: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

import openpyxl

from benchmarks.cases import AGENCY, JIMU, synthetic_cases
from benchmarks.scale import generate_inputs
from pipelines.cases.merge import merge_round
from pipelines.cases.store import CaseStore
from pipelines.cases.workbook import SHEET
from pipelines.cases.workbook_reader import formula_cells, read_workbook
from pipelines.files.csv_reader import read_csv_table
from pipelines.stages.extract import _prepared, _with_atena, extract
from pipelines.stages.mismatch_review import export_workbook
from pipelines.stages.row_rules import cell_limit_rules, rule_problems
from schemas.config import parse_settings
from schemas.extract import F1_COLUMNS


def timed(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def extract_costs(n: int, work: Path) -> None:
    f1, _ = generate_inputs(n, work)
    settings = parse_settings(None)
    today = date(2026, 11, 23)
    whole = timed(
        lambda: extract(f1, settings=settings, jimu=settings.jimu[JIMU], round_id="2026", today=today),
        repeat=1,
    )
    table = read_csv_table(f1, columns=F1_COLUMNS)
    frame = _prepared(_with_atena(table.frame, None, settings)[0], settings, today)
    rules = cell_limit_rules(F1_COLUMNS)
    limit = timed(lambda: rule_problems(frame, rules))
    print(
        f"抽出 {n:,} 行: {whole:.2f} s; "
        f"文字数上限の規則（{len(rules)} 列）: {limit:.3f} s ({limit / whole:.1%})"
    )


def formula_costs(m: int, work: Path) -> None:
    with CaseStore.open(f"sqlite:///{work / 'cases.sqlite'}") as store:
        frame = synthetic_cases(m, "2026")
        merge_round(
            store, AGENCY, JIMU, "2026", frame, frame.select("inquiry_no", "atena_no", "grade"), source="b"
        )
        path = work / "f5.xlsx"
        export_workbook(store, AGENCY, JIMU, "2026", path, info={})
    book = openpyxl.load_workbook(path)
    book[SHEET]["AK3"] = "=A1"
    book.save(path)
    size = path.stat().st_size
    scan = timed(lambda: formula_cells(path, [SHEET]))
    whole = timed(lambda: read_workbook(path), repeat=1)
    print(
        f"確認作業リスト {m:,} 件（{size / 2**20:.1f} MiB）: "
        f"数式セルの検出 {scan:.3f} s; 読み込み全体 {whole:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        extract_costs(args.rows, Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        formula_costs(args.cases, Path(tmp))


if __name__ == "__main__":
    main()
