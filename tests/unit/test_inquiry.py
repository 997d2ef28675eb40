"""住基照会要求 (F2 + manifest, stable 照会番号) and 照会結果 (F3 against what was sent)."""

import hashlib
import json
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from pipelines.checkdigit import with_my_number_check_digit as with_cd
from pipelines.errors import TenkenInputError
from pipelines.stages.inquiry_request import assign_inquiry_numbers, build_requests, write_request_files
from pipelines.stages.inquiry_result import read_results
from schemas.config import parse_settings

NUMBERS = [with_cd(f"{i:011d}") for i in range(100, 105)]


def extract_frame(atena: list[str], numbers: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "round_id": "2026",
            "extract_id": "x" * 16,
            "atena_no": atena,
            "my_number": numbers,
            "scope": ["点検対象"] * len(atena),
        }
    )


def test_numbers_are_stable_across_reruns_of_a_round() -> None:
    first = assign_inquiry_numbers(pl.Series(["B", "A", "C"]), None)
    assert dict(first.iter_rows()) == {"A": "0000000001", "B": "0000000002", "C": "0000000003"}
    # the extract changed: A removed, D and 0 added — old numbers kept, new ones after the highest
    second = assign_inquiry_numbers(pl.Series(["D", "B", "C", "0"]), first)
    mapping = dict(second.iter_rows())
    assert mapping["B"] == "0000000002" and mapping["C"] == "0000000003" and mapping["A"] == "0000000001"
    assert mapping["0"] == "0000000004" and mapping["D"] == "0000000005"
    assert second["inquiry_no"].is_unique().all()


def test_request_files_follow_the_contract(tmp_path: Path) -> None:
    ex = extract_frame(["A", "B", "C", "D", "E"], NUMBERS)
    registry = assign_inquiry_numbers(ex["atena_no"], None)
    requests, manifest = write_request_files(
        build_requests(ex, registry),
        tmp_path,
        agency="392014",
        agency_name="高知県高知市",
        jimu="kaigo_hoken",
        jimu_name="介護",
        round_id="2026",
        max_records_per_file=2,
        now=datetime(2026, 11, 23, 10, 0),
    )
    names = [f.name for f in manifest.files]
    assert names == [f"request_392014_kaigo_hoken_2026_00{i}.csv" for i in (1, 2, 3)]
    body = (tmp_path / names[0]).read_bytes()
    assert body == f"0000000001,{NUMBERS[0]}\r\n0000000002,{NUMBERS[1]}\r\n".encode("shift_jis")
    assert [f.records for f in manifest.files] == [2, 2, 1]
    for f in manifest.files:
        assert f.sha256 == hashlib.sha256((tmp_path / f.name).read_bytes()).hexdigest()
    saved = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert saved["件数合計"] == 5 and saved["点検回"] == "2026"
    sums = (tmp_path / "SHA256SUMS").read_text().splitlines()
    assert sums[0] == f"{manifest.files[0].sha256}  {names[0]}"
    assert requests["request_file"].to_list() == [names[0]] * 2 + [names[1]] * 2 + [names[2]]
    for name in [*names, "manifest.json", "SHA256SUMS"]:
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600


def test_rerun_with_fewer_files_removes_stale_ones(tmp_path: Path) -> None:
    ex = extract_frame(["A", "B", "C"], NUMBERS[:3])
    reg = assign_inquiry_numbers(ex["atena_no"], None)
    common = dict(
        agency="392014", agency_name="", jimu="j", jimu_name="", round_id="2026", now=datetime.now()
    )
    write_request_files(build_requests(ex, reg), tmp_path, max_records_per_file=1, **common)
    write_request_files(build_requests(ex, reg), tmp_path, max_records_per_file=10, **common)
    assert sorted(p.name for p in tmp_path.glob("request_*.csv")) == ["request_392014_j_2026_001.csv"]


def test_duplicate_number_on_two_atena_gives_two_lines(tmp_path: Path) -> None:
    ex = extract_frame(["A", "B"], [NUMBERS[0], NUMBERS[0]])
    reg = assign_inquiry_numbers(ex["atena_no"], None)
    _req, manifest = write_request_files(
        build_requests(ex, reg),
        tmp_path,
        agency="392014",
        agency_name="",
        jimu="j",
        jimu_name="",
        round_id="2026",
        max_records_per_file=10,
        now=datetime.now(),
    )
    assert manifest.total_records == 2


F3_HEADER = "照会番号,個人番号,処理結果,氏名,氏名カナ,生年月日,性別,住所,異動事由,異動年月日"


@pytest.fixture()
def sent() -> pl.DataFrame:
    ex = extract_frame(["A", "B", "C"], NUMBERS[:3])
    return build_requests(ex, assign_inquiry_numbers(ex["atena_no"], None))


def f3(tmp_path: Path, rows: list[str], name: str = "result.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(("\r\n".join([F3_HEADER, *rows]) + "\r\n").encode("cp932"))
    return path


def ok_row(i: int, number: str | None = None, code: str = "00") -> str:
    return f"{i:010d},{number or NUMBERS[i - 1]},{code},山田　太郎,ヤマダ　タロウ,19701204,1,高知県高知市本町一丁目1番1号,,"


def test_results_join_back_to_atena(tmp_path: Path, sent: pl.DataFrame) -> None:
    rows = [
        ok_row(1),
        ok_row(2),
        f"0000000003,{NUMBERS[2]},20,〓田　花子,,19500101,2,高知県高知市,死亡,20250601",
    ]
    results, stats = read_results([f3(tmp_path, rows)], sent, parse_settings(None))
    assert results["atena_no"].to_list() == ["A", "B", "C"]
    assert stats.by_code == {"00": 2, "20": 1}
    assert results.filter(pl.col("atena_no") == "C")["move_reason"][0] == "死亡"


def test_every_contract_violation_is_named(tmp_path: Path, sent: pl.DataFrame) -> None:
    rows = [
        ok_row(1),
        ok_row(1),  # duplicated
        f"0000000009,{NUMBERS[0]},00,山田　太郎,ヤマダ,19701204,1,高知県,,",  # unknown
        ok_row(2, number=NUMBERS[4]),  # not the number that was sent
        # 0000000003 missing
    ]
    with pytest.raises(TenkenInputError) as e:
        read_results([f3(tmp_path, rows)], sent, parse_settings(None))
    got = {(p.code, p.detail) for p in e.value.problems}
    assert ("INQUIRY_NO_DUPLICATE", "「0000000001」") in got
    assert ("INQUIRY_NO_UNKNOWN", "「0000000009」") in got
    assert ("RESULT_MYNUMBER_DIFFERS", "照会番号 0000000002") in got
    assert ("INQUIRY_NO_MISSING", "照会番号 0000000003") in got
    for n in NUMBERS:
        assert n not in str(e.value)


def test_results_may_come_in_several_files(tmp_path: Path, sent: pl.DataFrame) -> None:
    a = f3(tmp_path, [ok_row(1), ok_row(2)], "r1.csv")
    b = f3(tmp_path, [ok_row(3)], "r2.csv")
    results, _stats = read_results([a, b], sent, parse_settings(None))
    assert results.height == 3
    assert results["result_file"].to_list() == ["r1.csv", "r1.csv", "r2.csv"]


def test_bad_codes_and_dates_in_results(tmp_path: Path, sent: pl.DataFrame) -> None:
    rows = [
        ok_row(1, code="55"),
        ok_row(2).replace("19701204", "1970-12-04"),
        ok_row(3).replace(",1,高知", ",9,高知"),
    ]
    with pytest.raises(TenkenInputError) as e:
        read_results([f3(tmp_path, rows)], sent, parse_settings(None))
    assert {(p.line, p.code) for p in e.value.problems} == {
        (2, "RESULT_CODE"),
        (3, "RESULT_DATE"),
        (4, "RESULT_SEX"),
    }
