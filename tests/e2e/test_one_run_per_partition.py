"""One run per agency × 事務 partition, however runs start (issue 11 class 10, issue 16 item 4).

Dagster's per-partition limit in dagster.yaml only holds back queued runs; CLI runs execute in
their own process. These tests start runs the ways users do — the CLI, several CLIs at once,
and a job executed directly in the instance as a sensor, the UI or a worker would — and check
that a second run of a partition never works beside the first.
"""

import itertools
import subprocess
import sys
import uuid
from pathlib import Path

import dagster as dg
import pytest

from assets.definitions import defs
from assets.instance import open_instance
from assets.jobs import PHASE1, phase1_run_config
from assets.partitions import PartitionScope, register
from demo.generator import generate
from pipelines.cases.store import CaseStore
from pipelines.ops import partition_lease
from schemas.config import load_settings

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
SCOPE = PartitionScope("392014", "kaigo_hoken")


def request_args(home: Path, f1: Path, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "tenken", "request", "--home", str(home),
        "--agency", SCOPE.agency, "--jimu", SCOPE.jimu, "--extract", str(f1),
        "--round", "2026", "--out", str(out),
    ]  # fmt: skip


def store_of(home: Path) -> CaseStore:
    return CaseStore.for_settings(load_settings(home / "tenken.yaml").cases, home)


@pytest.fixture()
def setup(tmp_path: Path):
    home = tmp_path / "home"
    f1 = generate(400, agency=SCOPE.agency, jimu=SCOPE.jimu, seed=11).write_extract(tmp_path / "f1.csv")
    # a first run creates the home, its instance and its case store
    first = subprocess.run(
        request_args(home, f1, tmp_path / "first"), cwd=ROOT, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr
    return home, f1, tmp_path


def live_run_holding_the_partition(home: Path) -> tuple[dg.DagsterInstance, dg.DagsterRun]:
    """A run in progress (as if started by the UI or a worker) that holds SCOPE's lease."""
    instance = open_instance(home)
    run = instance.add_run(
        dg.DagsterRun(
            job_name=PHASE1,
            run_id=str(uuid.uuid4()),
            status=dg.DagsterRunStatus.STARTED,
            tags={"dagster/partition": SCOPE.key},
        )
    )
    with store_of(home) as store:
        partition_lease.take(
            store, SCOPE.key, run.run_id, is_active=lambda _r: True, holder="other-pc pid 4242"
        )
    return instance, run


def partition_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    return list(instance.get_runs(filters=dg.RunsFilter(tags={"dagster/partition": SCOPE.key})))


def test_the_cli_refuses_a_partition_another_run_holds_then_runs_once_it_is_over(setup) -> None:
    home, f1, tmp = setup
    instance, run = live_run_holding_the_partition(home)
    before = len(partition_runs(instance))
    out = tmp / "second"
    busy = subprocess.run(request_args(home, f1, out), cwd=ROOT, capture_output=True, text=True)
    assert busy.returncode == 3, busy.stderr
    assert (
        "[PARTITION_BUSY]" in busy.stderr
        and run.run_id[:8] in busy.stderr
        and "other-pc pid 4242" in busy.stderr
    )
    assert "Traceback" not in busy.stderr
    # refused before launching: no run recorded, nothing written
    assert len(partition_runs(instance)) == before
    assert not list(out.glob("request_*.csv"))

    instance.report_run_failed(run, message="テスト: 停止")
    again = subprocess.run(request_args(home, f1, out), cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert list(out.glob("request_*.csv"))
    with store_of(home) as store:  # the CLI gave its lease back when its run ended
        assert partition_lease.holder_of(store, SCOPE.key) is None
    instance.dispose()


def test_a_run_started_outside_the_cli_stops_at_its_first_step(setup) -> None:
    """A sensor, the UI or a Celery worker executes the job's steps: the lease stops them too."""
    home, f1, tmp = setup
    instance, holder = live_run_holding_the_partition(home)
    register(instance, SCOPE)
    before = instance.get_latest_materialization_event(dg.AssetKey("extract")).run_id
    result = defs.resolve_job_def(PHASE1).execute_in_process(
        run_config=phase1_run_config(str(f1), round_id="2026", out_dir=str(tmp / "ui")),
        instance=instance,
        partition_key=SCOPE.key,
        raise_on_error=False,
    )
    assert not result.success
    failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert [e.step_key for e in failures] == ["extract"]
    description = failures[0].step_failure_data.user_failure_data.description
    assert "[PARTITION_BUSY]" in description and holder.run_id[:8] in description
    # nothing new stored: the latest 抽出 is still the setup run's
    assert instance.get_latest_materialization_event(dg.AssetKey("extract")).run_id == before
    assert not (tmp / "ui").exists() or not list((tmp / "ui").glob("request_*.csv"))
    with store_of(home) as store:
        assert partition_lease.holder_of(store, SCOPE.key).run_id == holder.run_id
    instance.dispose()


def test_simultaneous_cli_starts_on_one_partition_never_overlap(setup) -> None:
    """Three `tenken request` of one partition started at once into the same folder: each
    ends 0 or 3 (never an internal error), at least one succeeds, and the runs that did their
    work never overlapped in time."""
    home, f1, tmp = setup
    out = tmp / "shared_out"
    procs = [
        subprocess.Popen(
            request_args(home, f1, out), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    outcomes = [(p.wait(timeout=600), p.stderr.read() if p.stderr else "") for p in procs]
    codes = sorted(code for code, _ in outcomes)
    assert set(codes) <= {0, 3}, outcomes
    assert 0 in codes
    for code, stderr in outcomes:
        if code == 3:
            assert "[PARTITION_BUSY]" in stderr and "Traceback" not in stderr
    instance = open_instance(home)
    records = instance.get_run_records(filters=dg.RunsFilter(tags={"dagster/partition": SCOPE.key}))
    done = sorted(
        (r.start_time, r.end_time)
        for r in records
        if r.dagster_run.status == dg.DagsterRunStatus.SUCCESS and r.start_time and r.end_time
    )
    assert len(done) >= 1 + codes.count(0)  # the setup's run and every one that exited 0
    for (_, end), (start, _) in itertools.pairwise(done):
        assert start >= end, "two successful runs of one partition overlapped"
    assert list(out.glob("request_*.csv"))
    with store_of(home) as store:
        assert partition_lease.holder_of(store, SCOPE.key) is None
    instance.dispose()
