"""The demo as an isolated terminal runs it: no network, files private, no number left outside.

``tenken demo`` runs (small scale) as a real subprocess, inside a network namespace with no
interfaces (``unshare -n``) when this machine allows it — the loopback is down too, so any
attempt to reach anything fails. Afterwards:

* every file under the tenken home is its owner's only (0600 files, 0700 folders) — the
  data folder that holds 個人番号, and Dagster's storage and the evidence beside it;
* no 個人番号 of the demo's inputs is in stdout/stderr or anywhere outside ``data/``
  (event log, run storage, compute logs, Data Docs), and no resident's 氏名, 住所 or 生年月日.
"""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from tests.leaks import Residents, instance_storage, leaked, numbers_in

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCALE = "0.03"


def offline_prefix() -> tuple[list[str], str]:
    """``unshare -n`` if it works here (root or user namespaces), else why not."""
    if shutil.which("unshare") is None:
        return [], "the unshare command is not installed"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return [], f"unshare -n is not permitted here: {probe.stderr.strip()}"
    return ["unshare", "-n"], ""


@dataclass
class Demo:
    home: Path
    run: subprocess.CompletedProcess
    offline: bool
    why_not_offline: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    home = tmp_path_factory.mktemp("demo") / "home"
    prefix, why_not = offline_prefix()
    run = subprocess.run(
        [*prefix, sys.executable, "-m", "tenken", "demo", "--home", str(home), "--scale", SCALE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return Demo(home, run, bool(prefix), why_not)


def test_demo_runs_with_networking_disabled(demo: Demo) -> None:
    if not demo.offline:
        pytest.skip(f"cannot disable networking for a subprocess: {demo.why_not_offline}")
    # the namespace really has no network: not even the PostgreSQL on this machine's loopback
    reach = subprocess.run(
        [
            "unshare",
            "-n",
            sys.executable,
            "-c",
            "import socket; socket.create_connection(('127.0.0.1', 5432), 2)",
        ],
        capture_output=True,
    )
    assert reach.returncode != 0
    assert demo.run.returncode == 0, demo.run.stderr
    assert "4 区分の両段階が終わりました" in demo.run.stdout


def test_the_demo_names_the_next_step_and_exits_quietly(demo: Demo) -> None:
    """Issue 13.5: the F5 workbook and the `tenken cases` commands; no warning at exit."""
    assert demo.run.returncode == 0, demo.run.stderr
    assert demo.run.stdout.count("確認作業リスト.xlsx") >= 4  # one per partition, and the command
    assert "tenken cases import" in demo.run.stdout and "tenken cases status" in demo.run.stdout
    assert "resource_tracker" not in demo.run.stderr and "Traceback" not in demo.run.stderr


def test_everything_in_the_home_is_owner_only(demo: Demo) -> None:
    assert demo.run.returncode == 0, demo.run.stderr
    wrong = []
    for path in [demo.home, *demo.home.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        expected = 0o700 if path.is_dir() else 0o600
        if mode != expected:
            wrong.append(f"{oct(mode)} {path.relative_to(demo.home)}")
    data = [w for w in wrong if w.split(" ", 1)[1].startswith("data")]
    assert data == [], "files holding 個人番号 must be 0600 in 0700 folders"
    assert wrong == []
    assert any((demo.home / "data").rglob("*.parquet"))  # the walk did see the data files


def test_no_number_outside_the_data_folder(demo: Demo) -> None:
    assert demo.run.returncode == 0, demo.run.stderr
    numbers = numbers_in((demo.home / "data" / "demo").rglob("*.csv"))
    assert len(numbers) > 300
    outside = instance_storage(demo.home)
    assert {p.name for p in outside} >= {"history", "storage", "evidence"}  # runs, compute logs, Data Docs
    assert leaked(numbers, [demo.run.stdout, demo.run.stderr], outside) == []


def test_no_resident_row_in_the_instance(demo: Demo) -> None:
    """Metadata shows counts, distributions and the schema: never a preview of residents' rows."""
    people = Residents.of((demo.home / "data" / "demo").rglob("*.csv"))
    assert len(people.names) > 150 and len(people.addresses) > 50
    assert people.found_in([demo.run.stdout, demo.run.stderr], instance_storage(demo.home)) == []
    instance = dg.DagsterInstance.from_config(str(demo.home))
    try:
        records = instance.fetch_materializations(dg.AssetKey("extract"), limit=10).records
        keys = {k for r in records if r.asset_materialization for k in r.asset_materialization.metadata}
    finally:
        instance.dispose()
    assert len(records) == 4 and "preview" not in keys


def test_every_name_the_demo_wrote_is_valid_on_windows(demo: Demo) -> None:
    """Issue 15.5: the home copied to (or made on) a Windows terminal holds only names NTFS takes."""
    from tests.test_portability import windows_name_problem

    names = {p.name for p in demo.home.rglob("*")}
    assert len(names) > 20  # the scan saw the home's files
    assert sorted(p for name in names if (p := windows_name_problem(name))) == []
