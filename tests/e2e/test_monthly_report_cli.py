"""`tenken report` and `tenken status` on a real home: the rounds the CLI ran are in the
report, the files open as an office would open them, and an overdue recheck shows in the
status table and as a failed (red) check in the Dagster instance.
"""

from __future__ import annotations

import csv
import io
import warnings
from datetime import datetime
from pathlib import Path

import dagster as dg
import openpyxl
import pytest
from typer.testing import CliRunner

from pipelines.cases.rounds import PHASE_MATCHED, record_round
from pipelines.cases.store import CaseStore
from pipelines.clock import JST, now
from pipelines.reporting import files as report_files
from tenken import runner
from tenken.cli import app
from tenken.runner import Home
from tests.fixtures.bad_input import corpus

pytestmark = pytest.mark.slow

AGENCY, ROUND = "392014", "2026"


def tenken(*args: str | Path):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """高知市: kaigo_hoken through both phases (one B case), jido_teate phase 1 only."""
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = tmp_path / "home"
    for jimu, phases in (("kaigo_hoken", 2), ("jido_teate", 1)):
        common = ["--home", home, "--agency", AGENCY, "--jimu", jimu]
        extract = corpus.HERE / "good_extract.csv"
        done = tenken("request", *common, "--extract", extract, "--round", ROUND, "--out", tmp_path / jimu)
        assert done.exit_code == 0, done.output
        if phases == 2:
            f3 = tmp_path / "f3_b.csv"
            f3.write_bytes(
                (corpus.HERE / "good_result.csv")
                .read_bytes()
                .replace("架空　花子".encode("cp932"), "架空　英子".encode("cp932"))
            )
            done = tenken("match", *common, "--result", f3, "--out", tmp_path / "f4")
            assert done.exit_code == 0, done.output
    return home


def test_report_files_hold_the_rounds_the_cli_ran(home: Path, tmp_path: Path) -> None:
    month = now().strftime("%Y-%m")
    out = tmp_path / "report"
    done = tenken("report", "--home", home, "--month", month, "--out", out)
    assert done.exit_code == 0, done.output
    assert "確認作業中" in done.stdout and "照会中" in done.stdout

    book = openpyxl.load_workbook(out / f"定期報告_{month}.xlsx")
    assert book.sheetnames == ["団体×事務", "団体", "都道府県"]
    sheet = book["団体×事務"]
    header = [c.value for c in sheet[4]]
    for name in ("団体コード", "事務", "点検対象件数", "A件数", "B件数", "C件数", "本人確認作業終了件数"):
        assert name in header
    assert name in header and "紐付け誤り割合（%）" in header and "主な原因" in header
    assert sheet.freeze_panes == "A5"
    rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(min_row=5)]
    by_jimu = {r["事務"]: r for r in rows if r["事務"]}
    kaigo, jido = by_jimu["kaigo_hoken"], by_jimu["jido_teate"]
    assert (kaigo["状況"], kaigo["B件数"] + kaigo["C件数"]) == ("確認作業中", 1)
    assert (jido["状況"], jido["A件数"]) == ("照会中", 0)
    total = rows[-1]
    assert total["団体名"] == "合計"
    assert total["点検対象件数"] == kaigo["点検対象件数"] + jido["点検対象件数"] > 0
    assert sheet.cell(row=5, column=header.index("点検対象件数") + 1).number_format == "#,##0"
    assert sheet.cell(row=5, column=header.index("紐付け誤り割合（%）") + 1).number_format == "0.000"
    pref = book["都道府県"]
    assert [c.value for c in pref[5]][:2] == ["390003", "高知県"]

    text = (out / f"定期報告_{month}.csv").read_bytes().decode("cp932")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][:3] == ["都道府県コード", "都道府県", "団体コード"] and table[-1][3] == "合計"

    png = (out / f"定期報告_{month}.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_chart_font_has_every_glyph_and_a_font_without_them_would_not(tmp_path: Path) -> None:
    """Tofu check: every character of the labels is in the font the chart uses, and drawing
    without it makes matplotlib report missing glyphs (so this test can fail)."""
    import polars as pl
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    figures = pl.DataFrame(
        {
            "jimu_name": ["介護保険資格・給付情報", "障害児入所支援・措置情報（ひとり親支援関係等）"],
            "grade_b": [3, 1],
            "grade_c": [1, 0],
            "confirmed": [2, 1],
            "mislinked": [1, 0],
            "in_scope": [100, 50],
        }
    )
    labels = "".join(figures["jimu_name"].to_list()) + "本人確認の進捗（%）紐付け誤り割合定期報告末時点"
    ours = FT2Font(str(report_files.font_path()))
    assert ours.family_name == "IPAexGothic"
    missing = [ch for ch in set(labels) if ours.get_char_index(ord(ch)) == 0]
    assert missing == []

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        report_files.write_chart(figures, tmp_path / "ok.png", month="2026-10 末時点")
    assert not [w for w in seen if "missing from font" in str(w.message)]

    latin = FT2Font(font_manager.findfont("DejaVu Sans"))
    assert [ch for ch in set(labels) if latin.get_char_index(ord(ch)) == 0], "DejaVu has no kanji"


def test_an_agency_13_months_past_its_last_round_is_overdue(home: Path) -> None:
    settings = Home(home).settings()
    store = CaseStore.open(f"sqlite:///{home / settings.cases.sqlite_file}")
    today = now()
    back = today.year * 12 + today.month - 1 - 13
    thirteen_months_ago = datetime(back // 12, back % 12 + 1, 1, 9, 0, tzinfo=JST)
    with store, store.writing() as conn:
        figures = {
            "agency": "392049",
            "jimu": "kaigo_hoken",
            "round_id": str(thirteen_months_ago.year),
            **dict.fromkeys(("rows_read", "in_scope", "grade_a"), 10),
            **dict.fromkeys(("out_of_scope", "needs_fix", "grade_b", "grade_c", "not_inquired"), 0),
        }
        record_round(conn, figures, phase=PHASE_MATCHED, at=thirteen_months_ago)

    done = tenken("status", "--home", home)
    assert done.exit_code == 0, done.output
    lines = {
        line.split()[0] + line.split()[1]: line for line in done.stdout.splitlines()[1:] if line[:1].isdigit()
    }
    assert "期限超過" in lines["392049kaigo_hoken"]
    assert "予定どおり" in lines["392014kaigo_hoken"]
    assert "期限超過: 1 区分" in done.stdout

    # the UI: the recheck_calendar check failed (red) in the home's instance
    outcome, table = runner.status(Home(home))
    assert outcome.checks == {"recheck_overdue": False}
    assert table.filter(table["status"] == "期限超過")["agency"].to_list() == ["392049"]
    with Home(home).instance() as instance:
        record = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(dg.AssetKey("recheck_calendar"), "recheck_overdue"), limit=1
        )[0]
        assert record.evaluation is not None and not record.evaluation.passed


def test_bad_month_and_prefecture_are_refused(home: Path, tmp_path: Path) -> None:
    bad = tenken("report", "--home", home, "--month", "2026-13", "--out", tmp_path)
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output
    future = tenken("report", "--home", home, "--month", "2999-01", "--out", tmp_path)
    assert future.exit_code == 2 and "まだ始まっていません" in future.output
    city = tenken("report", "--home", home, "--month", "2026-10", "--prefecture", AGENCY, "--out", tmp_path)
    assert city.exit_code == 2 and "都道府県コードではありません" in city.output
    early = tenken("report", "--home", home, "--month", "2023-12", "--out", tmp_path)
    assert early.exit_code == 2 and "2024-01 以降" in early.output


def test_a_prefecture_roll_up_keeps_the_all_agency_figures_of_the_month(home: Path, tmp_path: Path) -> None:
    month = now().strftime("%Y-%m")
    full = runner.report(Home(home), month=month, out_dir=tmp_path / "all").metadata["monthly_report"]
    rollup = runner.report(Home(home), month=month, prefecture="01", out_dir=tmp_path / "hokkaido")
    latest = rollup.metadata["monthly_report"]
    # the latest materialization still carries the all-agency figures (高知市 is not in 北海道) …
    assert latest["対象範囲"] == "全団体" and latest["点検対象件数"] == full["点検対象件数"] > 0
    assert latest["団体×事務"] == full["団体×事務"]
    # … and the roll-up beside them, under its own keys and files
    assert latest["都道府県 010006/対象範囲"] == "都道府県 010006 の団体"
    assert latest["都道府県 010006/点検対象件数"] == 0
    assert "高知市" not in str(latest["都道府県 010006/団体×事務"])
    assert Path(str(latest["都道府県 010006/報告書（xlsx）"])).parent == tmp_path / "hokkaido"


def test_the_terminal_shows_the_prefecture_roll_up_when_asked_for(home: Path, tmp_path: Path) -> None:
    month = now().strftime("%Y-%m")
    result = tenken(
        "report", "--home", home, "--month", month, "--prefecture", "01", "--out", tmp_path / "hokkaido"
    )
    assert result.exit_code == 0, result.output
    # the roll-up's own figures and files (北海道 has none of the demo's 高知市 rows), not the all-agency ones
    assert "点検対象 0 件" in result.output
    assert str(tmp_path / "hokkaido") in result.output
    assert "都道府県 010006/" not in result.output
