"""A terminal that talks (issue 13.5): progress lines, the next step, short summaries, aligned
tables, ``--version``, help without artefacts, and no warning at exit.

One round (phase 1 and 2 on 300 synthetic rows answered by the simulator) is run in-process
through the CLI; the monthly report and the case commands read it. The exit warning is
looked for in a real ``python -m tenken`` process, where it used to appear.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from demo.generator import generate
from demo.simulator import answer_files
from pipelines import clock
from tenken.cli import app
from tenken.terminal import STAGE_LABELS, width
from tests.fixtures.bad_input import corpus

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
AGENCY, JIMU, ROUND = "392014", "kaigo_hoken", "2026"


def tenken(*args: object, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


@pytest.fixture(autouse=True)
def _dagster_home_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("terminal")
    home = tmp / "home"
    data = generate(300, agency=AGENCY, jimu=JIMU, seed=5)
    f1 = data.write_extract(tmp / "点検用元ファイル.csv")
    common = ["--home", home, "--agency", AGENCY, "--jimu", JIMU]
    request = tenken("request", *common, "--extract", f1, "--round", ROUND, "--out", tmp / "f2")
    f3 = answer_files(sorted((tmp / "f2").glob("request_*.csv")), data.registry, tmp / "f3")
    match = tenken("match", *common, "--result", f3[0].parent, "--out", tmp / "f4")
    return {"home": home, "tmp": tmp, "request": request, "match": match, "f1": f1}


def test_each_stage_prints_start_end_counts_and_time_as_plain_lines(done: dict[str, Any]) -> None:
    request, match = done["request"], done["match"]
    assert request.exit_code == 0 and match.exit_code == 0, request.output + match.output
    lines = (request.stderr + match.stderr).splitlines()
    for stage in ("extract", "inquiry_request", "inquiry_result", "match_result", "mismatch_review"):
        label = STAGE_LABELS[stage]
        assert f"{label}: 開始" in lines
        ended = [line for line in lines if line.startswith(f"{label}: 完了 ")]
        assert len(ended) == 1 and " 秒" in ended[0], lines
    assert any(re.match(r"抽出: 完了 [\d.]+ 秒（抽出 300 件、点検対象 \d+ 件", line) for line in lines), lines
    assert "\x1b[" not in request.stderr  # not a terminal: no escape codes


def test_a_terminal_gets_rich_lines(done: dict[str, Any]) -> None:
    again = tenken(
        "request", "--home", done["home"], "--agency", AGENCY, "--jimu", "shogaisha_techo",
        "--extract", corpus.HERE / "good_extract.csv", "--round", ROUND, "--out", done["tmp"] / "again",
        env={"FORCE_COLOR": "1"},
    )  # fmt: skip
    assert again.exit_code == 0, again.output
    assert "\x1b[" in again.stderr and "✔" in again.stderr and "抽出" in again.stderr


def test_match_ends_naming_the_workbook_and_the_case_commands(done: dict[str, Any]) -> None:
    out = done["match"].stdout
    assert str(done["tmp"] / "f4" / "確認作業リスト.xlsx") in out
    assert "tenken cases import" in out and "tenken cases status" in out and "tenken cases list" in out


def test_report_is_a_short_summary_with_the_xlsx_period(done: dict[str, Any]) -> None:
    month = clock.now().strftime("%Y-%m")
    report = tenken("report", "--home", done["home"], "--month", month, "--out", done["tmp"] / "report")
    assert report.exit_code == 0, report.output
    lines = report.stdout.splitlines()
    assert len(lines) <= 8 and not any(line.startswith("|") for line in lines), lines  # no 19-column table
    assert any("点検対象" in line and "件" in line for line in lines)
    workbook = done["tmp"] / "report" / f"定期報告_{month}.xlsx"
    assert str(workbook) in report.stdout
    title = str(load_workbook(workbook, read_only=True).worksheets[0]["A1"].value)
    period = lines[0].removeprefix("定期報告 ")
    assert period in title, (period, title)  # the same "as of" on the terminal and in the xlsx


def _same_width(lines: list[str]) -> bool:
    return len({width(line.rstrip()) for line in lines}) == 1


def test_cases_status_and_list_are_aligned_tables(done: dict[str, Any]) -> None:
    status = tenken("cases", "status", "--home", done["home"])
    assert status.exit_code == 0, status.output
    table = [line for line in status.stdout.splitlines() if line]
    assert table[0].split()[:3] == ["団体", "事務", "点検回"] and set(table[1]) <= {"-", " "}
    assert _same_width(table), table  # its last column (合計) right-aligned: every line ends together
    listed = tenken("cases", "list", "--agency", AGENCY, "--jimu", JIMU, "--home", done["home"])
    assert listed.exit_code == 0, listed.output
    rows = listed.stdout.splitlines()
    assert "\t" not in listed.stdout and len(rows) > 3
    column = width(rows[0][: rows[0].index("点検回")])  # where the second column starts
    for row in rows[2:]:
        first, second = row.split()[:2]
        assert width(row[: row.index(second, len(first))]) == column, rows


def test_version() -> None:
    shown = tenken("--version")
    assert shown.exit_code == 0 and shown.stdout.strip() == f"tenken {version('tenken')}"


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group (typer carries its own click)
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_help_has_no_typer_artefacts() -> None:
    commands = _commands(typer.main.get_group(app))
    assert ("cases", "import") in commands and ("purge",) in commands
    for command in commands:
        shown = tenken(*command, "--help")
        assert shown.exit_code == 0, (command, shown.output)
        assert "<bool>" not in shown.stdout and "{" not in shown.stdout, (command, shown.stdout)
    assert "確認作業リスト.xlsx" in tenken("cases", "import", "--help").stdout.splitlines()[0]


def test_no_leaked_semaphore_warning_at_exit(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable, "-m", "tenken", "request", "--home", str(tmp_path / "home"),
            "--agency", AGENCY, "--jimu", JIMU, "--extract", str(corpus.HERE / "good_extract.csv"),
            "--out", str(tmp_path / "f2"),
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "resource_tracker" not in run.stderr and "leaked" not in run.stderr, run.stderr


def test_the_empty_chart_says_no_data() -> None:
    import polars as pl
    from matplotlib import pyplot as plt

    from pipelines.reporting.files import NO_DATA, chart_figure

    columns = ("grade_b", "grade_c", "confirmed", "mislinked", "in_scope")
    empty = pl.DataFrame(
        {"jimu_name": [], **{c: [] for c in columns}}, schema_overrides=dict.fromkeys(columns, pl.Int64)
    )
    not_started = pl.DataFrame({"jimu_name": ["介護保険"], **{c: [0] for c in columns}})
    started = pl.DataFrame({"jimu_name": ["介護保険"], **{c: [5] for c in columns}})
    for frame, says_no_data in ((empty, True), (not_started, True), (started, False)):
        fig = chart_figure(frame, month="2026-10 末時点")
        try:
            texts = [t.get_text() for t in fig.texts]
            assert (NO_DATA in texts) is says_no_data
            assert len(fig.axes) == (0 if says_no_data else 2)  # no empty panels
        finally:
            plt.close(fig)


def test_the_reader_notes_reach_the_terminal(tmp_path: Path) -> None:
    """UTF-8 detected and blank trailing columns ignored are said, not silent (issue 11, class 11)."""
    text = (corpus.HERE / "good_extract.csv").read_bytes().decode("cp932")
    lines = text.split("\r\n")
    # saved as UTF-8 by Excel, with the three empty columns it leaves after the last one
    trailing = "\r\n".join(line + ",,," if line else line for line in lines)
    extract = tmp_path / "点検用元ファイル.csv"
    extract.write_bytes(b"\xef\xbb\xbf" + trailing.encode("utf-8"))
    done = tenken(
        "request", "--home", tmp_path / "home", "--agency", AGENCY, "--jimu", JIMU,
        "--extract", extract, "--round", ROUND, "--out", tmp_path / "f2",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    notes = [line for line in done.stdout.splitlines() if line.startswith("注意: ")]
    assert any("UTF-8" in note for note in notes), done.stdout
    assert len(notes) == 2, notes  # the encoding, and the ignored columns
