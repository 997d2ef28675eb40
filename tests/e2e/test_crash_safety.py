"""Crash safety: a real ``tenken`` process killed with SIGKILL inside every stage of phase 1
and of phase 2, then run again, ends with exactly what an uninterrupted run makes.

``tests/crash_harness.py`` kills the process right before the N-th rename of a private file
(the moment a stage's output, an F2 file, the registry, F4, F5 … becomes real); the kill
points are chosen by the name of that file, one or more inside each of the six stages, and
leave what ``kill -9`` or a power cut leaves:
earlier files in place, a temporary ``.part`` file, a Dagster run "started" for ever. The
crashes pile up on the same home (each run starts from the debris of the one before); the
final run must then converge: the same files with the same content, nothing half-written or
left over, no run left "started".
"""

from __future__ import annotations

import fnmatch
import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import yaml
from openpyxl import load_workbook
from polars.testing import assert_frame_equal

from demo.generator import generate
from demo.simulator import answer_files
from pipelines.cases.store import CaseStore
from tests.crash_harness import WRITES_MARK

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
AGENCY, JIMU, ROUND = "392014", "kaigo_hoken", "2026"
# several F2 files, so a kill can land between two of them; the GX evidence is left out to
# keep each of the many runs short (it writes no stage output; it has its own tests)
SETTINGS = {"request": {"max_records_per_file": 100}, "evidence": {"enabled": False}}


def harness(kill_at: int, *args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.crash_harness", str(kill_at), *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def writes(done: subprocess.CompletedProcess) -> list[str]:
    """The names of the files an uninterrupted run wrote, in order (the harness lists them)."""
    assert done.returncode == 0, done.stderr
    names = re.findall(r"^durable write \d+: (.+)$", done.stderr, flags=re.MULTILINE)
    assert len(names) == int(done.stderr.rsplit(WRITES_MARK, 1)[1].split()[0])
    return names


def kill_points(names: list[str], *wanted: str) -> list[int]:
    """1-based positions of the writes to die before: the first or last write of a name
    (``first:`` / ``last:``), or the n-th of a glob (``2nd:request_*``)."""
    points = []
    for w in wanted:
        which, pattern = w.split(":", 1)
        hits = [i + 1 for i, n in enumerate(names) if fnmatch.fnmatch(n, pattern)]
        assert hits, (w, names)
        points.append({"first": hits[0], "last": hits[-1], "2nd": hits[1] if len(hits) > 1 else -1}[which])
    assert -1 not in points, (wanted, names)
    return sorted(points)


class Round:
    """One home with its output folders outside it, as staff would use them."""

    def __init__(self, root: Path):
        self.root = root
        self.home = root / "home"
        self.home.mkdir(parents=True)
        (self.home / "tenken.yaml").write_text(yaml.safe_dump(SETTINGS), encoding="utf-8")
        self.to_juki, self.f3, self.results = root / "to_juki", root / "f3", root / "results"

    def request(self, f1: Path, kill_at: int = 0) -> subprocess.CompletedProcess:
        return harness(
            kill_at, "request", "--home", self.home, "--agency", AGENCY, "--jimu", JIMU,
            "--extract", f1, "--round", ROUND, "--out", self.to_juki,
        )  # fmt: skip

    def match(self, kill_at: int = 0) -> subprocess.CompletedProcess:
        return harness(
            kill_at, "match", "--home", self.home, "--agency", AGENCY, "--jimu", JIMU,
            "--result", self.f3, "--out", self.results,
        )  # fmt: skip

    def files(self) -> dict[str, Path]:
        """Every file tenken keeps or wrote for the round, by path relative to the root."""
        folders = [self.home / "data", self.to_juki, self.results]
        return {
            str(p.relative_to(self.root)): p for f in folders for p in sorted(f.rglob("*")) if p.is_file()
        }


def same_content(a: Path, b: Path) -> None:
    if a.suffix == ".parquet":
        assert_frame_equal(pl.read_parquet(a), pl.read_parquet(b))
    elif a.name == "manifest.json":
        left, right = (json.loads(p.read_text(encoding="utf-8")) for p in (a, b))
        left.pop("作成日時"), right.pop("作成日時")  # when it was written, nothing else
        assert left == right
    elif a.suffix == ".xlsx":
        # the help sheet carries when the workbook was made; every case row must be identical
        sheets = [[list(r) for r in load_workbook(p, read_only=True).worksheets[0].values] for p in (a, b)]
        assert sheets[0] == sheets[1]
    elif a.suffix == ".sqlite":
        pass  # the case store: compared through its cases below
    else:
        assert a.read_bytes() == b.read_bytes(), a.name


def runs_by_status(home: Path) -> dict[str, int]:
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        counts: dict[str, int] = {}
        for run in instance.get_runs():
            counts[run.status.value] = counts.get(run.status.value, 0) + 1
        return counts
    finally:
        instance.dispose()


def test_killed_in_every_stage_then_rerun_converges(tmp_path: Path) -> None:
    data = generate(240, agency=AGENCY, jimu=JIMU, seed=5)
    f1 = data.write_extract(tmp_path / "点検用元ファイル.csv")

    reference = Round(tmp_path / "reference")
    phase1 = writes(reference.request(f1))
    answer_files(sorted(reference.to_juki.glob("request_*.csv")), data.registry, reference.f3)
    phase2 = writes(reference.match())
    # one kill inside each stage: 抽出 (its output), 住基照会要求 (between two F2 files, after
    # F2 and manifest but before the 照会番号 registry, before its output), 照会結果, 照合
    # (before F4), 不一致確認 (before F5), 定期報告
    kills1 = kill_points(
        phase1, "first:*.parquet", "2nd:request_*.csv", "first:inquiry_numbers.parquet", "last:*.parquet"
    )
    kills2 = kill_points(
        phase2, "first:*.parquet", "first:照合結果.csv", "first:確認作業リスト.xlsx", "last:*.parquet"
    )

    crashed = Round(tmp_path / "crashed")
    for n in kills1:
        killed = crashed.request(f1, kill_at=n)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert writes(crashed.request(f1)) == phase1
    # the F2 files carried to the terminal are the same, so the same answers come back
    answer_files(sorted(crashed.to_juki.glob("request_*.csv")), data.registry, crashed.f3)
    for n in kills2:
        killed = crashed.match(kill_at=n)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert writes(crashed.match()) == phase2
    kills = len(kills1) + len(kills2)

    expected, got = reference.files(), crashed.files()
    assert sorted(got) == sorted(expected)  # nothing missing, nothing left over (no .part files)
    for name, path in expected.items():
        same_content(path, got[name])

    # the case store holds the same cases, once each, with the same history
    stores = [CaseStore.open(f"sqlite:///{r.home / 'data' / 'cases.sqlite'}") for r in (reference, crashed)]
    try:
        cases, heads = [], []
        for store in stores:
            with store.reading() as conn:
                frame = store.cases_frame(conn, AGENCY, JIMU)
                cases.append(frame.drop([c for c in frame.columns if c.endswith("_at")]))
                heads.append(store.head(conn)[0])
    finally:
        for store in stores:
            store.close()
    assert cases[0].height > 0
    assert_frame_equal(cases[0], cases[1])
    assert heads[0] == heads[1]  # as many audit events: nothing recorded twice

    # every killed run is closed as failed by the next run; none stays "started"
    statuses = runs_by_status(crashed.home)
    assert statuses.get("FAILURE", 0) == kills
    assert statuses.get("SUCCESS", 0) == 2
    assert set(statuses) <= {"FAILURE", "SUCCESS"}
