"""Run the phases of a round in the tenken home's Dagster instance, as the UI would.

The CLI, the demo and the end-to-end tests all go through here, so every run is recorded
in the same instance that ``tenken ui`` shows (auditors see every run, whoever started it).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from assets.definitions import defs
from assets.instance import open_instance
from assets.jobs import (
    CASES_IMPORT,
    PHASE1,
    PHASE2,
    import_run_config,
    on_instance,
    phase1_run_config,
    phase2_run_config,
)
from assets.lease import run_is_active
from assets.metadata import metadata_values
from assets.partitions import PartitionScope, register
from assets.reporting.monthly_report import monthly_report_job
from assets.reporting.recheck_calendar import recheck_calendar_job
from pipelines import agencies
from pipelines.cases.store import CaseStore
from pipelines.errors import TenkenInputError
from pipelines.ops import evidence, partition_lease
from pipelines.ops.partition_lease import PartitionBusy
from pipelines.reporting import monthly
from pipelines.system import process_alive
from schemas.config import InstanceSettings, TenkenSettings, load_settings
from tenken import preflight
from tenken.terminal import RunLog, log_file

MONTHLY_REPORT_JOB = monthly_report_job.name
RECHECK_CALENDAR_JOB = recheck_calendar_job.name


class RunFailed(Exception):
    """A run did not succeed. ``input_error`` tells bad input (exit 2) from a fault (exit 1);
    ``busy``, that another run holds the partition (exit 3).

    ``run_id`` is None when no run was launched (an argument refused before it started);
    ``log`` is the home's log file holding the run's details (masked), when there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        input_error: bool,
        run_id: str | None = None,
        log: Path | None = None,
        busy: bool = False,
    ):
        super().__init__(message)
        self.input_error = input_error
        #: another run holds the partition (exit 3: nothing was done; try again later)
        self.busy = busy
        self.run_id = run_id
        self.log = log


#: who else hears every event of the runs this process starts (the terminal's progress lines)
LISTENERS: list[Callable[[str, Any], None]] = []

#: the tag and the metadata of a refusal recorded in the instance (no run was launched)
REFUSED = "tenken/refused"


@dataclass
class RunOutcome:
    run_id: str
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)  # asset → metadata
    checks: dict[str, bool] = field(default_factory=dict)  # asset check → passed
    result: dg.ExecutionResult | None = None


@dataclass(frozen=True)
class Home:
    path: Path

    def settings(self) -> TenkenSettings:
        return load_settings(self.path / "tenken.yaml")

    def instance(self) -> dg.DagsterInstance:
        return open_instance(self.path)


def _refused(home: Home, asset: str, error: TenkenInputError, where: str) -> RunFailed:
    """Record a refusal before launch in the home's instance, when it has one; the RunFailed to raise.

    No run is launched, so no stage or check turns red; an AssetObservation of ``asset`` (not a
    materialization: nothing was stored) tells auditors what was refused, when and why.
    """
    if (home.path / "dagster.yaml").is_file():
        instance = home.instance()
        try:
            instance.report_runless_asset_event(
                dg.AssetObservation(
                    asset_key=asset,
                    metadata={
                        REFUSED: ",".join(sorted(error.codes)),
                        "拒否の理由": str(error),
                        "区分": where,
                    },
                    tags={REFUSED: "true"},
                )
            )
        finally:
            instance.dispose()
    return RunFailed(str(error), input_error=True)


def _checked_home(home: Home, *, must_exist: bool = False) -> None:
    try:
        preflight.home_folder(home.path, must_exist=must_exist)
    except TenkenInputError as e:
        raise RunFailed(str(e), input_error=True) from None


def _quiet_dagster() -> None:
    """Dagster's step-by-step console log is for the UI; the CLI prints its own summary."""
    for name in ("dagster", "dagster.builtin", "dagster.code_server"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _scope(home: Home, agency: str, jimu: str) -> PartitionScope:
    settings = home.settings()
    agencies.agency(agency, settings)
    agencies.jimu(jimu, settings)
    return PartitionScope(agency, jimu)


def _execute(
    home: Home,
    job_name: str,
    scope: PartitionScope | str | None,
    run_config: dict,
    tags: dict[str, str],
    out_dir: Path | None = None,
) -> RunOutcome:
    """Run ``job_name`` for a partition (agency × 事務, a month, or none) in the home's instance."""
    _quiet_dagster()
    settings = home.settings()  # read once per run: the lease, the executor and the evidence use it
    if job_name in (PHASE1, PHASE2) and settings.evidence.enabled:
        # Great Expectations loads in a child while the stages run (one child per process,
        # reused by later phases, stopped at exit)
        evidence.prewarm()
    instance = home.instance()
    if isinstance(scope, PartitionScope):
        register(instance, scope)
    close_abandoned_runs(instance)
    if isinstance(scope, PartitionScope):
        _refuse_if_busy(home, settings, instance, scope)
    job = defs.resolve_job_def(job_name)
    # the step-by-step log goes to the instance (the UI) and, masked, to the home's log file;
    # the terminal gets none of Dagster's lines (no ERROR lines, no "Stack Trace:" blocks)
    quiet = {**run_config, "loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    run_id = str(uuid.uuid4())
    log = RunLog(home.path)
    listeners: list[Callable[[str, Any], None]] = [log, *LISTENERS]

    def hear(entry: Any) -> None:
        for listener in listeners:
            listener(run_id, entry)

    instance.add_event_listener(run_id, hear)
    partition_key = scope.key if isinstance(scope, PartitionScope) else scope
    all_tags = {"tenken/source": "cli", **_process_tags(), **tags}
    try:
        if settings.instance.executor == "celery" and isinstance(scope, PartitionScope):
            result = _execute_on_workers(
                instance, job_name, quiet, partition_key, all_tags, settings.instance
            )
            run_id = result.run_id
            for entry in instance.all_logs(run_id):  # the run's events, once it has ended
                hear(entry)
        else:
            result = job.execute_in_process(
                run_config=quiet,
                instance=instance,
                partition_key=partition_key,
                raise_on_error=False,
                run_id=run_id,
                tags=all_tags,
            )
    finally:
        # a lease left behind is harmless (its run is over), so a failure here must not hide
        # the run's own outcome
        if isinstance(scope, PartitionScope):
            with contextlib.suppress(Exception), _case_store(home, settings) as store:
                partition_lease.release(store, scope.key, run_id)
    if not result.success:
        failed = _failure(result, out_dir)
        failed.log = log_file(home.path)
        raise failed
    outcome = RunOutcome(run_id=result.run_id)
    for event in result.get_asset_materialization_events():
        mat = event.step_materialization_data.materialization
        outcome.metadata[mat.asset_key.to_user_string()] = metadata_values(mat)
    for evaluation in result.get_asset_check_evaluations():
        outcome.checks[evaluation.check_name] = evaluation.passed
    outcome.result = result
    return outcome


def _case_store(home: Home, settings: TenkenSettings) -> CaseStore:
    return CaseStore.for_settings(settings.cases, home.path)


def _refuse_if_busy(
    home: Home, settings: TenkenSettings, instance: dg.DagsterInstance, scope: PartitionScope
) -> None:
    """Refuse before launching when a live run holds the partition (no run is recorded).

    Two starts at the same moment may both pass this; the lease each run's first step takes
    (assets/lease.py) then lets only one of them go on.
    """
    with _case_store(home, settings) as store:
        lease = partition_lease.holder_of(store, scope.key)
    if lease is not None and run_is_active(instance, lease.run_id):
        raise RunFailed(str(PartitionBusy(lease)), input_error=False, busy=True)


def _execute_on_workers(
    instance: dg.DagsterInstance,
    job_name: str,
    run_config: dict,
    partition_key: str | None,
    tags: dict[str, str],
    settings: InstanceSettings,
) -> dg.ExecutionResult:
    """Run ``job_name`` with its steps on the Celery workers of a shared deployment.

    This process orchestrates (it waits for each step's result from the broker); the workers
    execute the steps against the same instance and storage. Dagster creates the run id here,
    so the run's events reach the terminal and the log file once it has ended (the caller).
    """
    from dagster._core.definitions.reconstruct import ReconstructableRepository

    recon = ReconstructableRepository.for_module("assets.shared_definitions", "defs")
    result = dg.execute_job(
        recon.get_reconstructable_job(job_name),
        instance=instance,
        run_config=on_instance(run_config, settings),
        tags={**tags, **({"dagster/partition": partition_key} if partition_key else {})},
        raise_on_error=False,
    )
    return result


PID_TAG, HOST_TAG = "tenken/pid", "tenken/host"
ABANDONED = (
    "実行中のプロセスが途中で終了しました（強制終了・停電など）。"
    "同じ区分をもう一度実行すると、最初から作り直して同じ結果になります"
)


def _process_tags() -> dict[str, str]:
    """Which process runs this in-process run, so a later run can tell it died."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def close_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the in-process runs of this machine whose process is gone.

    A run whose process was killed stays "started" for ever; under ``tenken ui`` it would
    also hold its partition's concurrency slot, so no run of that partition could start.
    """
    started = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING],
            tags={HOST_TAG: socket.gethostname()},
        )
    )
    closed = []
    for run in started:
        pid = run.tags.get(PID_TAG, "")
        if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            instance.report_run_failed(run, message=ABANDONED)
            closed.append(run.run_id)
    return closed


def _failure(result: dg.ExecutionResult, out_dir: Path | None = None) -> RunFailed:
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            data = event.step_failure_data
            user = data.user_failure_data if data else None
            if user is not None and user.description:
                busy = f"[{partition_lease.CODE}]" in user.description
                return RunFailed(user.description, input_error=not busy, busy=busy, run_id=result.run_id)
            error = data.error if data else None
            chain = []
            while error is not None:
                chain.append(error.message.strip())
                error = error.cause
            missing = next((m for m in chain if "[REQUEST_MISSING]" in m), None)
            if missing:
                return RunFailed(missing.split(": ", 1)[-1], input_error=True, run_id=result.run_id)
            disk = _disk_error(data.error if data else None, out_dir)
            if disk is not None:
                return RunFailed(str(disk), input_error=True, run_id=result.run_id)
            message = chain[-1] if chain else "不明なエラー"
            return RunFailed(
                f"処理に失敗しました: {message} [INTERNAL_ERROR]", input_error=False, run_id=result.run_id
            )
    for check in result.get_asset_check_evaluations():
        if not check.passed:
            return RunFailed(
                f"段階の契約チェック {check.asset_key.to_user_string()}:{check.check_name} が失敗しました"
                " [INTERNAL_ERROR]",
                input_error=False,
                run_id=result.run_id,
            )
    return RunFailed("実行が成功しませんでした [INTERNAL_ERROR]", input_error=False, run_id=result.run_id)


_WRITE_ERRNOS = {errno.ENOSPC: "DISK_FULL", errno.EDQUOT: "DISK_FULL", errno.EROFS: "OUT_NOT_WRITABLE"}


def _disk_error(error: Any, out_dir: Path | None) -> TenkenInputError | None:
    """A full or read-only file system met while writing, as a refusal naming the folder."""
    while error is not None:
        found = re.search(r"\[Errno (\d+)\]", error.message)
        if found and int(found.group(1)) in _WRITE_ERRNOS:
            named = re.search(r"\]: '([^']+)'", error.message)
            folder = out_dir or (Path(named.group(1)).parent if named else None)
            return preflight.refuse(_WRITE_ERRNOS[int(found.group(1))], folder)
        error = error.cause
    return None


def request(
    home: Home,
    *,
    agency: str,
    jimu: str,
    extract_file: Path,
    atena_file: Path | None = None,
    round_id: str = "",
    out_dir: Path | None = None,
) -> RunOutcome:
    """Phase 1: 抽出 → 住基照会要求. Writes F2 files and the manifest into ``out_dir``."""
    _checked_home(home)
    try:
        scope = _scope(home, agency, jimu)
        if round_id:
            agencies.check_round(round_id)
    except TenkenInputError as e:
        raise RunFailed(str(e), input_error=True) from None
    try:
        preflight.input_file(extract_file)
        if atena_file is not None:
            preflight.input_file(atena_file)
        if out_dir is not None:
            preflight.out_folder(out_dir, home=home.path)
    except TenkenInputError as e:
        raise _refused(home, "extract", e, scope.key) from None
    config = phase1_run_config(
        str(extract_file.resolve()),
        str(atena_file.resolve()) if atena_file else "",
        round_id,
        str(out_dir.resolve()) if out_dir else "",
    )
    return _execute(home, PHASE1, scope, config, {"tenken/round": round_id or "default"}, out_dir)


def match(
    home: Home,
    *,
    agency: str,
    jimu: str,
    result_path: Path,
    round_id: str = "",
    out_dir: Path | None = None,
) -> RunOutcome:
    """Phase 2: 照会結果 → 照合 → 不一致確認 → 定期報告. Writes F4 and F5 into ``out_dir``."""
    _checked_home(home)
    try:
        scope = _scope(home, agency, jimu)
    except TenkenInputError as e:
        raise RunFailed(str(e), input_error=True) from None
    try:
        preflight.input_file(result_path, folder_allowed=True)
        if out_dir is not None:
            preflight.out_folder(out_dir, inputs=(result_path,), home=home.path)
    except TenkenInputError as e:
        raise _refused(home, "inquiry_result", e, scope.key) from None
    config = phase2_run_config(
        str(result_path.resolve()), round_id, str(out_dir.resolve()) if out_dir else ""
    )
    return _execute(home, PHASE2, scope, config, {"tenken/round": round_id or "from-request"}, out_dir)


def import_cases(home: Home, *, agency: str, jimu: str, workbook: Path) -> RunOutcome:
    """Apply a returned F5 to the case store (all rows or none) and write F5 again."""
    _checked_home(home)
    try:
        scope = _scope(home, agency, jimu)
    except TenkenInputError as e:
        raise RunFailed(str(e), input_error=True) from None
    try:
        preflight.input_file(workbook)
    except TenkenInputError as e:
        raise _refused(home, "mismatch_review", e, scope.key) from None
    config = import_run_config(str(workbook.resolve()))
    return _execute(home, CASES_IMPORT, scope, config, {})


def report(home: Home, *, month: str, prefecture: str = "", out_dir: Path | None = None) -> RunOutcome:
    """定期報告 of ``month`` (YYYY-MM): materializes ``monthly_report`` for that month."""
    try:
        monthly.month_end(month)
        if prefecture:
            monthly.prefecture_code(prefecture)
    except monthly.ReportRequestError as e:
        raise RunFailed(str(e), input_error=True) from None
    _checked_home(home, must_exist=True)
    try:
        if out_dir is not None:
            preflight.out_folder(out_dir, home=home.path)
    except TenkenInputError as e:
        raise RunFailed(str(e), input_error=True) from None
    config = {
        "ops": {
            "monthly_report": {
                "config": {"out_dir": str(out_dir.resolve()) if out_dir else "", "prefecture": prefecture}
            }
        }
    }
    return _execute(home, MONTHLY_REPORT_JOB, f"{month}-01", config, {"tenken/month": month}, out_dir)


def status(home: Home) -> tuple[RunOutcome, pl.DataFrame]:
    """The recheck calendar, materialized (so the UI's overdue check is as of now) and returned."""
    _checked_home(home, must_exist=True)
    outcome = _execute(home, RECHECK_CALENDAR_JOB, None, {}, {})
    assert outcome.result is not None
    return outcome, outcome.result.output_for_node("recheck_calendar")
