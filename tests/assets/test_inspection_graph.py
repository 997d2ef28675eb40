"""One partition through all six assets on a real (temporary) Dagster instance."""

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.definitions import defs
from assets.jobs import PHASE1, PHASE2, phase1_run_config, phase2_run_config
from assets.partitions import PartitionScope
from demo.simulator import answer_files
from pipelines.home import HomeLayout
from schemas.match_result import F4_COLUMNS

AGENCY, JIMU, ROUND = "392014", "kaigo_hoken", "2026"
SCOPE = PartitionScope(AGENCY, JIMU)


def run(instance, job: str, config: dict) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(job).execute_in_process(
        run_config=config, instance=instance, partition_key=SCOPE.key, raise_on_error=False
    )


def requested_and_answered(instance, tmp_path: Path, small_data) -> tuple[HomeLayout, list[Path]]:
    """Phase 1 run, and 住基ネット's answers to its F2 written (the F3 files)."""
    f1 = small_data.write_extract(tmp_path / "f1.csv")
    assert run(instance, PHASE1, phase1_run_config(str(f1), round_id=ROUND)).success
    layout = HomeLayout(Path(instance.root_directory))
    answers = answer_files(
        sorted(layout.request_dir(AGENCY, JIMU, ROUND).glob("request_*.csv")),
        small_data.registry,
        tmp_path / "f3",
    )
    return layout, answers


def test_both_phases_materialize_every_stage(instance, tmp_path: Path, small_data) -> None:
    f1 = small_data.write_extract(tmp_path / "f1.csv")
    first = run(instance, PHASE1, phase1_run_config(str(f1), round_id=ROUND))
    assert first.success
    mats = {e.asset_key.to_user_string() for e in first.get_asset_materialization_events()}
    assert mats == {"extract", "inquiry_request"}
    assert all(c.passed for c in first.get_asset_check_evaluations())

    layout = HomeLayout(Path(instance.root_directory))
    request_dir = layout.request_dir(AGENCY, JIMU, ROUND)
    answers = answer_files(sorted(request_dir.glob("request_*.csv")), small_data.registry, tmp_path / "f3")
    second = run(instance, PHASE2, phase2_run_config(str(answers[0].parent)))
    assert second.success
    mats = {e.asset_key.to_user_string() for e in second.get_asset_materialization_events()}
    assert mats == {"inquiry_result", "match_result", "mismatch_review", "periodic_report"}
    checks = second.get_asset_check_evaluations()
    assert {c.asset_key.to_user_string() for c in checks} == {
        "inquiry_result",
        "match_result",
        "mismatch_review",
    }
    assert all(c.passed for c in checks)

    # the F4 file is exactly the contract's columns, cp932
    f4 = pl.read_csv(
        layout.result_dir(AGENCY, JIMU, ROUND) / "照合結果.csv", encoding="cp932", infer_schema=False
    )
    assert f4.columns == [name for name, _ in F4_COLUMNS]
    assert (layout.result_dir(AGENCY, JIMU, ROUND) / "確認作業リスト.xlsx").exists()

    # counts reconcile: rows = 対象外 + 要修正 + 点検対象, 点検対象 = A + B + C + 未照会
    fig = second.output_for_node("periodic_report").row(0, named=True)
    assert fig["rows_read"] == small_data.extract.height
    assert fig["rows_read"] == fig["out_of_scope"] + fig["needs_fix"] + fig["in_scope"]
    assert fig["in_scope"] == fig["grade_a"] + fig["grade_b"] + fig["grade_c"] + fig["not_inquired"]
    assert fig["not_inquired"] == 0
    assert f4.height == fig["in_scope"]
    assert f4["宛名番号"].is_unique().all()


def test_broken_result_file_stops_the_graph(instance, tmp_path: Path, small_data) -> None:
    layout, answers = requested_and_answered(instance, tmp_path, small_data)
    lines = answers[0].read_bytes().split(b"\r\n")
    answers[0].write_bytes(b"\r\n".join(lines[:1] + lines[2:]))  # one 照会番号 missing
    second = run(instance, PHASE2, phase2_run_config(str(answers[0].parent)))
    assert not second.success
    failure = next(e for e in second.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert failure.step_key == "inquiry_result"
    assert "INQUIRY_NO_MISSING" in failure.step_failure_data.user_failure_data.description
    assert second.get_asset_materialization_events() == []
    assert not (layout.store / "match_result").exists()
    assert (layout.errors_dir(AGENCY, JIMU, ROUND) / "照会結果_誤り一覧.csv").exists()


def test_phase2_before_phase1_says_what_to_do(instance, tmp_path: Path) -> None:
    (tmp_path / "f3").mkdir()
    result = run(instance, PHASE2, phase2_run_config(str(tmp_path / "f3")))
    assert not result.success


def test_definitions_load_with_both_jobs_and_the_sensor() -> None:
    assert {j.name for j in defs.resolve_all_job_defs()} >= {PHASE1, PHASE2}
    assert defs.resolve_sensor_def("inbox_sensor") is not None
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {
        "extract",
        "inquiry_request",
        "inquiry_result",
        "match_result",
        "mismatch_review",
        "periodic_report",
        "monthly_report",
        "recheck_calendar",
    }
    assert defs.resolve_schedule_def("monthly_report_schedule") is not None
    assert defs.resolve_sensor_def("recheck_starter") is not None


def test_a_failure_storing_the_last_slice_leaves_no_f4(
    instance, tmp_path: Path, small_data, monkeypatch: pytest.MonkeyPatch
) -> None:
    """照合's slices are stored on a second thread while F4 is written from them: when storing
    the last one fails, the run fails and no F4 (it holds 個人番号) is left in the results."""
    import assets.stages.match_result as match_asset

    layout, answers = requested_and_answered(instance, tmp_path, small_data)

    def disk_full(path: Path, frame: pl.DataFrame) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(match_asset, "write_private_parquet", disk_full)
    second = run(instance, PHASE2, phase2_run_config(str(answers[0].parent)))
    assert not second.success
    failure = next(e for e in second.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE)
    assert failure.step_key == "match_result"
    results = layout.result_dir(AGENCY, JIMU, ROUND)
    assert not (results / "照合結果.csv").exists()
    assert [p for p in results.rglob("*") if "照合結果" in p.name] == []
    assert not list(layout.store.glob(".match_result-*"))
