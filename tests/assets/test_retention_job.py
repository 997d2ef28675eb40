"""The retention job: the same purge as `tenken purge`, run by Dagster; its schedule starts off."""

from pathlib import Path

import dagster as dg
import yaml

from assets.definitions import defs
from assets.jobs import PHASE1, PHASE2, phase1_run_config, phase2_run_config
from assets.partitions import PartitionScope, register
from pipelines.home import HomeLayout
from pipelines.ops import retention
from tests.fixtures.bad_input import corpus

AGENCY, JIMU, ROUND = "392014", "kaigo_hoken", "2026"
SCOPE = PartitionScope(AGENCY, JIMU)


def test_retention_job_purges_a_closed_round(tmp_path: Path) -> None:
    """Every record A: no case opens, so the round closes when 照合 completes."""
    home = tmp_path / "home"
    home.mkdir()
    chosen = {"retention": {"days_after_close": 0}, "evidence": {"enabled": False}}
    (home / "tenken.yaml").write_text(yaml.safe_dump(chosen), encoding="utf-8")
    layout = HomeLayout(home)
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        register(instance, PartitionScope(AGENCY, JIMU))
        f1 = corpus.HERE / "good_extract.csv"
        run = defs.resolve_job_def(PHASE1).execute_in_process(
            run_config=phase1_run_config(str(f1), round_id=ROUND), instance=instance, partition_key=SCOPE.key
        )
        assert run.success
        request_dir = layout.request_dir(AGENCY, JIMU, ROUND)
        f3 = corpus.HERE / "good_result.csv"
        run = defs.resolve_job_def(PHASE2).execute_in_process(
            run_config=phase2_run_config(str(f3)), instance=instance, partition_key=SCOPE.key
        )
        assert run.success
        f2_files = sorted(request_dir.glob("request_*.csv"))
        assert f2_files

        purge = defs.resolve_job_def("retention_job").execute_in_process(instance=instance)
        assert purge.success

    assert not any(f.exists() for f in f2_files)
    assert not (layout.result_dir(AGENCY, JIMU, ROUND) / "照合結果.csv").exists()
    assert (request_dir / "manifest.json").exists()
    record = retention.read_record(layout)
    assert set(record["方法"]) == {"Dagster retention_job"}
    assert {f.name for f in f2_files} <= {Path(f).name for f in record["ファイル"]}


def test_retention_schedule_is_off_until_someone_turns_it_on() -> None:
    schedule = defs.resolve_schedule_def("retention_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert schedule.execution_timezone == "Asia/Tokyo"


def test_a_round_replaced_before_its_matching_is_purged_from_the_instance_record(tmp_path: Path) -> None:
    """Phase 1 of 2026, never matched; then phase 1 of 2027. The instance says 2026 was
    superseded, so its F2 files go (days_after_close 0); 2027 waits for its answers."""
    home = tmp_path / "home"
    home.mkdir()
    chosen = {"retention": {"days_after_close": 0}, "evidence": {"enabled": False}}
    (home / "tenken.yaml").write_text(yaml.safe_dump(chosen), encoding="utf-8")
    layout = HomeLayout(home)
    f1 = corpus.HERE / "good_extract.csv"
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        register(instance, PartitionScope(AGENCY, JIMU))
        for round_id in ("2026", "2027"):
            run = defs.resolve_job_def(PHASE1).execute_in_process(
                run_config=phase1_run_config(str(f1), round_id=round_id),
                instance=instance,
                partition_key=SCOPE.key,
            )
            assert run.success
        old = sorted(layout.request_dir(AGENCY, JIMU, "2026").glob("request_*.csv"))
        new = sorted(layout.request_dir(AGENCY, JIMU, "2027").glob("request_*.csv"))
        assert old and new
        purge = defs.resolve_job_def("retention_job").execute_in_process(instance=instance)
        assert purge.success

    assert not any(f.exists() for f in old)
    assert all(f.exists() for f in new)  # still waiting for 住基ネット's answer
    record = retention.read_record(layout)
    assert set(record["点検回"]) == {"2026"}
