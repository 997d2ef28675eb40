"""`tenken cases …` in real subprocesses: import (twice, refused, killed half-way), export,
status, list, audit and verify, on SQLite and on PostgreSQL."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner, Result

from demo.generator import generate
from demo.simulator import answer_files
from pipelines.cases.audit import events_frame
from pipelines.cases.importer import import_workbook
from pipelines.cases.store import CaseStore
from schemas.config import load_settings
from tenken import runner
from tenken.cli import app
from tenken.runner import Home
from tests.cases.factory import Backend, Sheet
from tests.leaks import instance_storage, leaked

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
AGENCY, JIMU = "392014", "kaigo_hoken"
DAY = date(2026, 11, 2)


def tenken(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tenken", *args, "--home", str(home)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def done_round(request, tmp_path_factory):
    """A home whose 2026 round went through both phases (run in-process, as the CLI would).

    Shared by the tests of a backend: each test works on its own rows of the workbook.
    """
    tmp = tmp_path_factory.mktemp(f"cli_{request.param}")
    home = tmp / "home"
    home.mkdir()
    if request.param == "postgresql":
        schema = f"t_{uuid.uuid4().hex[:12]}"
        backend = Backend("postgresql", request.getfixturevalue("pg_database"), schema)
        (home / "tenken.yaml").write_text(backend.yaml(), encoding="utf-8")
    data = generate(500, agency=AGENCY, jimu=JIMU, seed=9)
    f1 = data.write_extract(tmp / "f1.csv")
    saved = os.environ.get("DAGSTER_HOME")
    try:
        runner.request(
            Home(home), agency=AGENCY, jimu=JIMU, extract_file=f1, round_id="2026", out_dir=tmp / "req"
        )
        answers = answer_files(sorted((tmp / "req").glob("request_*.csv")), data.registry, tmp / "f3")
        runner.match(Home(home), agency=AGENCY, jimu=JIMU, result_path=answers[0].parent, out_dir=tmp / "out")
    finally:
        if saved is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = saved
    return {
        "backend": request.param,
        "home": home,
        "tmp": tmp,
        "data": data,
        "f5": tmp / "out" / "確認作業リスト.xlsx",
    }


def cli(*args: str, home: Path) -> Result:
    return CliRunner().invoke(app, ["cases", *args, "--home", str(home)])


def open_store(home: Path) -> CaseStore:
    return CaseStore.for_settings(load_settings(home / "tenken.yaml").cases, home)


def store_state(home: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    with open_store(home) as store, store.reading() as conn:
        return store.cases_frame(conn, AGENCY, JIMU), events_frame(conn)


def filled(f5: Path, target: Path, rows: slice) -> Path:
    sheet = Sheet(f5)
    for case_id in list(sheet.row)[rows]:
        sheet.fill(
            case_id,
            状態="本人の番号と確認",
            担当者="山田",
            確認方法="電話",
            確認結果="本人の番号",
            確認日=DAY,
            確認者="佐藤",
        )
    return sheet.save(target)


def test_import_twice_then_export_status_audit_and_verify(done_round, monkeypatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # `verify` opens the home's instance in-process
    home, tmp = done_round["home"], done_round["tmp"]
    returned = filled(done_round["f5"], tmp / "記入済み.xlsx", slice(0, 3))
    first = tenken("cases", "import", str(returned), home=home)
    assert first.returncode == 0, first.stderr
    assert "適用 3 件（状態の変更 3 件）" in first.stdout
    assert (tmp / "記入済み_取込結果.csv").exists()
    _, events = store_state(home)
    second = tenken("cases", "import", str(returned), home=home)
    assert second.returncode == 0 and "適用 0 件（状態の変更 0 件）" in second.stdout
    assert store_state(home)[1].equals(events)

    # the read-only commands, in-process (the same CLI code, without a new interpreter each)
    status = cli("status", home=home)
    assert status.exit_code == 0
    header, rule, row = status.stdout.splitlines()[:3]  # an aligned table (issue 13.5)
    assert header.split()[:4] == ["団体", "事務", "点検回", "未着手"] and set(rule) == {"-", " "}
    cells = dict(zip(header.split(), row.split(), strict=True))
    assert cells["本人の番号と確認"] == "3" and int(cells["合計"]) == int(cells["未着手"]) + 3

    listed = cli("list", "--agency", AGENCY, "--jimu", JIMU, "--state", "本人の番号と確認", home=home)
    assert len(listed.stdout.splitlines()) == 2 + 3  # header, rule, three cases

    out = tmp / "again"
    exported = cli("export", "--agency", AGENCY, "--jimu", JIMU, "--out", str(out), home=home)
    assert exported.exit_code == 0, exported.stderr
    assert [Sheet(out / "確認作業リスト.xlsx").get(c, "確認者") for c in list(Sheet(returned).row)[:3]] == [
        "佐藤"
    ] * 3

    audit = cli("audit", "--out", str(tmp / "監査ログ.csv"), home=home)
    assert audit.exit_code == 0
    log = pl.read_csv(tmp / "監査ログ.csv", encoding="cp932", infer_schema=False)
    assert log.height == events.height and log.columns[:3] == ["連番", "記録日時", "団体コード"]
    assert set(log.filter(pl.col("内容") == "状態変更")["出所"]) == {str(returned)}

    verify = cli("verify", home=home)
    assert verify.exit_code == 0 and "改ざんされていません" in verify.stdout
    assert "Dagster の記録 3 件と照合" in verify.stdout  # phase 2 and both imports

    numbers = done_round["data"].registry["my_number"].to_list()
    outputs = [p.stdout + p.stderr for p in (first, second, status, listed, exported, audit, verify)]
    assert (
        leaked(
            numbers, outputs, [*instance_storage(home), tmp / "監査ログ.csv", tmp / "記入済み_取込結果.csv"]
        )
        == []
    )


# refusals are the same on both backends (tests/cases/test_import.py): one CLI run is enough
@pytest.mark.parametrize("done_round", ["sqlite"], indirect=True)
def test_a_refused_workbook_exits_2_naming_the_row(done_round) -> None:
    home, tmp = done_round["home"], done_round["tmp"]
    sheet = Sheet(done_round["f5"])
    ids = list(sheet.row)
    row = sheet.fill(ids[23], 状態="確認中", 担当者="山田", 確認方法="電話")
    bad = sheet.fill(ids[24], 状態="確認中", 担当者="山田", 確認方法="FAX")
    edited = sheet.fill(ids[25], 住基_氏名="書き換え　太郎")  # a read-only comparison cell (issue 7.1)
    before = store_state(home)
    out = tenken("cases", "import", str(sheet.save(tmp / "誤りあり.xlsx")), home=home)
    assert out.returncode == 2
    assert f"ファイル「誤りあり.xlsx」 {bad}行目 列「確認方法」: 一覧にない値です（「FAX」" in out.stderr
    assert "CASE_VALUE_NOT_ALLOWED" in out.stderr and "何も保存していません" in out.stderr
    assert (
        f"ファイル「誤りあり.xlsx」 {edited}行目 列「住基_氏名」: 読み取り専用の列（照合結果）が書き換えられています"
        in out.stderr
    )
    assert str(tmp / "誤りあり_取込結果.csv") in out.stderr
    after = store_state(home)
    assert after[0].equals(before[0]) and after[1].equals(before[1]) and row != bad


KILLER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from pipelines.cases.store import CaseStore

    marker = Path(sys.argv[1])
    original = CaseStore.append_events

    def stall_mid_import(self, conn, events, **kwargs):
        written = original(self, conn, events, **kwargs)
        if kwargs.get("source", "").endswith(".xlsx"):
            marker.write_text(str(written))  # cases updated and events written, not committed
            time.sleep(600)
        return written

    CaseStore.append_events = stall_mid_import
    sys.argv = ["tenken", *sys.argv[2:]]
    from tenken.cli import main
    main()
    """
)


def test_an_import_killed_half_way_leaves_the_store_as_it_was(done_round) -> None:
    home, tmp = done_round["home"], done_round["tmp"]
    returned = filled(done_round["f5"], tmp / "途中で止める.xlsx", slice(3, 23))
    before = store_state(home)
    marker = tmp / "stalled"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLER, str(marker), "cases", "import", str(returned), "--home", str(home)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert proc.poll() is None, "the import ended before it reached the point to kill it"
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert int(marker.read_text()) >= 20  # the events were written inside the transaction
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    after = store_state(home)
    assert after[0].equals(before[0]) and after[1].equals(before[1])

    # the store is intact and the same file imports cleanly afterwards
    with open_store(home) as store:
        assert store.verify().ok
        assert import_workbook(store, returned).applied == 20
