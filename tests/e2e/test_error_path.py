"""The error path as the operator meets it (issue 11 class 6, issue 13.3).

Each case runs ``tenken`` exactly as the console script does (``tenken.cli.main``, with the
real file descriptors captured) and must give: its exit status; its message code; no Python
traceback, no Dagster log line, no "Stack Trace:" block; no 12-digit number; and nothing
stored — no materialization, and for an argument refused before launch no run at all (so no
partition turns red) and no file in a round's folder. A refusal before launch in an existing
home is recorded there as an observation that names its code.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from tenken.cli import main
from tenken.runner import REFUSED
from tests.fixtures.bad_input import corpus

pytestmark = pytest.mark.slow

AGENCY, JIMU, ROUND = "392014", "kaigo_hoken", "2026"
GOOD_EXTRACT = corpus.HERE / "good_extract.csv"
ASSETS = (
    "extract",
    "inquiry_request",
    "inquiry_result",
    "match_result",
    "mismatch_review",
    "periodic_report",
)


@pytest.fixture(autouse=True)
def _dagster_home_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


def tenken(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: object
) -> tuple[int, str]:
    """Run the console script's entry point in-process; (exit status, everything printed)."""
    monkeypatch.setattr(sys, "argv", ["tenken", *(str(a) for a in args)])
    capfd.readouterr()
    try:
        main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    out, err = capfd.readouterr()
    return code, out + err


def request_args(home: Path, extract: Path, out: Path) -> list[object]:
    common = ["--home", home, "--agency", AGENCY, "--jimu", JIMU]
    return ["request", *common, "--extract", extract, "--round", ROUND, "--out", out]


def with_control_characters(tmp: Path) -> Path:
    """The good extract with \\x01–\\x03 and \\x1c–\\x1f inside 氏名 (once crashed with StopIteration)."""
    lines = GOOD_EXTRACT.read_bytes().decode("cp932").splitlines()
    header = lines[0].split(",")
    name = header.index("氏名")
    for i, ch in enumerate("\x01\x02\x03\x1c\x1d\x1e\x1f"):
        row = lines[1 + i % (len(lines) - 1)].split(",")
        row[name] = row[name][:1] + ch + row[name][1:]
        lines[1 + i % (len(lines) - 1)] = ",".join(row)
    path = tmp / "制御文字.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    return path


def mount_tmpfs(where: Path, *options: str) -> Callable[[], None]:
    """A real small or read-only file system (root only); skips where mounting is not allowed."""
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(("size=64k", *options)), "tmpfs", str(where)],
        capture_output=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode(errors='replace').strip()}")
    return lambda: subprocess.run(["umount", str(where)], check=False)


@dataclass(frozen=True)
class Case:
    name: str
    #: (tmp folder, a home with one good round) → the command's arguments
    args: Callable[[Path, Path], list[object]]
    exit: int
    code: str
    #: False where the refusal comes from reading the file, inside a run (that run fails)
    before_launch: bool = True
    #: which home to check for "nothing stored": the fresh one or the one with a round
    fresh_home: bool = True
    #: the refusal is recorded in the home's instance (an existing home, partition known)
    recorded: bool = False


def fresh(tmp: Path) -> Path:
    return tmp / "new-home"


CASES = [
    Case(
        "missing extract", lambda t, h: request_args(fresh(t), t / "ない.csv", t / "f2"), 2, "FILE_NOT_FOUND"
    ),
    Case("extract is a folder", lambda t, h: request_args(fresh(t), t, t / "f2"), 2, "PATH_NOT_A_FILE"),
    Case(
        "--out is an existing file",
        lambda t, h: request_args(fresh(t), GOOD_EXTRACT, GOOD_EXTRACT),
        2,
        "OUT_IS_A_FILE",
    ),
    Case(
        "--home is a file",
        lambda t, h: request_args(GOOD_EXTRACT, GOOD_EXTRACT, t / "f2"),
        2,
        "HOME_NOT_A_FOLDER",
    ),
    Case(
        "--out inside the home's data",
        lambda t, h: request_args(h, GOOD_EXTRACT, h / "data" / "rounds" / "x"),
        2,
        "OUT_INSIDE_INPUT",
        fresh_home=False,
        recorded=True,
    ),
    Case(
        "--out inside the --result folder",
        lambda t, h: [
            "match",
            "--home",
            h,
            "--agency",
            AGENCY,
            "--jimu",
            JIMU,
            "--result",
            t,
            "--out",
            t / "f4",
        ],
        2,
        "OUT_INSIDE_INPUT",
        fresh_home=False,
        recorded=True,
    ),
    Case(
        "missing --result",
        lambda t, h: [
            "match",
            "--home",
            h,
            "--agency",
            AGENCY,
            "--jimu",
            JIMU,
            "--result",
            t / "ない",
            "--out",
            t,
        ],
        2,
        "FILE_NOT_FOUND",
        fresh_home=False,
        recorded=True,
    ),
    Case(
        "missing extract in a home with an earlier round",
        lambda t, h: request_args(h, t / "ない.csv", t / "f2"),
        2,
        "FILE_NOT_FOUND",
        fresh_home=False,
        recorded=True,
    ),
    Case(
        "missing workbook",
        lambda t, h: ["cases", "import", t / "確認作業リスト.xlsx", "--home", h],
        2,
        "FILE_NOT_FOUND",
        fresh_home=False,
    ),
    Case(
        "status of a home that does not exist", lambda t, h: ["status", "--home", fresh(t)], 2, "HOME_MISSING"
    ),
    Case(
        "cases list of a home that does not exist",
        lambda t, h: ["cases", "list", "--agency", AGENCY, "--jimu", JIMU, "--home", fresh(t)],
        2,
        "HOME_MISSING",
    ),
    Case(
        "report of a home that does not exist",
        lambda t, h: ["report", "--month", "2026-10", "--out", t / "r", "--home", fresh(t)],
        2,
        "HOME_MISSING",
    ),
    Case("ui of a home that does not exist", lambda t, h: ["ui", "--home", fresh(t)], 2, "HOME_MISSING"),
    Case(
        "purge of a home that does not exist", lambda t, h: ["purge", "--home", fresh(t)], 2, "HOME_MISSING"
    ),
    Case(
        "cases status of a home that does not exist",
        lambda t, h: ["cases", "status", "--home", fresh(t)],
        2,
        "HOME_MISSING",
    ),
    Case(
        "control characters in 氏名",
        lambda t, h: request_args(fresh(t), with_control_characters(t), t / "f2"),
        2,
        "CONTROL_CHARACTER",
        before_launch=False,
    ),
]


@pytest.fixture(scope="module")
def round_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A home where one good phase 1 has run (round 2026)."""
    from tenken.runner import Home, request

    home = tmp_path_factory.mktemp("round") / "home"
    request(Home(home), agency=AGENCY, jimu=JIMU, extract_file=GOOD_EXTRACT, round_id=ROUND)
    yield home


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def _records(home: Path) -> tuple[list[str], list[dg.DagsterRun], list[str]]:
    """(materialized (asset, run id)s, runs, refusal codes observed) of the home's instance."""
    if not (home / "dagster.yaml").is_file():
        return [], [], []
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        materialized = [
            f"{a}:{r.run_id}"
            for a in ASSETS
            for r in instance.fetch_materializations(dg.AssetKey(a), limit=100).records
        ]
        refusals = [
            str(r.asset_observation.metadata[REFUSED].value)
            for a in ASSETS
            for r in instance.fetch_observations(dg.AssetKey(a), limit=100).records
            if r.asset_observation is not None and REFUSED in r.asset_observation.metadata
        ]
        return materialized, list(instance.get_runs()), refusals
    finally:
        instance.dispose()


def assert_clean_terminal(output: str, code: str) -> None:
    assert f"[{code}]" in output, output
    assert "Traceback" not in output, output
    assert "Stack Trace" not in output, output
    assert " - dagster - " not in output, output
    assert not re.search(r"(?<!\d)\d{12}(?!\d)", output), "a 12-digit number reached the terminal"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_refused_cleanly(
    case: Case,
    tmp_path: Path,
    round_home: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = fresh(tmp_path) if case.fresh_home else round_home
    materialized_before, runs_before, refusals_before = _records(home)
    files_before = _files(home / "data" / "rounds")

    status, output = tenken(capfd, monkeypatch, *case.args(tmp_path, round_home))

    assert status == case.exit, output
    assert_clean_terminal(output, case.code)
    materialized, runs, refusals = _records(home)
    assert materialized == materialized_before, "something was materialized"
    if case.before_launch:
        assert len(runs) == len(runs_before), "a run was launched for a refused argument"
        assert _files(home / "data" / "rounds") == files_before, "a file was left in a round's folder"
        if case.recorded:  # auditors still see what was refused, and why
            assert refusals.count(case.code) == refusals_before.count(case.code) + 1, refusals
    else:
        assert "詳細の記録" in output and "tenken.log" in output  # where the details went


def test_the_log_file_keeps_the_details_masked(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, _ = tenken(
        capfd, monkeypatch, *request_args(fresh(tmp_path), with_control_characters(tmp_path), tmp_path / "f2")
    )
    assert status == 2
    log = (fresh(tmp_path) / "logs" / "tenken.log").read_text(encoding="utf-8")
    assert "STEP_FAILURE" in log and "CONTROL_CHARACTER" in log  # the details are there…
    assert not re.search(r"(?<!\d)\d{12}(?!\d)", log)  # …masked
    assert (fresh(tmp_path) / "logs" / "tenken.log").stat().st_mode & 0o777 == 0o600


def test_a_symlink_out_of_the_home_is_refused(
    tmp_path: Path, round_home: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    link = round_home / "data" / "rounds" / "link-out"
    link.symlink_to(outside, target_is_directory=True)
    try:
        status, output = tenken(capfd, monkeypatch, "status", "--home", round_home)
    finally:
        link.unlink()
    assert status == 2
    assert_clean_terminal(output, "HOME_LINK_OUTSIDE")
    assert "link-out" in output


@pytest.mark.parametrize(
    ("options", "fill", "code"), [(("ro",), False, "OUT_NOT_WRITABLE"), ((), True, "DISK_FULL")]
)
def test_a_read_only_or_full_out_is_named(
    options: tuple[str, ...],
    fill: bool,
    code: str,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    where = Path("/tmp") / f"tenken-test-{tmp_path.name}"  # not under /dev/shm: a mount of its own
    unmount = mount_tmpfs(where, *options)
    try:
        if fill:
            with (where / "filler").open("wb", buffering=0) as filler, pytest.raises(OSError):
                while True:
                    filler.write(b"\0" * 4096)

        out = where / "f2"
        status, output = tenken(capfd, monkeypatch, *request_args(fresh(tmp_path), GOOD_EXTRACT, out))
    finally:
        unmount()
        where.rmdir()
    assert status == 2
    assert_clean_terminal(output, code)
    assert str(out) in output  # the folder is named
    assert not (fresh(tmp_path) / "data" / "rounds").exists()


def test_an_unexpected_error_is_a_message_and_a_log(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tenken import runner

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("番号 123456789018 で落ちた")

    monkeypatch.setattr(runner, "status", broken)  # a fault inside tenken, not in its input
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    status, output = tenken(capfd, monkeypatch, "status", "--home", home)
    assert status == 1
    assert_clean_terminal(output, "INTERNAL_ERROR")
    log = (home / "logs" / "tenken.log").read_text(encoding="utf-8")
    assert "RuntimeError" in log and "********9018" in log and "123456789018" not in log
