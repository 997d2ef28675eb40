"""Case store benchmark: merge, export, import and verify at office scale, on both backends.

A round of 1M extract rows has about 120k B/C cases (the national tool found 12 %); an office
works through a workbook of a few thousand to tens of thousands of them at a time. For each
backend (SQLite file; PostgreSQL on 127.0.0.1:5432 when reachable):

1. merge N cases into an empty store (every case and its 案件作成 event written);
2. merge the same N again (the diff that proves nothing changed: no writes);
3. write F5 for the N cases from the store;
4. import a returned workbook of M cases in which K rows were filled in (the workbook is
   edited with openpyxl as staff would, not timed);
5. verify the whole audit chain (every link, every case replayed).

Prints a table and writes it as JSON to ``benchmarks/results/``::

    python benchmarks/cases.py                     # N=120000, M=20000, K=2000
    python benchmarks/cases.py --cases 20000 --sheet 5000 --edits 500
    python benchmarks/cases.py --cases 77000 --merge-only   # the merge of one 1M-row round

Numbers only: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
import uuid
from datetime import date, datetime
from pathlib import Path

import numpy as np
import openpyxl
import polars as pl
import sqlalchemy as sa

from pipelines.cases.importer import import_workbook
from pipelines.cases.merge import merge_round
from pipelines.cases.store import CaseStore
from pipelines.cases.workbook import SHEET
from pipelines.stages.mismatch_review import export_workbook
from schemas.mismatch_review import CASE_COLUMNS

AGENCY, JIMU = "392014", "kaigo_hoken"
SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"
TEXT = [c for _, c in CASE_COLUMNS if c not in ("case_id", "priority", "my_number_masked")]


def synthetic_cases(n: int, round_id: str, seed: int = 1) -> pl.DataFrame:
    """``build_cases``-shaped frame of n B/C cases (vectorised)."""
    rng = np.random.default_rng(seed)
    inquiry = pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(10)
    grade = pl.Series(np.where(rng.random(n) < 0.4, "C", "B"))
    # personal values as varied as real ones (names nearly unique, dates and addresses
    # repeating), so the keyed digests of the audit trail cost what they cost in a real round
    family = pl.Series(["山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村"])
    days = pl.Series(rng.integers(0, 36_500, n)).cast(pl.Int32).cast(pl.Date)
    frame = pl.DataFrame(
        {
            "inquiry_no": inquiry,
            "grade": grade,
            "family": family.gather(rng.integers(0, len(family), n)),
            "given": pl.Series(rng.integers(0, n, n)).cast(pl.String),
            "birth": days.dt.offset_by("-30000d").cast(pl.String),
            "sex": pl.Series(rng.integers(1, 3, n)).cast(pl.String),
            "chome": pl.Series(rng.integers(1, 60, n)).cast(pl.String),
            "ban": pl.Series(rng.integers(1, 40, n)).cast(pl.String),
        }
    ).with_columns(
        pl.format("{}-{}", pl.lit(round_id), pl.col("inquiry_no")).alias("case_id"),
        pl.lit(round_id).alias("round_id"),
        pl.when(pl.col("grade") == "C").then(1).otherwise(3).cast(pl.Int64).alias("priority"),
        pl.format("12345678{}", pl.col("inquiry_no").str.slice(-4)).alias("my_number"),
        pl.format("A{}", pl.col("inquiry_no")).alias("atena_no"),
        pl.lit("氏名・町字等").alias("grade_reason"),
        pl.lit("同居の家族の番号").alias("likely_cause"),
        pl.lit("一致").alias("judgement_birth_date"),
        pl.lit("不一致").alias("judgement_name"),
        pl.format("{}　太郎{}", "family", "given").alias("biz_name"),
        pl.format("{}　太朗{}", "family", "given").alias("juki_name"),
        pl.format("ヤマダ　タロウ{}", "given").alias("biz_kana"),
        pl.format("ヤマダ　タロウ{}", "given").alias("juki_kana"),
        pl.col("birth").alias("biz_birth_date"),
        pl.col("birth").alias("juki_birth_date"),
        pl.col("sex").alias("biz_sex"),
        pl.col("sex").alias("juki_sex"),
        pl.format("高知県高知市本町{}-{}-3", "chome", "ban").alias("biz_address"),
        pl.format("高知県高知市本町{}丁目{}番3号", "chome", "ban").alias("juki_address"),
    )
    for c in TEXT:
        if c not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    return frame.select("case_id", "round_id", "priority", "my_number", *TEXT)


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def run(backend: str, url: str, schema: str | None, args: argparse.Namespace, tmp: Path) -> dict:
    result: dict[str, object] = {
        "backend": backend,
        "cases": args.cases,
        "sheet": args.sheet,
        "edits": args.edits,
    }
    with CaseStore.open(url, pg_schema=schema) as store:
        frame = synthetic_cases(args.cases, "2026")
        graded = frame.select("inquiry_no", "atena_no", "grade")
        result["merge_new_s"], _ = timed(
            merge_round, store, AGENCY, JIMU, "2026", frame, graded, source="bench"
        )
        result["merge_unchanged_s"], _ = timed(
            merge_round, store, AGENCY, JIMU, "2026", frame, graded, source="bench"
        )
        if args.merge_only:
            result["verify_s"], found = timed(store.verify)
            result["verified_events"] = found.events
            return result
        result["export_s"], _ = timed(export_workbook, store, AGENCY, JIMU, "2026", tmp / "all.xlsx", info={})

    # an office workbook: a store holding only the sheet's cases, K rows filled in
    sheet_url, sheet_schema = url, schema
    if backend == "sqlite":
        sheet_url = f"sqlite:///{tmp / 'sheet.sqlite'}"
    else:
        sheet_schema = f"{schema}_sheet"
    with CaseStore.open(sheet_url, pg_schema=sheet_schema) as store:
        frame = synthetic_cases(args.sheet, "2026")
        merge_round(
            store,
            AGENCY,
            JIMU,
            "2026",
            frame,
            frame.select("inquiry_no", "atena_no", "grade"),
            source="bench",
        )
        export_workbook(store, AGENCY, JIMU, "2026", tmp / "sheet.xlsx", info={})
        book = openpyxl.load_workbook(tmp / "sheet.xlsx")
        ws = book[SHEET]
        col = {c.value: c.column for c in ws[1]}
        for r in range(2, 2 + args.edits):
            for header, value in (
                ("状態", "本人の番号と確認"),
                ("担当者", "山田"),
                ("確認方法", "電話"),
                ("確認結果", "本人の番号"),
                ("確認日", date(2026, 11, 2)),
                ("確認者", "佐藤"),
            ):
                ws.cell(r, col[header], value)
        book.save(tmp / "returned.xlsx")
        result["import_s"], imported = timed(import_workbook, store, tmp / "returned.xlsx")
        result["import_applied"] = imported.applied
        result["import_again_s"], _ = timed(import_workbook, store, tmp / "returned.xlsx")
    with CaseStore.open(url, pg_schema=schema) as store:
        result["verify_s"], found = timed(store.verify)
        result["verified_events"] = found.events
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=120_000)
    parser.add_argument("--sheet", type=int, default=20_000)
    parser.add_argument("--edits", type=int, default=2_000)
    parser.add_argument(
        "--merge-only", action="store_true", help="only the two merges (and verify), no workbook"
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        rows.append(run("sqlite", f"sqlite:///{tmp / 'cases.sqlite'}", None, args, tmp))
        admin = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                name = f"tenken_bench_{uuid.uuid4().hex[:8]}"
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            try:
                rows.append(run("postgresql", f"{SERVER}/{name}", "bench", args, tmp))
            finally:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except sa.exc.OperationalError as e:
            print(f"PostgreSQL skipped: {type(e.orig).__name__}")
        finally:
            admin.dispose()
    table = pl.DataFrame(rows)
    with pl.Config(tbl_cols=-1, tbl_width_chars=200):
        print(table)
    out = Path(__file__).parent / "results" / f"cases-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {"machine": platform.platform(), "python": platform.python_version(), "runs": rows}, indent=2
        ),
        encoding="utf-8",
    )
    print(f"written: {out}")


if __name__ == "__main__":
    main()
