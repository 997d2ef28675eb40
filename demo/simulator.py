"""住基ネット simulator (模擬応答): answers F2 request files from a synthetic registry.

**This is a simulator**, for the demo, the tests and the benchmarks. It stands in for the
real 一括提供方式 round trip (統合端末/CS, JIS90 conversion), which no test can reach. It
answers each 照会番号 the way the contract's F3 says: 00 with 4情報 (外字 as 〓), 10 for a
number that does not exist, 20 for a deleted person with 異動事由 and 異動年月日.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.files.jis import replace_outside_jis0208
from pipelines.privacy import write_private

SIMULATOR_NAME = "住基ネット模擬応答（シミュレータ）"


def read_request_file(path: Path) -> pl.DataFrame:
    return pl.read_csv(
        path.read_bytes().decode("shift_jis").encode("utf-8"),
        has_header=False,
        new_columns=["照会番号", "個人番号"],
        schema_overrides={"照会番号": pl.String, "個人番号": pl.String},
    )


def answer(requests: pl.DataFrame, registry: pl.DataFrame) -> pl.DataFrame:
    """F3 rows (contract column names) for F2 rows ``照会番号, 個人番号``."""
    joined = requests.join(registry, left_on="個人番号", right_on="my_number", how="left")
    status = pl.when(pl.col("status").is_null()).then(pl.lit("10")).otherwise(pl.col("status"))
    found = status != "10"

    def keep(expr: pl.Expr) -> pl.Expr:
        return pl.when(found).then(expr)

    return joined.select(
        "照会番号",
        "個人番号",
        status.alias("処理結果"),
        keep(replace_outside_jis0208(pl.col("name"))).alias("氏名"),
        keep(pl.col("kana")).alias("氏名カナ"),
        keep(pl.col("birth_date").dt.strftime("%Y%m%d")).alias("生年月日"),
        keep(pl.col("sex")).alias("性別"),
        keep(replace_outside_jis0208(pl.col("address"))).alias("住所"),
        pl.col("move_reason").alias("異動事由"),
        pl.col("move_date").dt.strftime("%Y%m%d").alias("異動年月日"),
    )


def answer_files(request_files: list[Path], registry: pl.DataFrame, out_dir: Path) -> list[Path]:
    """One F3 file (cp932, header, CRLF) per F2 file, named after it."""
    written = []
    for path in request_files:
        rows = answer(read_request_file(path), registry)
        name = path.name.replace("request_", "result_")
        text = rows.write_csv(line_terminator="\r\n")
        written.append(write_private(out_dir / name, text.encode("cp932")))
    return written
