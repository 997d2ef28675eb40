"""`tenken purge` on a real home: what the instance and the case store say decides the rounds.

Three rounds of 高知市, through the CLI with output folders outside the home:

* kaigo_hoken — both phases, every record A: closed when 照合 completed;
* nanbyo — both phases, one record B: its case is open, so the round is not closed;
* jido_teate — phase 1 only: kept while 住基ネット's answer may come, abandoned a year on.

``--dry-run`` shows and deletes nothing; the purge deletes only the closed round's files
that hold 個人番号 (in the home and in its output folders), records each, and keeps what audit
needs; a second purge has nothing left to do.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from typer.testing import CliRunner

from pipelines.home import HomeLayout
from pipelines.ops import retention
from tenken.cli import app
from tests.fixtures.bad_input import corpus

pytestmark = pytest.mark.slow

AGENCY, ROUND = "392014", "2026"


def today():
    """The day as tenken counts it: in Japan (the machine's own clock may be a day behind)."""
    return datetime.now(ZoneInfo("Asia/Tokyo")).date()


def tenken(*args: str | Path):
    return CliRunner().invoke(app, [str(a) for a in args])


def settings(home: Path, days: int) -> None:
    (home / "tenken.yaml").write_text(
        yaml.safe_dump({"retention": {"days_after_close": days}}), encoding="utf-8"
    )


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    settings(home, 30)
    for jimu, phases in (("kaigo_hoken", 2), ("nanbyo", 2), ("jido_teate", 1)):
        common = ["--home", home, "--agency", AGENCY, "--jimu", jimu]
        out = tmp_path / jimu
        done = tenken(
            "request",
            *common,
            "--extract",
            corpus.HERE / "good_extract.csv",
            "--round",
            ROUND,
            "--out",
            out / "f2",
        )
        assert done.exit_code == 0, done.output
        if phases == 2:
            f3 = corpus.HERE / "good_result.csv"
            if jimu == "nanbyo":  # one name differs: a B case, open until staff confirm it
                f3 = tmp_path / "f3_b.csv"
                f3.write_bytes(
                    (corpus.HERE / "good_result.csv")
                    .read_bytes()
                    .replace("架空　花子".encode("cp932"), "架空　英子".encode("cp932"))
                )
            done = tenken("match", *common, "--result", f3, "--out", out / "f4")
            assert done.exit_code == 0, done.output
    return home


def files_of(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


def test_purge_follows_the_rounds_state(home: Path, tmp_path: Path) -> None:
    before = files_of(tmp_path)
    dry = tenken("purge", "--home", home, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "保存（保存期間中:" in dry.stdout and "削除するファイルはありません" in dry.stdout
    assert "保存（確認中の案件が 1 件ある）" in dry.stdout
    waiting = (today() + timedelta(days=365)).isoformat()
    assert f"保存（第2段階（照合）待ち: {waiting} までに照合がなければ放棄とみなす）" in dry.stdout

    later = (today() + timedelta(days=31)).isoformat()
    ahead = tenken("purge", "--home", home, "--dry-run", "--as-of", later)
    assert ahead.exit_code == 0, ahead.output
    for shown in (
        "照会要求（F2）（出力先）",
        "照合結果（F4）（出力先）",
        "確認作業リスト（F5）（出力先）",
        "段階の中間データ（extract）",
    ):
        assert shown in ahead.stdout
    # phase 1 only and never matched: abandoned a year on, then gone like a closed round
    given_up = (today() + timedelta(days=365 + 31)).isoformat()
    abandoned = tenken("purge", "--home", home, "--dry-run", "--as-of", given_up)
    assert abandoned.exit_code == 0, abandoned.output
    assert f"{AGENCY}/jido_teate/2026  照会要求（F2）" in abandoned.stdout
    assert files_of(tmp_path) == before  # a dry run touches nothing
    assert tenken("purge", "--home", home, "--as-of", later).exit_code == 2  # no purging ahead of time

    settings(home, 0)
    done = tenken("purge", "--home", home)
    assert done.exit_code == 0, done.output
    after = files_of(tmp_path)
    gone = sorted(set(before) - set(after))
    assert gone, done.output
    # only the closed round lost files, and exactly what holds 個人番号 or personal data
    assert all("kaigo_hoken" in g for g in gone), gone
    assert "kaigo_hoken/f2/request_392014_kaigo_hoken_2026_001.csv" in gone
    assert {"kaigo_hoken/f4/照合結果.csv", "kaigo_hoken/f4/確認作業リスト.xlsx"} <= set(gone)
    for kept in ("kaigo_hoken/f2/manifest.json", "kaigo_hoken/f2/SHA256SUMS", "kaigo_hoken/f4/照合設定.json"):
        assert kept in after
    layout = HomeLayout(home)
    assert (layout.store / "periodic_report" / AGENCY / "kaigo_hoken.parquet").exists()
    assert not (layout.store / "match_result" / AGENCY / "kaigo_hoken.parquet").exists()
    assert (layout.store / "match_result" / AGENCY / "nanbyo.parquet").exists()

    record = retention.read_record(layout)
    assert record.height == len(gone)
    by_name = {Path(f).name: r for f, r in zip(record["ファイル"], record.iter_rows(named=True), strict=True)}
    f4 = by_name["照合結果.csv"]
    assert f4["行数"] == 4 and f4["SHA-256"] == before["kaigo_hoken/f4/照合結果.csv"]
    assert set(record["方法"]) == {"tenken purge"}

    again = tenken("purge", "--home", home)
    assert again.exit_code == 0 and "削除するファイルはありません" in again.stdout
    assert retention.read_record(layout).height == record.height
