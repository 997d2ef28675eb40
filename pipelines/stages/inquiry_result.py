"""照会結果: read F3 files and check them against what was sent.

Every 照会番号 sent must come back exactly once, with the 個人番号 that was sent; a missing,
duplicated or unknown 照会番号 is a contract violation, reported by name. A 照会番号 that
starts with another round's tag is an answer to that round's requests (last year's results
given for this year) and is refused naming both rounds (``RESULT_OTHER_ROUND``). All
problems of all files are listed at once and nothing is stored when any is found.

Reading (``_read_files``) and reconciling with what was sent (``_reconciled``) are separate
steps; the row checks are the declared table ``F3_RULES``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.dates import parse_compact_dates
from pipelines.errors import Problem, TenkenInputError, problems_from_frame
from pipelines.files.csv_reader import (
    LINE,
    CsvTable,
    control_character_problems,
    read_csv_table,
    without_repeated_headers,
)
from pipelines.files.limits import input_limit
from pipelines.stages.row_rules import RowRule, cell_limit_rules, rule_problems
from schemas.codes import ResultCode
from schemas.config import TenkenSettings
from schemas.inquiry_request import LEGACY_TAG, ROUND_TAG_DIGITS
from schemas.inquiry_result import F3_COLUMNS


@dataclass(frozen=True)
class ResultStats:
    files: tuple[str, ...]
    rows: int
    by_code: dict[str, int]
    notes: tuple[str, ...] = ()  # how the files were read (an encoding detected, columns ignored)


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


_INO = pl.col("inquiry_no")
#: a 照会番号 is quoted in messages (nobody's data); a value in its place may be someone's
_INO_FORM = r"^[0-9]{1,11}$"
_TEN_DIGITS = _INO.str.contains(r"^\d{10}$")
_FOUND = pl.col("result_code") == ResultCode.FOUND.value
#: a row whose 照会番号 carries this round's tag (``_reconciled``)
_THIS_ROUND = pl.col("this_round")

#: the row rules of F3, once the rows are joined to what was sent (``_reconciled``)
F3_RULES: tuple[RowRule, ...] = (
    RowRule("照会番号", "INQUIRY_NO_FORMAT", ~_TEN_DIGITS.fill_null(False), value=_INO, shown_if=_INO_FORM),
    RowRule(
        "照会番号",
        "INQUIRY_NO_UNKNOWN",
        _TEN_DIGITS & _THIS_ROUND & pl.col("atena_no").is_null(),
        value=_INO,
        shown_if=_INO_FORM,
    ),
    RowRule(
        "照会番号",
        "INQUIRY_NO_DUPLICATE",
        _INO.is_not_null() & _INO.is_duplicated(),
        value=_INO,
        shown_if=_INO_FORM,
    ),
    RowRule(
        "個人番号",
        "RESULT_MYNUMBER_DIFFERS",
        pl.col("sent_number").is_not_null() & (pl.col("my_number") != pl.col("sent_number")).fill_null(True),
        pl.format("照会番号 {}", _INO),
    ),
    RowRule(
        "処理結果",
        "RESULT_CODE",
        ~pl.col("result_code").is_in([c.value for c in ResultCode]).fill_null(False),
        value=pl.col("result_code"),
    ),
    RowRule("氏名", "RESULT_FIELD_BLANK", _FOUND & pl.col("juki_name").is_null()),
    RowRule("生年月日", "RESULT_FIELD_BLANK", _FOUND & pl.col("juki_birth_date_text").is_null()),
    RowRule(
        "生年月日",
        "RESULT_DATE",
        pl.col("juki_birth_problem").is_not_null(),
        value=pl.col("juki_birth_date_text"),
    ),
    RowRule(
        "異動年月日", "RESULT_DATE", pl.col("move_problem").is_not_null(), value=pl.col("move_date_text")
    ),
    RowRule(
        "性別",
        "RESULT_SEX",
        pl.col("juki_sex").is_not_null() & ~pl.col("juki_sex").is_in(["1", "2"]),
        value=pl.col("juki_sex"),
    ),
    *cell_limit_rules(F3_COLUMNS),
)


@dataclass(frozen=True)
class _ResultFiles:
    """Every row of every F3 file as read, before it is compared with what was sent."""

    rows: pl.DataFrame  # F3 columns, ``_line`` and ``result_file``
    problems: list[Problem]  # whole-file and structural problems, control characters
    repeated_headers: pl.DataFrame  # file, line: lines that repeat the header
    notes: list[str]


def _read_files(paths: Sequence[Path], settings: TenkenSettings) -> _ResultFiles:
    frames = []
    problems: list[Problem] = []
    repeated_headers = []
    notes: list[str] = []

    def read(path: Path) -> CsvTable:
        return read_csv_table(
            path,
            columns=F3_COLUMNS,
            encoding=settings.input.encoding,
            aliases=settings.columns,
            max_bytes=input_limit(settings.input.max_input_bytes),
        )

    # two files at a time: while one is decoded from cp932 (Python, one core), polars parses
    # the other (every core); the tables come back in the files' order (1M rows in 8 files:
    # 1.9 → 1.3 s)
    with ThreadPoolExecutor(max_workers=2) as pool:
        tables = list(pool.map(read, paths))
    for table in tables:
        problems += problems_from_frame(table.problems, table.file)
        control = control_character_problems(table.frame, F3_COLUMNS)
        problems += problems_from_frame(without_repeated_headers(control, table.problems), table.file)
        repeated_headers.append(
            table.problems.filter(pl.col("code") == "HEADER_REPEATED").select(
                pl.lit(table.file).alias("file"), "line"
            )
        )
        frames.append(table.frame.with_columns(pl.lit(table.file).alias("result_file")))
        notes += table.notes
    rows = pl.concat(frames, how="vertical")
    rows = parse_compact_dates(rows, "juki_birth_date_text", prefix="juki_birth")
    rows = parse_compact_dates(rows, "move_date_text", prefix="move")
    return _ResultFiles(rows, problems, pl.concat(repeated_headers), notes)


def _rounds_text(tag: str, rounds: Sequence[str]) -> str:
    """The rounds a tag belongs to; for a tag no registry of this home knows (results of
    another installation, or a purged home), the round it stands for if it was a 年度."""
    if rounds:
        return f"点検回 {'、'.join(rounds)}"
    if tag == LEGACY_TAG:
        return "この tenken home に記録のない点検回（点検回の記号がなかった版で作った照会要求）"
    return f"この tenken home に記録のない点検回（年度の点検回なら {2000 + int(tag)}）"


def _other_round_problems(
    joined: pl.DataFrame, round_id: str, rounds_by_tag: Mapping[str, Sequence[str]]
) -> list[Problem]:
    """RESULT_OTHER_ROUND, once per file and round: the rows whose 照会番号 carries the tag of
    another round (last year's results given for this year), naming both rounds."""
    other = joined.filter(_TEN_DIGITS.fill_null(False) & ~_THIS_ROUND)
    groups = (
        other.group_by("result_file", pl.col("inquiry_no").str.slice(0, ROUND_TAG_DIGITS).alias("tag"))
        .agg(pl.col(LINE).min().alias("line"), pl.col("inquiry_no").first(), pl.len().alias("rows"))
        .sort("result_file", "line")
    )
    return [
        Problem(
            "RESULT_OTHER_ROUND",
            file=file,
            line=line,
            column="照会番号",
            detail=(
                f"照会番号 {first} など {rows:,} 行は{_rounds_text(tag, rounds_by_tag.get(tag, ()))}の"
                f"照会要求の番号（先頭3桁 {tag}）です。今回の照会要求は点検回 {round_id} です"
            ),
        )
        for file, tag, line, first, rows in groups.iter_rows()
    ]


def _missing_problems(requests: pl.DataFrame, rows: pl.DataFrame) -> list[Problem]:
    """INQUIRY_NO_MISSING for every 照会番号 sent and not answered. A missing answer has no
    line of its own: the message names the request file it was sent in."""
    sent_in = requests["request_file"] if "request_file" in requests.columns else None
    missing = (
        requests.select("inquiry_no", (sent_in if sent_in is not None else pl.lit(None)).alias("sent_in"))
        .join(rows.select("inquiry_no"), on="inquiry_no", how="anti")
        .sort("inquiry_no")
    )
    return [
        Problem(
            "INQUIRY_NO_MISSING",
            file=f"{f}（送った照会要求）" if f else None,
            column="照会番号",
            detail=f"照会番号 {n}",
        )
        for n, f in missing.select("inquiry_no", "sent_in").iter_rows()
    ]


def _reconciled(
    files: _ResultFiles, requests: pl.DataFrame, rounds_by_tag: Mapping[str, Sequence[str]]
) -> tuple[pl.DataFrame, list[Problem]]:
    """The rows joined to what was sent (``atena_no``, ``sent_number``), and every problem:
    the files' own, the F3 rules', answers of another round, and answers missing."""
    round_id = requests["round_id"][0] if requests.height else ""
    tags = requests["inquiry_no"].str.slice(0, ROUND_TAG_DIGITS).unique().to_list()
    sent = requests.select("inquiry_no", pl.col("my_number").alias("sent_number"), "atena_no")
    joined = files.rows.join(sent, on="inquiry_no", how="left").with_columns(
        (_INO.str.slice(0, ROUND_TAG_DIGITS).is_in(tags) | pl.lit(not tags)).alias("this_round")
    )
    found_rows = rule_problems(joined, F3_RULES, keep=[pl.col("result_file").alias("file")]).join(
        files.repeated_headers, on=["file", "line"], how="anti"
    )
    problems = files.problems + _other_round_problems(joined, round_id, rounds_by_tag)
    problems += [
        Problem(r["code"], file=r["file"], line=r["line"], column=r["column"], detail=r["detail"])
        for r in found_rows.sort(["file", "line"], maintain_order=True).iter_rows(named=True)
    ]
    return joined, problems + _missing_problems(requests, files.rows)


def read_results(
    paths: Sequence[Path],
    requests: pl.DataFrame,
    settings: TenkenSettings,
    *,
    rounds_by_tag: Mapping[str, Sequence[str]] | None = None,
) -> tuple[pl.DataFrame, ResultStats]:
    """Read and validate F3 against ``requests`` (InquiryRequests). Returns InquiryResults.

    ``rounds_by_tag``: the rounds of this agency × 事務 by the tag their 照会番号 start with
    (``pipelines.stages.inquiry_request.round_tags``), so answers to another round's
    requests are refused naming that round."""
    files = _read_files(paths, settings)
    joined, problems = _reconciled(files, requests, rounds_by_tag or {})
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
        notes=tuple(files.notes),
    )
    return results, stats
