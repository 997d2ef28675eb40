"""A 個人番号 typed into another field of the business data (issue 11, class 4).

F5 shows a 個人番号 by its last 4 digits only; a 住所 or 氏名 that holds the record's own number
as text must not carry it in full into the case store, F5 or the audit trail. Number-like
runs are masked in every data text field of a case; identifiers (宛名番号, 照会番号, case
ids) and ordinary digits (番地, dates) are kept.
"""

from pathlib import Path

import openpyxl
import pytest

from pipelines.cases.audit import events_frame
from pipelines.cases.merge import merge_round
from pipelines.cases.workbook import SHEET
from tests.cases.factory import AGENCY, JIMU, candidates, export, graded

NUMBER = "123456789018"

FIELDS = [
    (
        "biz_address",
        f"高知市本町1-2-3 {NUMBER[:4]}-{NUMBER[4:8]}-{NUMBER[8:]}",
        "高知市本町1-2-3 ********9018",
    ),
    ("juki_address", f"高知県高知市本町{NUMBER}", "高知県高知市本町********9018"),
    ("biz_name", f"山田 {NUMBER}", "山田 ********9018"),
    ("biz_kana", "ヤマダ １２３４ ５６７８ ９０１８", "ヤマダ ********９０１８"),
    ("grade_reason", f"氏名（{NUMBER}）", "氏名（********9018）"),
    ("biz_address", "高知市本町1-2-3 101号室", "高知市本町1-2-3 101号室"),  # stays
]


@pytest.mark.parametrize(("field", "value", "stored"), FIELDS)
def test_numbers_in_data_fields_are_masked_everywhere(
    store, tmp_path: Path, field: str, value: str, stored: str
) -> None:
    frame = candidates("2026", [{"inquiry_no": "0000000001", "grade": "B", field: value}])
    merge_round(store, AGENCY, JIMU, "2026", frame, graded(frame), source="照合 test")
    with store.reading() as conn:
        cases = store.cases_frame(conn, AGENCY, JIMU)
        events = events_frame(conn)
    assert cases[field].to_list() == [stored]
    assert cases["atena_no"].to_list() == ["A0001"] and cases["case_id"].to_list() == ["2026-0000000001"]
    assert NUMBER not in events.write_csv()
    sheet = openpyxl.load_workbook(export(store, tmp_path / "f5.xlsx"))[SHEET]
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not any(NUMBER in c.replace("-", "") for c in cells)
    assert stored in cells
