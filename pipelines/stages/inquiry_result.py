"""照会結果: read F3 files and check them against what was sent.

Every 照会番号 sent must come back exactly once, with the 個人番号 that was sent; a missing,
duplicated or unknown 照会番号 is a contract violation, reported by name. All problems of all
files are listed at once and nothing is stored when any is found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.dates import parse_compact_dates
from pipelines.errors import Problem, TenkenInputError, problems_from_frame
from pipelines.files.csv_reader import (
    LINE,
    control_character_problems,
    read_csv_table,
    without_repeated_headers,
)
from pipelines.files.limits import input_limit
from pipelines.privacy import quoted_value_expr
from schemas.codes import ResultCode
from schemas.config import TenkenSettings
from schemas.inquiry_result import F3_COLUMNS


@dataclass(frozen=True)
class ResultStats:
    files: tuple[str, ...]
    rows: int
    by_code: dict[str, int]


def result_files(path: Path) -> list[Path]:
    """``path`` itself, or the CSV files of a folder in name order."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
        if not files:
            raise TenkenInputError(
                [Problem("FILE_NOT_FOUND", file=str(path), detail="フォルダに CSV がありません")]
            )
        return files
    return [path]


def _rule(
    frame: pl.DataFrame, cond: pl.Expr, code: str, column: str, detail: pl.Expr | None = None
) -> pl.DataFrame:
    hit = frame.filter(cond)
    return hit.select(
        pl.col(LINE).alias("line"),
        pl.lit(column).alias("column"),
        pl.lit(code).alias("code"),
        (detail if detail is not None else pl.lit(None, dtype=pl.String)).alias("detail"),
        pl.col("result_file").alias("file"),
    )


def read_results(
    paths: Sequence[Path], requests: pl.DataFrame, settings: TenkenSettings
) -> tuple[pl.DataFrame, ResultStats]:
    """Read and validate F3 against ``requests`` (InquiryRequests). Returns InquiryResults."""
    frames = []
    problems: list[Problem] = []
    repeated_headers = []
    for path in paths:
        table = read_csv_table(
            path,
            columns=F3_COLUMNS,
            encoding=settings.input.encoding,
            aliases=settings.columns,
            max_bytes=input_limit(settings.input.max_input_bytes),
        )
        problems += problems_from_frame(table.problems, table.file)
        control = control_character_problems(table.frame, F3_COLUMNS)
        problems += problems_from_frame(without_repeated_headers(control, table.problems), table.file)
        repeated_headers.append(
            table.problems.filter(pl.col("code") == "HEADER_REPEATED").select(
                pl.lit(table.file).alias("file"), "line"
            )
        )
        frames.append(table.frame.with_columns(pl.lit(table.file).alias("result_file")))
    raw = pl.concat(frames, how="vertical")
    raw = parse_compact_dates(raw, "juki_birth_date_text", prefix="juki_birth")
    raw = parse_compact_dates(raw, "move_date_text", prefix="move")

    found = pl.col("result_code") == ResultCode.FOUND.value
    ino = pl.col("inquiry_no")
    sent = requests.select("inquiry_no", pl.col("my_number").alias("_sent_number"), "atena_no")
    joined = raw.join(sent, on="inquiry_no", how="left")
    # a 照会番号 is quoted (it is nobody's data); a value in its place may be, and is not
    shown_ino = quoted_value_expr(ino, safe=r"^[0-9]{1,11}$")
    checks = [
        _rule(
            joined,
            ~ino.str.contains(r"^\d{10}$").fill_null(False),
            "INQUIRY_NO_FORMAT",
            "照会番号",
            shown_ino,
        ),
        _rule(
            joined,
            ino.str.contains(r"^\d{10}$") & pl.col("atena_no").is_null(),
            "INQUIRY_NO_UNKNOWN",
            "照会番号",
            shown_ino,
        ),
        _rule(joined, ino.is_not_null() & ino.is_duplicated(), "INQUIRY_NO_DUPLICATE", "照会番号", shown_ino),
        _rule(
            joined,
            pl.col("_sent_number").is_not_null()
            & (pl.col("my_number") != pl.col("_sent_number")).fill_null(True),
            "RESULT_MYNUMBER_DIFFERS",
            "個人番号",
            pl.format("照会番号 {}", ino),
        ),
        _rule(
            joined,
            ~pl.col("result_code").is_in([c.value for c in ResultCode]).fill_null(False),
            "RESULT_CODE",
            "処理結果",
            quoted_value_expr(pl.col("result_code")),
        ),
        _rule(joined, found & pl.col("juki_name").is_null(), "RESULT_FIELD_BLANK", "氏名"),
        _rule(joined, found & pl.col("juki_birth_date_text").is_null(), "RESULT_FIELD_BLANK", "生年月日"),
        _rule(
            joined,
            pl.col("juki_birth_problem").is_not_null(),
            "RESULT_DATE",
            "生年月日",
            quoted_value_expr(pl.col("juki_birth_date_text")),
        ),
        _rule(
            joined,
            pl.col("move_problem").is_not_null(),
            "RESULT_DATE",
            "異動年月日",
            quoted_value_expr(pl.col("move_date_text")),
        ),
        _rule(
            joined,
            pl.col("juki_sex").is_not_null() & ~pl.col("juki_sex").is_in(["1", "2"]),
            "RESULT_SEX",
            "性別",
            quoted_value_expr(pl.col("juki_sex")),
        ),
    ]
    found_rows = pl.concat(checks).join(pl.concat(repeated_headers), on=["file", "line"], how="anti")
    problems += [
        Problem(r["code"], file=r["file"], line=r["line"], column=r["column"], detail=r["detail"])
        for r in found_rows.sort(["file", "line"]).iter_rows(named=True)
    ]
    # a missing answer has no line of its own: name the request file it was sent in
    sent_in = requests["request_file"] if "request_file" in requests.columns else None
    missing = (
        requests.select("inquiry_no", (sent_in if sent_in is not None else pl.lit(None)).alias("sent_in"))
        .join(raw.select("inquiry_no"), on="inquiry_no", how="anti")
        .sort("inquiry_no")
    )
    problems += [
        Problem(
            "INQUIRY_NO_MISSING",
            file=f"{f}（送った照会要求）" if f else None,
            column="照会番号",
            detail=f"照会番号 {n}",
        )
        for n, f in missing.select("inquiry_no", "sent_in").iter_rows()
    ]
    if problems:
        raise TenkenInputError(problems)

    round_id = requests["round_id"][0] if requests.height else ""
    extract_id = requests["extract_id"][0] if requests.height else ""
    results = joined.select(
        pl.lit(round_id).alias("round_id"),
        pl.lit(extract_id).alias("extract_id"),
        "inquiry_no",
        "atena_no",
        "my_number",
        "result_code",
        "juki_name",
        "juki_kana",
        pl.col("juki_birth_date"),
        "juki_sex",
        "juki_address",
        "move_reason",
        pl.col("move_date"),
        "result_file",
    ).sort("inquiry_no")
    counts = results["result_code"].value_counts()
    stats = ResultStats(
        files=tuple(p.name for p in paths),
        rows=results.height,
        by_code=dict(zip(counts["result_code"].to_list(), counts["count"].to_list(), strict=True)),
    )
    return results, stats
