"""`tenken ui --read-only`: Dagster's own read-only webserver, the auditors' way in.

A real webserver is started on a free port against a home with a partition, and asked over
GraphQL (as the browser asks it) what the viewer may do: nothing may be launched, re-executed
or turned on/off, a launch is refused, the new-user pop-up is off, and it listens on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from assets.instance import ensure_home
from assets.partitions import PartitionScope, register
from tenken.cli import ui_command
from tests.e2e.test_ui_local_only import LOOPBACK, ROOT, free_port, listening, session_pids

pytestmark = pytest.mark.slow

#: what an auditor must not be able to do (Dagster's permission names)
WRITE_PERMISSIONS = {
    "launch_pipeline_execution",
    "launch_pipeline_reexecution",
    "start_schedule",
    "stop_running_schedule",
    "edit_sensor",
    "terminate_pipeline_execution",
    "launch_partition_backfill",
    "wipe_assets",
}


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def start_ui(home: Path, port: int, log: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tenken", "ui", "--home", str(home), "--port", str(port), *extra],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def stop(ui: subprocess.Popen) -> None:
    os.killpg(ui.pid, signal.SIGTERM)
    try:
        ui.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(ui.pid, signal.SIGKILL)
        ui.wait()


def wait_until_served(ui: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 150  # a wait for start-up, not a timing assertion
    while time.monotonic() < deadline and ui.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                pass
            data = graphql(port, "{ repositoriesOrError { __typename } }")
            if (
                data.get("data", {}).get("repositoriesOrError", {}).get("__typename")
                == "RepositoryConnection"
            ):
                return
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(log.read_text(errors="replace")[-3000:])


@pytest.fixture(scope="module")
def read_only_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, subprocess.Popen]]:
    tmp = tmp_path_factory.mktemp("ro")
    home = ensure_home(tmp / "home")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        register(instance, PartitionScope("392014", "kaigo_hoken"))
    port = free_port()
    ui = start_ui(home, port, tmp / "ui.log", "--read-only")
    try:
        wait_until_served(ui, port, tmp / "ui.log")
        yield port, ui
    finally:
        stop(ui)


def test_the_read_only_command_is_the_webserver_in_read_only_mode() -> None:
    args = ui_command(host="127.0.0.1", port=3001, read_only=True)
    assert args[-1] == "--read-only" and "dev" not in args  # no daemon: nothing starts work
    assert args[args.index("-h") + 1] == "127.0.0.1"
    assert "--read-only" not in ui_command(host="127.0.0.1", port=3001, read_only=False)


def test_a_new_home_has_the_new_user_pop_up_off(tmp_path: Path) -> None:
    with dg.DagsterInstance.from_config(str(ensure_home(tmp_path / "home"))) as instance:
        assert instance.nux_enabled is False


def test_an_auditor_may_look_but_not_launch(read_only_ui: tuple[int, subprocess.Popen]) -> None:
    port, ui = read_only_ui
    data = graphql(port, "{ permissions { permission value } shouldShowNux }")["data"]
    granted = {p["permission"]: p["value"] for p in data["permissions"]}
    assert set(granted) >= WRITE_PERMISSIONS
    assert not any(granted[p] for p in WRITE_PERMISSIONS), granted
    assert data["shouldShowNux"] is False
    # the stages and the partition are there to read
    nodes = graphql(port, "{ assetNodes { assetKey { path } } }")["data"]["assetNodes"]
    assert {"extract", "match_result", "periodic_report"} <= {n["assetKey"]["path"][-1] for n in nodes}
    # a launch sent by hand is refused
    refused = graphql(
        port,
        """mutation($p: ExecutionParams!) { launchPipelineExecution(executionParams: $p) { __typename } }""",
        {
            "p": {
                "selector": {
                    "repositoryLocationName": "assets.definitions",
                    "repositoryName": "__repository__",
                    "jobName": "recheck_calendar_job",
                },
                "mode": "default",
            }
        },
    )
    assert refused["data"]["launchPipelineExecution"]["__typename"] == "UnauthorizedError", refused
    sockets = listening(session_pids(ui.pid))
    assert sockets and all(address in LOOPBACK for address, _ in sockets), sockets
