"""The calendar's automation: the recheck starter begins phase 1 of a planned partition that
is due, once per round, and the monthly schedule asks for the month just closed."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import dagster as dg
import polars as pl
import yaml

from assets.jobs import PHASE1
from assets.reporting.monthly_report import monthly_report_schedule
from assets.reporting.recheck_calendar import recheck_starter
from assets.resources import tenken_resources
from pipelines.agencies import default_round
from pipelines.cases.rounds import PHASE_MATCHED, record_round
from pipelines.cases.store import CaseStore
from pipelines.clock import JST, now
from pipelines.reporting.calendar import starts_for
from schemas.config import parse_settings

AGENCY = "392014"


def evaluate(home: Path) -> dg.SensorResult:
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        with dg.build_sensor_context(instance=instance, resources=tenken_resources(str(home))) as ctx:
            result = recheck_starter(ctx)
        assert isinstance(result, dg.SensorResult)
        return result


def plan(home: Path, entries: list[dict]) -> None:
    (home / "tenken.yaml").write_text(yaml.safe_dump({"recheck": {"plan": entries}}), encoding="utf-8")


def test_a_due_planned_partition_starts_phase1_once_its_extract_is_there(tmp_path: Path) -> None:
    extract = tmp_path / "drop" / "f1.csv"
    plan(
        tmp_path,
        [
            {"agency": AGENCY, "jimu": "kaigo_hoken", "extract_file": str(extract)},
            {"agency": AGENCY, "jimu": "jido_teate"},  # no drop: shown on the calendar only
        ],
    )
    assert evaluate(tmp_path).run_requests == []  # never run, but its extract is not there yet

    extract.parent.mkdir()
    extract.write_text("x", encoding="utf-8")
    result = evaluate(tmp_path)
    [request] = result.run_requests
    round_id = default_round(now().date())
    assert request.job_name == PHASE1
    assert request.partition_key == f"{AGENCY}|kaigo_hoken"
    assert request.run_key.startswith(f"recheck-{AGENCY}-kaigo_hoken-{round_id}-")
    # the same file never starts twice; a corrected one does
    assert evaluate(tmp_path).run_requests[0].run_key == request.run_key
    extract.write_text("corrected", encoding="utf-8")
    assert evaluate(tmp_path).run_requests[0].run_key != request.run_key
    assert request.run_config["ops"]["extract"]["config"] == {
        "extract_file": str(extract),
        "atena_file": "",
        "round_id": round_id,
    }
    assert {(r.partitions_def_name, tuple(r.partition_keys)) for r in result.dynamic_partitions_requests} == {
        ("inspection", (f"{AGENCY}|kaigo_hoken",)),
    }


def test_a_partition_within_its_interval_is_not_started(tmp_path: Path) -> None:
    extract = tmp_path / "f1.csv"
    extract.write_text("x", encoding="utf-8")
    plan(tmp_path, [{"agency": AGENCY, "jimu": "kaigo_hoken", "extract_file": str(extract)}])
    with CaseStore.open(f"sqlite:///{tmp_path / 'data' / 'cases.sqlite'}") as store, store.writing() as conn:
        figures = {"agency": AGENCY, "jimu": "kaigo_hoken", "round_id": "2025"}
        figures |= dict.fromkeys(("rows_read", "in_scope", "grade_a"), 5)
        figures |= dict.fromkeys(("out_of_scope", "needs_fix", "grade_b", "grade_c", "not_inquired"), 0)
        record_round(conn, figures, phase=PHASE_MATCHED)
    assert evaluate(tmp_path).run_requests == []


def test_no_plan_with_a_drop_skips_quietly(tmp_path: Path) -> None:
    result = evaluate(tmp_path)
    assert result.run_requests == []
    assert result.skip_reason is not None and "extract_file" in result.skip_reason.skip_message


def test_the_monthly_schedule_reports_the_month_just_closed() -> None:
    ctx = dg.build_schedule_context(scheduled_execution_time=datetime(2027, 1, 1, 6, 0, tzinfo=JST))
    request = monthly_report_schedule(ctx)
    assert isinstance(request, dg.RunRequest)
    assert request.partition_key == "2026-12-01"


def rounds_frame(*rows: tuple[str, str, str, int]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"agency": a, "jimu": j, "round_id": r, "phase": ph} for a, j, r, ph in rows],
        schema={"agency": pl.String, "jimu": pl.String, "round_id": pl.String, "phase": pl.Int64},
    )


def test_due_starts_pick_the_round_and_leave_begun_ones_alone() -> None:
    settings = parse_settings(
        {
            "recheck": {
                "plan": [
                    {"agency": AGENCY, "jimu": "kaigo_hoken", "extract_file": "/drop/k.csv"},
                    {
                        "agency": AGENCY,
                        "jimu": "jido_teate",
                        "extract_file": "/drop/j.csv",
                        "interval_months": 6,
                    },
                    {"agency": AGENCY, "jimu": "nanbyo", "extract_file": "/drop/n.csv"},
                    {"agency": AGENCY, "jimu": "shogaisha_techo"},  # no drop: never started
                ]
            }
        }
    )
    due = pl.DataFrame(
        {"agency": [AGENCY] * 4, "jimu": ["kaigo_hoken", "jido_teate", "nanbyo", "shogaisha_techo"]}
    )
    rounds = rounds_frame(
        (AGENCY, "kaigo_hoken", "2025", 2),  # overdue from last 年度: starts 2026
        (AGENCY, "jido_teate", "2026-05", 2),  # 6-monthly: named by month, starts 2026-11
        (AGENCY, "nanbyo", "2025", 2),
        (AGENCY, "nanbyo", "2026", 1),  # 2026 already requested by hand: left alone
    )
    starts = starts_for(settings, due, rounds, today=date(2026, 11, 23))
    assert [(s.jimu, s.round_id, s.extract_file) for s in starts] == [
        ("kaigo_hoken", "2026", "/drop/k.csv"),
        ("jido_teate", "2026-11", "/drop/j.csv"),
    ]
    # not due: nothing starts, whatever the plan says
    assert starts_for(settings, due.clear(), rounds, today=date(2026, 11, 23)) == []
