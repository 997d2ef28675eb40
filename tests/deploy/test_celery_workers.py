"""Runs on Celery workers (issue 16 items 2 and 4, its Tests section).

Against this machine's PostgreSQL (the Dagster instance and the case store) and RabbitMQ (the
broker, in a virtual host of its own): six partitions (3 agencies × 2 事務, generated data)
are started at once, both phases, from a shared home whose tenken.yaml says
``executor: celery``, on two `tenken worker` processes. The result must be the same F4, the
same F5 rows and the same case store content as a single-PC home running the same inputs
in-process. Then one worker is killed in the middle of a re-run: another worker takes its
step, and the re-run converges with nothing lost or duplicated.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import sqlalchemy as sa

from assets.instance import open_instance
from demo.generator import generate
from demo.simulator import answer_files
from pipelines.cases.store import CaseStore
from schemas.config import load_settings
from tenken import runner
from tenken.runner import Home
from tests.cases.factory import Sheet

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
ROOT = Path(__file__).resolve().parents[2]
PARTS = [(a, j) for a in ("392014", "392049", "390003") for j in ("kaigo_hoken", "jido_teate")]
ROWS = 800
#: worker processes (2 in CI; set TENKEN_TEST_WORKERS=1 to time the same backfill on one)
WORKERS = int(os.environ.get("TENKEN_TEST_WORKERS", "2"))
#: what differs between two runs of the same inputs by design (clocks, run ids; any "…_at")
VOLATILE = {"created_at", "updated_at", "at", "recorded_at", "run_id", "last_run_id", "hash", "prev_hash"}


def rabbit_vhost() -> str:
    """A RabbitMQ virtual host of this test's own (no other run's tasks), or why not."""
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("RabbitMQ's rabbitmqctl is not installed: no broker for the Celery workers")
    name = f"tenken-{uuid.uuid4().hex[:8]}"
    for args in (["add_vhost", name], ["set_permissions", "-p", name, "guest", ".*", ".*", ".*"]):
        done = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            pytest.skip(f"RabbitMQ at 127.0.0.1:5672 is not usable here: {done.stderr.strip()[:200]}")
    return name


def tenken(*args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    return subprocess.Popen(
        [sys.executable, "-m", "tenken", *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def all_ok(procs: list[subprocess.Popen]) -> None:
    outcomes = [(p.wait(timeout=900), p.stderr.read() if p.stderr else "") for p in procs]
    assert [c for c, _ in outcomes] == [0] * len(procs), [e[-1500:] for c, e in outcomes if c]


class Worker:
    def __init__(self, home: Path, name: str, log: Path):
        self.log = log
        self.handle = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tenken", "worker", "--home", str(home), "--name", name],
            cwd=ROOT, stdout=self.handle, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if " ready." in self.log.read_text(errors="replace"):
                return
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-3000:]
            time.sleep(0.5)
        raise AssertionError("worker not ready: " + self.log.read_text(errors="replace")[-3000:])

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=60)
        self.handle.close()


def store_of(home: Path) -> CaseStore:
    return CaseStore.for_settings(load_settings(home / "tenken.yaml").cases, home)


def stable(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop([c for c in frame.columns if c in VOLATILE or c.endswith("_at")]).sort(
        frame.columns[:3]
    )


def results(home: Path, out: Path) -> dict[str, pl.DataFrame]:
    """F4, F5 rows and case-store records of every partition, without what differs by design."""
    found = {}
    with store_of(home) as store, store.reading() as conn:
        for agency, jimu in PARTS:
            key = f"{agency}_{jimu}"
            found[f"F4 {key}"] = pl.read_csv(
                out / key / "照合結果.csv", encoding="cp932", infer_schema=False
            ).sort("宛名番号")
            sheet = Sheet(out / key / "確認作業リスト.xlsx")
            rows = [[sheet.ws.cell(r, c).value for c in sheet.col.values()] for r in sheet.row.values()]
            found[f"F5 {key}"] = pl.DataFrame(rows, schema=list(sheet.col), orient="row").sort("案件番号")
            found[f"cases {key}"] = stable(store.cases_frame(conn, agency, jimu))
    return found


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, pg_database: str):
    tmp = tmp_path_factory.mktemp("shared")
    vhost = rabbit_vhost()
    server = pg_database.rsplit("/", 1)[0]
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    instance_db = f"tenken_dagster_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{instance_db}"'))
    shared, single = tmp / "shared_home", tmp / "single_home"
    shared.mkdir()
    (shared / "tenken.yaml").write_text(
        "instance:\n  storage: postgres\n"
        f"  postgres_url: {server.replace('postgresql+psycopg2://', 'postgresql://')}/{instance_db}\n"
        f"  data_root: {tmp / 'share'}\n  executor: celery\n"
        f"  celery_broker: pyamqp://guest@127.0.0.1:5672/{vhost}\n"
        f"cases:\n  url: {pg_database}\n  pg_schema: t_{uuid.uuid4().hex[:10]}\n",
        encoding="utf-8",
    )
    inputs = {}
    for seed, (agency, jimu) in enumerate(PARTS, start=40):
        data = generate(ROWS, agency=agency, jimu=jimu, seed=seed)
        inputs[(agency, jimu)] = (data, data.write_extract(tmp / f"{agency}_{jimu}.csv"))
    # both workers start at once on the new instance (they must not race to create its tables)
    workers = [Worker(shared, f"w{i}", tmp / f"worker{i}.log") for i in range(1, WORKERS + 1)]
    try:
        for w in workers:
            w.wait_ready()
        yield {"tmp": tmp, "shared": shared, "single": single, "inputs": inputs, "workers": workers}
    finally:
        for w in workers:
            w.kill()
        subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True, timeout=60)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{instance_db}" WITH (FORCE)'))
        admin.dispose()


def both_phases_at_once(home: Path, tmp: Path, inputs: dict, tag: str) -> float:
    """Phase 1 of the six partitions started together, then phase 2 likewise; wall seconds."""
    start = time.monotonic()
    all_ok([
        tenken("request", "--home", str(home), "--agency", a, "--jimu", j, "--extract", str(f1),
               "--round", "2026", "--out", str(tmp / tag / "req" / f"{a}_{j}"))
        for (a, j), (_, f1) in inputs.items()
    ])  # fmt: skip
    answers = {
        (a, j): answer_files(sorted((tmp / tag / "req" / f"{a}_{j}").glob("request_*.csv")), data.registry,
                             tmp / tag / "f3" / f"{a}_{j}")[0].parent
        for (a, j), (data, _) in inputs.items()
    }  # fmt: skip
    all_ok([
        tenken("match", "--home", str(home), "--agency", a, "--jimu", j, "--result", str(answers[(a, j)]),
               "--out", str(tmp / tag / "out" / f"{a}_{j}"))
        for a, j in PARTS
    ])  # fmt: skip
    return time.monotonic() - start


def single_pc(home: Path, tmp: Path, inputs: dict) -> None:
    for (a, j), (data, f1) in inputs.items():
        req = tmp / "single" / "req" / f"{a}_{j}"
        runner.request(Home(home), agency=a, jimu=j, extract_file=f1, round_id="2026", out_dir=req)
        f3 = answer_files(
            sorted(req.glob("request_*.csv")), data.registry, tmp / "single" / "f3" / f"{a}_{j}"
        )
        runner.match(
            Home(home),
            agency=a,
            jimu=j,
            result_path=f3[0].parent,
            out_dir=tmp / "single" / "out" / f"{a}_{j}",
        )


def worker_hosts(home: Path) -> set[str]:
    """The Celery workers that executed steps of the home's runs (from the instance's events)."""
    instance = open_instance(home)
    try:
        hosts = set()
        for run in instance.get_runs():
            for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
                data = entry.dagster_event.engine_event_data if entry.dagster_event else None
                if data and "Celery worker" in data.metadata:
                    hosts.add(str(data.metadata["Celery worker"].value))
        return hosts
    finally:
        instance.dispose()


def test_six_partitions_on_two_workers_equal_the_single_pc_run(deployment, monkeypatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    tmp, shared, single = deployment["tmp"], deployment["shared"], deployment["single"]
    seconds = both_phases_at_once(shared, tmp, deployment["inputs"], "shared")
    print(f"\n6 partitions × 2 phases on {WORKERS} Celery worker(s): {seconds:.1f} s")
    # the work spread over every worker
    assert {h.split("@")[0] for h in worker_hosts(shared)} == {f"w{i}" for i in range(1, WORKERS + 1)}
    single_pc(single, tmp, deployment["inputs"])
    on_workers, on_one_pc = results(shared, tmp / "shared" / "out"), results(single, tmp / "single" / "out")
    assert on_workers.keys() == on_one_pc.keys()
    for name, frame in on_one_pc.items():
        assert frame.height > 0 or name.startswith("F5"), name
        mine = on_workers[name]
        differ = [c for c in frame.columns if c not in mine.columns or not mine[c].equals(frame[c])]
        assert mine.columns == frame.columns and differ == [], f"{name}: {differ}"


def test_a_worker_killed_mid_run_loses_nothing(deployment, monkeypatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    tmp, shared = deployment["tmp"], deployment["shared"]
    before = results(shared, tmp / "shared" / "out")
    with store_of(shared) as store, store.reading() as conn:
        events_before = conn.execute(sa.text("SELECT count(*) FROM case_events")).scalar_one()
    # re-run phase 2 of every partition, and kill worker 1 as soon as it has taken a step
    victim = deployment["workers"][0]
    seen = len(victim.log.read_text(errors="replace"))
    f3 = {(a, j): tmp / "shared" / "f3" / f"{a}_{j}" for a, j in PARTS}
    procs = [
        tenken("match", "--home", str(shared), "--agency", a, "--jimu", j, "--result", str(f3[(a, j)]),
               "--out", str(tmp / "shared" / "out" / f"{a}_{j}"))
        for a, j in PARTS
    ]  # fmt: skip
    deadline = time.monotonic() + 300
    while "received" not in victim.log.read_text(errors="replace")[seen:]:
        assert time.monotonic() < deadline, "worker 1 took no step"
        time.sleep(0.2)
    victim.kill()
    replacement = Worker(shared, "w3", tmp / "worker3.log")
    deployment["workers"].append(replacement)
    replacement.wait_ready()
    codes = [p.wait(timeout=900) for p in procs]
    # a run whose step died with its worker may fail (Dagster marks it so); running the same
    # command again converges — re-running a partition is safe by design
    for (a, j), code in zip(PARTS, codes, strict=True):
        if code != 0:
            all_ok([tenken("match", "--home", str(shared), "--agency", a, "--jimu", j, "--result", str(f3[(a, j)]),
                           "--out", str(tmp / "shared" / "out" / f"{a}_{j}"))])  # fmt: skip
    after = results(shared, tmp / "shared" / "out")
    for name, frame in before.items():
        assert after[name].equals(frame), name
    with store_of(shared) as store:
        assert store.verify().ok
        with store.reading() as conn:
            events_after = conn.execute(sa.text("SELECT count(*) FROM case_events")).scalar_one()
    assert events_after == events_before  # a re-match of the same data records nothing new
    print(f"\nexit codes of the re-run with a worker killed: {codes}")
