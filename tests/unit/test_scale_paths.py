"""The paths that make large rounds fit (issue 6): they must give exactly what the simple
paths give. Chunk sizes are made tiny here so every boundary case is crossed; nothing is
timed (benchmarks/scale.py measures)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import fastexcel
import openpyxl
import polars as pl
import pytest

import pipelines.files.csv_writer as outputs
import pipelines.stages.match_result as match_result
from demo.round_trip import simulate_round
from pipelines import parallel
from pipelines.cases import workbook, workbook_reader, workbook_writer
from pipelines.checkdigit import with_my_number_check_digit as with_cd
from pipelines.errors import TenkenInputError
from pipelines.files import limits, scratch, transcode, xlsx
from pipelines.matching.settings import MatchSettings
from pipelines.ops import evidence
from pipelines.stages.extract import extract
from schemas.cases import CASE_STAFF_COLUMNS
from schemas.config import parse_settings

HEADER = "宛名番号,個人番号,氏名,氏名カナ,生年月日,性別,住所,住登区分,取得経路"
ROWS = [
    f"A00{i},{with_cd(f'1234567890{i}')},山田　太郎{i},ヤマダ　タロウ,昭和45年12月4日,1,高知市本町{i}-1-1,住登者,本人申告"
    for i in range(1, 8)
]
TODAY = date(2026, 11, 23)


def _extract(path: Path):
    settings = parse_settings(None)
    return extract(path, settings=settings, jimu=settings.jimu["kaigo_hoken"], round_id="2026", today=TODAY)


@pytest.mark.parametrize("encoding", ["cp932", "utf-8", "utf-8-sig"])
@pytest.mark.parametrize("eol", ["\r\n", "\n", "\r"])
def test_decoding_in_chunks_reads_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str, eol: str
) -> None:
    path = tmp_path / "f1.csv"
    path.write_bytes((eol.join([HEADER, *ROWS])).encode(encoding))  # no final line end
    whole = _extract(path)
    # 5 bytes at a time: CRLF and every 2- and 3-byte character are split somewhere
    monkeypatch.setattr(transcode, "CHUNK_BYTES", 5)
    chunked = _extract(path)
    assert chunked.records.equals(whole.records)
    assert chunked.stats == whole.stats
    assert whole.stats.rows_read == len(ROWS)


def test_an_undecodable_byte_is_still_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transcode, "CHUNK_BYTES", 7)
    path = tmp_path / "f1.csv"
    body = "\r\n".join([HEADER, *ROWS]).encode("cp932") + b"\r\n"
    lines = body.split(b"\r\n")
    lines[3] = lines[3].replace("山田".encode("cp932"), b"\x81\x7f", 1)  # not a cp932 character
    path.write_bytes(b"\r\n".join(lines))
    with pytest.raises(TenkenInputError) as e:
        _extract(path)
    [problem] = e.value.problems
    assert (problem.code, problem.line, problem.column) == ("ENCODING_UNDECODABLE", 4, "氏名")


def test_no_utf8_copy_is_left_behind(tmp_path: Path) -> None:
    path = tmp_path / "f1.csv"
    path.write_bytes("\r\n".join([HEADER, *ROWS]).encode("cp932"))
    # this process's folders only: other processes on the machine may be reading too
    mine = f"{scratch.SCRATCH_PREFIX}{os.getpid()}-*"
    before = set(Path(scratch.tempfile.gettempdir()).glob(mine))
    _extract(path)
    after = set(Path(scratch.tempfile.gettempdir()).glob(mine))
    assert after <= before


def test_a_file_over_the_limit_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "f1.csv"
    path.write_bytes("\r\n".join([HEADER, *ROWS]).encode("cp932"))
    settings = parse_settings({"input": {"max_input_bytes": 100}})
    with pytest.raises(TenkenInputError) as e:
        extract(path, settings=settings, jimu=settings.jimu["kaigo_hoken"], round_id="2026", today=TODAY)
    [problem] = e.value.problems
    assert problem.code == "FILE_TOO_LARGE"
    assert "対処" in (problem.detail or "") and "max_input_bytes" in (problem.detail or "")


def test_without_a_setting_the_limit_follows_the_memory() -> None:
    assert parse_settings(None).input.max_input_bytes is None
    limit = limits.input_limit(None)
    assert limit == limits.machine_memory() // limits.MEMORY_PER_INPUT_BYTE
    assert limits.input_limit(1234) == 1234


def test_matching_in_slices_gives_the_same_result(
    small_data, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = parse_settings(None)
    round_ = simulate_round(small_data, tmp_path, settings)
    ms = MatchSettings.build("kaigo_hoken", settings.jimu["kaigo_hoken"], settings.matching)
    inputs = match_result.match_inputs(round_.records, round_.results)
    whole = match_result.match(inputs, ms, round_.records)
    monkeypatch.setattr(match_result, "MATCH_CHUNK_ROWS", 97)
    assert match_result.match(inputs, ms, round_.records).equals(whole)
    assert whole.height == inputs.height > 97


def test_f4_in_chunks_is_the_same_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frame = pl.DataFrame({"氏名": ["山田", "=SUM(A1)", "𠮷田", None, "髙橋"] * 3, "n": list(range(15))})
    whole = tmp_path / "whole.csv"
    chunked = tmp_path / "chunked.csv"
    replaced = outputs.write_csv_cp932(frame, whole)
    monkeypatch.setattr(outputs, "CSV_CHUNK_ROWS", 4)
    assert outputs.write_csv_cp932(frame, chunked) == replaced == 3
    assert chunked.read_bytes() == whole.read_bytes()
    assert whole.read_bytes().startswith("氏名,n\r\n".encode("cp932"))


def _cases(n: int) -> pl.DataFrame:
    texts = [
        " lead",
        "trail ",
        "a&b<c>d",
        "ctl\x01x",
        "lit _x0041_",
        "tab\tnl\nx",
        "=1+1",
        "-5",
        "𠮷",
        "普通",
    ]
    frame = pl.DataFrame(
        {c: [f"{c}{i}" for i in range(n)] for _, c in workbook.READONLY_COLUMNS if c != "priority"}
        | {"priority": [1 + i % 9 for i in range(n)]}
    ).with_columns(
        pl.Series("case_id", [f"2026-{i:010d}" for i in range(n)]),
        pl.Series("biz_name", [texts[i % len(texts)] for i in range(n)]),
        pl.Series("likely_owner", [None if i % 2 else "" for i in range(n)], dtype=pl.String),
    )
    staff = {}
    for col in CASE_STAFF_COLUMNS:
        if col.is_date:
            staff[col.name] = pl.Series([date(2025, 1, 1 + i % 28) if i % 3 == 0 else None for i in range(n)])
        elif col.name == "state":
            staff[col.name] = pl.Series(["未着手"] * n)
        else:
            staff[col.name] = pl.Series(
                [texts[i % len(texts)] if i % 4 == 0 else None for i in range(n)], dtype=pl.String
            )
    return frame.with_columns(**staff)


@pytest.mark.parametrize("n", [0, 3, 23])
def test_workbook_in_bulk_reads_back_cell_for_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int
) -> None:
    monkeypatch.setattr(xlsx, "XML_CHUNK_ROWS", 5)
    cases = _cases(n)
    path = tmp_path / "f5.xlsx"
    meta = {
        "agency": "392014",
        "jimu": "kaigo_hoken",
        "round_id": "2026",
        "store_id": "s",
        "exported_at": "t",
    }
    assert workbook_writer.write_workbook(cases, path, info={"団体": "x"}, meta=meta, key=b"k") == n
    sheet = fastexcel.read_excel(str(path)).load_sheet_by_name(workbook.SHEET, dtypes="string").to_polars()
    expected = workbook.sort_for_staff(cases)
    assert sheet.height == n
    for title, code in workbook.READONLY_COLUMNS:
        want = expected[code].cast(pl.String).replace("", None)
        assert sheet[title].to_list() == want.to_list(), title
    assert workbook_reader.read_meta(path) | {} == {"format": workbook.FORMAT, **meta}
    read = workbook_reader.read_workbook(path)
    assert read.checks["case_id"].to_list() == expected["case_id"].to_list()
    assert read.checks["readonly_hash"].to_list() == workbook.readonly_hashes(expected, b"k").to_list()
    if n:
        book = openpyxl.load_workbook(path)
        ws = book[workbook.SHEET]
        headers = [c.value for c in ws[1]]
        for row in range(2, n + 2):
            cell = ws.cell(row=row, column=headers.index("業務_氏名") + 1)
            assert cell.protection.locked
            assert cell.quotePrefix == str(cell.value).startswith(("=", "-"))
        dates = next(c for c in CASE_STAFF_COLUMNS if c.is_date)
        cell = ws.cell(row=2, column=headers.index(dates.contract) + 1)
        assert not cell.protection.locked
        assert book[workbook.CHECK_SHEET].sheet_state == "hidden"
        assert ws.data_validations.dataValidation


def test_evidence_in_the_prewarmed_child_is_the_same(tmp_path: Path) -> None:
    frame = pl.DataFrame({"区分": ["点検対象", "対象外"], "件数": [3, 1]})
    suite = evidence.Suite(
        "抽出",
        (
            evidence.Batch(
                "区分ごとの件数",
                frame,
                (
                    evidence.Expect("ExpectColumnValuesToNotBeNull", "区分がある", {"column": "区分"}),
                    evidence.Expect(
                        "ExpectColumnSumToBeBetween",
                        "4行",
                        {"column": "件数", "min_value": 5, "max_value": 5},
                    ),
                ),
            ),
        ),
    )
    here = evidence.validate(suite, tmp_path / "here", "run-1")
    evidence.prewarm()
    try:
        there = evidence.validate(suite, tmp_path / "there", "run-1")
        # the child gone (killed): the check still gets its evidence, made here
        assert evidence._worker is not None
        evidence._worker.process.kill()
        evidence._worker.process.join()
        again = evidence.validate(suite, tmp_path / "again", "run-1")
    finally:
        evidence.shutdown()
    for outcome in (there, again):
        assert (outcome.success, outcome.evaluated, outcome.unmet) == (
            here.success,
            here.evaluated,
            here.unmet,
        )
        assert outcome.pages and all(p.is_file() for p in outcome.pages)
    assert not here.success


def test_matching_on_every_core_gives_the_same_result(
    small_data, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The row-wise steps run by polars' streaming engine (``pipelines.parallel``) judge
    exactly as the in-memory engine does."""
    settings = parse_settings(None)
    round_ = simulate_round(small_data, tmp_path, settings)
    ms = MatchSettings.build("kaigo_hoken", settings.jimu["kaigo_hoken"], settings.matching)
    inputs = match_result.match_inputs(round_.records, round_.results)
    monkeypatch.setattr(parallel, "MIN_ROWS", 10**12)
    in_memory = match_result.match(inputs, ms, round_.records)
    monkeypatch.setattr(parallel, "MIN_ROWS", 0)
    assert match_result.match(inputs, ms, round_.records).equals(in_memory)


def test_row_wise_steps_keep_the_row_order_over_many_morsels() -> None:
    n = 300_000
    frame = pl.DataFrame({"i": range(n)}).with_columns(
        pl.format("{}丁目{}-{}", pl.col("i") % 7, pl.col("i"), pl.col("i") % 13).alias("a")
    )
    expr = pl.col("a").str.replace_all(r"[^0-9]+", "-").str.strip_chars("-").alias("numbers")
    assert parallel.with_columns(frame, expr).equals(frame.with_columns(expr))
    assert parallel.select(frame, "i", expr).equals(frame.select("i", expr))


def test_workbook_rows_on_every_core_are_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _cases(xlsx.XML_CHUNK_ROWS + 25_000)
    columns = ("case_id", "biz_name", "likely_owner", "priority")
    cells = [xlsx.Cells(j, pl.col(c).cast(pl.String), 0, 1) for j, c in enumerate(columns)]
    monkeypatch.setattr(parallel, "MIN_ROWS", 10**12)
    in_memory = b"".join(xlsx.rows_xml(frame, cells, first_row=2))
    monkeypatch.setattr(parallel, "MIN_ROWS", 0)
    assert b"".join(xlsx.rows_xml(frame, cells, first_row=2)) == in_memory
    assert in_memory.count(b"<row ") == frame.height


def test_f4_writer_keeps_nothing_when_its_block_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks are encoded and written by a second thread: a failure in the block still waits
    for it, then removes the partial file (nothing holding 個人番号 is left behind)."""
    monkeypatch.setattr(outputs, "CSV_CHUNK_ROWS", 3)
    frame = pl.DataFrame({"氏名": ["山田", "𠮷田", "髙橋"] * 5, "n": list(range(15))})
    with pytest.raises(RuntimeError, match="boom"), outputs.CsvCp932Writer(tmp_path / "f4.csv") as writer:
        writer.write(frame)
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with outputs.CsvCp932Writer(tmp_path / "f4.csv") as writer:
        writer.write(frame)
        writer.write(frame)
    assert writer.replaced == 10
    assert (tmp_path / "f4.csv").read_bytes().count(b"\r\n") == 31
