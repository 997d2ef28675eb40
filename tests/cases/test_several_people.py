"""Several people at once (issue 16 item 5): two sections return their workbooks while the IT
division runs 照合 for a third partition and an auditor has the UI open; the case store, its
audit chain and the Dagster instance stay consistent. On SQLite and on PostgreSQL.
"""

import os
import subprocess
import sys
import threading
import uuid
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.instance import open_instance
from demo.generator import generate
from demo.simulator import answer_files
from pipelines.cases.audit import events_frame
from pipelines.cases.store import CaseStore
from schemas.cases import EventKind
from schemas.config import load_settings
from tenken import runner
from tenken.runner import Home
from tests.cases.factory import Backend, Sheet

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 11, 2)
#: two sections with a finished round, and a partition whose 照合 runs meanwhile
SECTION_A, SECTION_B, RUNNING = ("392014", "kaigo_hoken"), ("392014", "jido_teate"), ("392049", "kaigo_hoken")


def open_store(home: Path) -> CaseStore:
    return CaseStore.for_settings(load_settings(home / "tenken.yaml").cases, home)


def phase1(home: Path, tmp: Path, part: tuple[str, str], seed: int) -> Path:
    agency, jimu = part
    data = generate(400, agency=agency, jimu=jimu, seed=seed)
    f1 = data.write_extract(tmp / f"{agency}_{jimu}_f1.csv")
    req = tmp / f"{agency}_{jimu}_req"
    runner.request(Home(home), agency=agency, jimu=jimu, extract_file=f1, round_id="2026", out_dir=req)
    return answer_files(sorted(req.glob("request_*.csv")), data.registry, tmp / f"{agency}_{jimu}_f3")[
        0
    ].parent


def returned(f5: Path, target: Path, who: str) -> Path:
    sheet = Sheet(f5)
    for case_id in list(sheet.row)[:3]:
        sheet.fill(
            case_id,
            状態="本人の番号と確認",
            担当者=who,
            確認方法="電話",
            確認結果="本人の番号",
            確認日=DAY,
            確認者="佐藤",
        )
    return sheet.save(target)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def office(request, tmp_path: Path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    if request.param == "postgresql":
        backend = Backend("postgresql", request.getfixturevalue("pg_database"), f"t_{uuid.uuid4().hex[:12]}")
        (home / "tenken.yaml").write_text(backend.yaml(), encoding="utf-8")
    workbooks = {}
    for seed, part in enumerate((SECTION_A, SECTION_B), start=21):
        result = phase1(home, tmp_path, part, seed)
        out = tmp_path / f"{part[0]}_{part[1]}_out"
        runner.match(Home(home), agency=part[0], jimu=part[1], result_path=result, out_dir=out)
        workbooks[part] = out / "確認作業リスト.xlsx"
    running_f3 = phase1(home, tmp_path, RUNNING, 23)
    return home, tmp_path, workbooks, running_f3


def test_imports_by_two_sections_during_a_run_with_the_ui_open(office) -> None:
    home, tmp, workbooks, running_f3 = office
    with open_store(home) as store, store.reading() as conn:
        events_before = events_frame(conn).height
    files = {
        part: returned(f5, tmp / f"{part[1]}_記入済み.xlsx", who)
        for (part, f5), who in zip(workbooks.items(), ("山田", "田中"), strict=True)
    }

    def tenken(*args: str) -> subprocess.Popen:
        env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
        return subprocess.Popen(
            [sys.executable, "-m", "tenken", *args, "--home", str(home)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    # the auditor's UI: reads the instance and the store over and over while the others write
    stop, reads, read_errors = threading.Event(), [0], []

    def auditor() -> None:
        instance = open_instance(home)
        try:
            while not stop.is_set():
                instance.get_runs(limit=20)
                instance.get_latest_materialization_event(dg.AssetKey("mismatch_review"))
                with open_store(home) as store, store.reading() as conn:
                    store.counts(conn)
                reads[0] += 1
        except Exception as e:  # reported below
            read_errors.append(e)
        finally:
            instance.dispose()

    ui = threading.Thread(target=auditor)
    ui.start()
    procs = [
        tenken("cases", "import", str(files[SECTION_A])),
        tenken("cases", "import", str(files[SECTION_B])),
        tenken("match", "--agency", RUNNING[0], "--jimu", RUNNING[1], "--result", str(running_f3), "--out", str(tmp / "running_out")),
    ]  # fmt: skip
    outcomes = [(p.wait(timeout=600), p.stderr.read() if p.stderr else "") for p in procs]
    stop.set()
    ui.join(timeout=120)
    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
    assert read_errors == [] and reads[0] > 0

    with open_store(home) as store:
        assert store.verify().ok
        with store.reading() as conn:
            events = events_frame(conn)
            for part, who in ((SECTION_A, "山田"), (SECTION_B, "田中")):
                cases = store.cases_frame(conn, *part)
                done = cases.filter(cases["state"] == "本人の番号と確認")
                assert done.height == 3 and set(done["assignee"]) == {who}
            running_cases = store.cases_frame(conn, *RUNNING)
    assert running_cases.height > 0
    # nothing lost, nothing twice: the chain grew by the running partition's new cases and the
    # two sections' changes (three cases each), each once
    new = events.filter(events["seq"] > events_before)
    assert new["seq"].to_list() == list(range(events_before + 1, events_before + 1 + new.height))
    opened = new.filter((new["agency"] == RUNNING[0]) & (new["jimu"] == RUNNING[1]))
    assert opened.height == running_cases.height and set(opened["kind"]) == {EventKind.OPENED.value}
    staff = 0
    for part in (SECTION_A, SECTION_B):
        mine = new.filter((new["agency"] == part[0]) & (new["jimu"] == part[1]))
        assert set(mine["kind"]) <= {EventKind.RECORDED.value, EventKind.MOVED.value}
        moved = mine.filter(mine["kind"] == EventKind.MOVED.value)
        # each of the three cases walks to 本人の番号と確認 (through 確認中), in one import
        assert moved["case_id"].n_unique() == 3
        assert set(moved.group_by("case_id").agg(pl.col("to_state").last())["to_state"]) == {
            "本人の番号と確認"
        }
        staff += mine.height
    assert new.height == running_cases.height + staff
    instance = open_instance(home)
    runs = instance.get_runs()
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs), [r.status for r in runs]
    instance.dispose()
    verify = subprocess.run(
        [sys.executable, "-m", "tenken", "cases", "verify", "--home", str(home)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert verify.returncode == 0 and "改ざんされていません" in verify.stdout, verify.stdout + verify.stderr
