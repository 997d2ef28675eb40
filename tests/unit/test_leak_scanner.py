"""The leak scanner finds what it is meant to find (a scan that finds nothing proves nothing)."""

import json
import sqlite3
from pathlib import Path

import openpyxl
import pytest

from pipelines.checkdigit import with_my_number_check_digit
from tests.leaks import Residents, leaked, numbers_in
from tests.unit.test_privacy import WRITINGS

NUMBER = with_my_number_check_digit("12345678901")


@pytest.mark.parametrize(("how", "text"), WRITINGS, ids=[w[0] for w in WRITINGS])
def test_every_writing_of_a_number_is_found(how: str, text: str, tmp_path: Path) -> None:
    assert leaked([NUMBER], [f"log: {text}"]) == [f"text[0]: ********{NUMBER[-4:]}"]
    escaped = tmp_path / "events.json"
    escaped.write_text(json.dumps({"description": text}), encoding="ascii")  # \\uXXXX, as Dagster stores
    assert leaked([NUMBER], paths=[escaped]) != []


def test_numbers_are_found_in_workbooks_databases_and_cp932(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active["B7"] = f"住所 {NUMBER[:4]}-{NUMBER[4:8]}-{NUMBER[8:]}"
    book.save(tmp_path / "f5.xlsx")
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:
        conn.execute("CREATE TABLE t (v TEXT)")
        conn.execute("INSERT INTO t VALUES (?)", (f"備考 {NUMBER}",))
    (tmp_path / "report.csv").write_bytes(f"内容,{NUMBER}\r\n".encode("cp932"))
    found = leaked([NUMBER], paths=[tmp_path])
    assert {f.split(":")[0].rsplit("/", 1)[1] for f in found} == {"f5.xlsx", "store.sqlite", "report.csv"}


def test_masked_numbers_and_other_digits_are_not_reported() -> None:
    texts = [f"********{NUMBER[-4:]}", "照会番号 0000000012", f"{NUMBER[:11]}", "2026-11-20 10:30"]
    assert leaked([NUMBER], texts) == []


def test_residents_are_found_by_name_address_and_birth_date(tmp_path: Path) -> None:
    f1 = tmp_path / "f1.csv"
    f1.write_bytes(
        "宛名番号,個人番号,氏名,生年月日,住所\r\nA1,123456789018,山田　太郎,昭和45年12月4日,高知県高知市本町1-2-3\r\n".encode(
            "cp932"
        )
    )
    people = Residents.of([f1])
    assert people.found_in(["担当 山田 太郎 さん"]) == ["text[0]: 氏名"]
    assert people.found_in(['{"v": "1970-12-04"}']) == ["text[0]: 生年月日"]
    assert people.found_in(["高知県高知市本町１－２－３"]) == ["text[0]: 住所"]
    assert people.found_in(["山田", "1764919701204123", "高知県高知市"]) == []


def test_digit_runs_inside_hashes_are_not_taken_for_numbers(tmp_path: Path) -> None:
    """An audit export lists SHA-256 hashes; a 12-digit run inside one is no 個人番号 (the
    same hash in the instance's metadata was reported as a leak, at random)."""
    digest = "9f" + "123456789018" + "ab" * 25
    export = tmp_path / "監査ログ.csv"
    export.write_text(f"seq,hash,備考\r\n1,{digest},\r\n2,x,123456789018\r\n", encoding="cp932")
    assert numbers_in([export]) == {"123456789018"}
    export.write_text(f"seq,hash\r\n1,{digest}\r\n", encoding="cp932")
    assert numbers_in([export]) == set()
