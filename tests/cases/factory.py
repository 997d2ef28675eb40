"""Small case frames for store-level tests: what ``build_cases`` and ``match_result`` give."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import openpyxl
import polars as pl

from pipelines.cases.store import CaseStore
from pipelines.cases.workbook import SHEET
from pipelines.stages.mismatch_review import export_workbook
from schemas.mismatch_review import CASE_COLUMNS

AGENCY, JIMU = "392014", "kaigo_hoken"
INFO = {"団体": "392014 高知県高知市", "事務": "kaigo_hoken 介護保険資格・給付情報"}
TEXT = [c for _, c in CASE_COLUMNS if c not in ("case_id", "priority", "my_number_masked")]


def candidates(round_id: str, records: list[dict]) -> pl.DataFrame:
    """Cases as ``build_cases`` returns them; each record needs ``inquiry_no`` and ``grade``."""
    rows = []
    for r in records:
        row = dict.fromkeys(TEXT)
        row |= {
            "case_id": f"{round_id}-{r['inquiry_no']}",
            "round_id": round_id,
            "priority": 1 if r["grade"] == "C" else 3,
            "my_number": "123456789018",
            "atena_no": f"A{r['inquiry_no'][-4:]}",
            "grade_reason": "氏名",
            "biz_name": "山田　太郎",
            "juki_name": "山田　太朗",
        }
        row |= r
        rows.append(row)
    schema = {"case_id": pl.String, "round_id": pl.String, "priority": pl.Int64, "my_number": pl.String}
    schema |= dict.fromkeys(TEXT, pl.String)
    return pl.DataFrame(rows, schema=schema)


def graded(frame: pl.DataFrame, also_a: list[dict] = ()) -> pl.DataFrame:
    """``match_result`` columns the merge reads: the cases' records, plus records graded A."""
    a = pl.DataFrame(
        [
            {
                "inquiry_no": r["inquiry_no"],
                "atena_no": r.get("atena_no", f"A{r['inquiry_no'][-4:]}"),
                "grade": "A",
            }
            for r in also_a
        ],
        schema={"inquiry_no": pl.String, "atena_no": pl.String, "grade": pl.String},
    )
    return pl.concat([frame.select("inquiry_no", "atena_no", "grade"), a])


def export(store: CaseStore, path: Path, round_id: str = "2026") -> Path:
    export_workbook(store, AGENCY, JIMU, round_id, path, info=INFO)
    return path


class Sheet:
    """The F5 sheet as staff edit it with Excel, addressed by case id and header."""

    def __init__(self, path: Path):
        self.path = path
        self.book = openpyxl.load_workbook(path)
        self.ws = self.book[SHEET]
        self.col = {c.value: c.column for c in self.ws[1]}
        self.row = {self.ws.cell(r, 1).value: r for r in range(2, self.ws.max_row + 1)}

    def fill(self, case_id: str, **values: object) -> int:
        row = self.row[case_id]
        for header, value in values.items():
            self.ws.cell(row, self.col[header], value)
        return row

    def get(self, case_id: str, header: str) -> object:
        return self.ws.cell(self.row[case_id], self.col[header]).value

    def save(self, path: Path | None = None) -> Path:
        target = path or self.path
        self.book.save(target)
        return target


@dataclass(frozen=True)
class Backend:
    name: str
    url: str
    pg_schema: str | None = None

    def open(self) -> CaseStore:
        return CaseStore.open(self.url, pg_schema=self.pg_schema)

    def yaml(self) -> str:
        """The tenken.yaml ``cases:`` section pointing at this store."""
        lines = ["cases:", f"  url: {self.url}"]
        if self.pg_schema:
            lines.append(f"  pg_schema: {self.pg_schema}")
        return "\n".join(lines) + "\n"
