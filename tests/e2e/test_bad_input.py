"""Every file of the bad-input corpus through the CLI, in-process against a real tenken home.

Each must give exit status 2, a message naming the file, the line and the column where
there is one, and what was expected, with its English code; an error report listing every
problem; nothing stored downstream (no stage output, no materialization, no output folder);
and no 個人番号 of the file in the output or the Dagster instance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml
from typer.testing import CliRunner

from pipelines.home import HomeLayout
from tenken.cli import app
from tests.fixtures.bad_input import corpus
from tests.fixtures.bad_input.corpus import BadInput
from tests.leaks import instance_storage, leaked, numbers_in

pytestmark = pytest.mark.slow

AGENCY, JIMU, ROUND = "392014", "kaigo_hoken", "2026"
PHASE1_ASSETS = ("extract", "inquiry_request")
PHASE2_ASSETS = ("inquiry_result", "match_result", "mismatch_review", "periodic_report")
GOOD_EXTRACT = corpus.HERE / "good_extract.csv"
GOOD_RESULT = corpus.HERE / "good_result.csv"


def tenken(*args: str | Path):
    return CliRunner().invoke(app, [str(a) for a in args])


def request(home: Path, extract: Path, out: Path, atena: Path | None = None):
    extra = ["--atena", atena] if atena else []
    return tenken(
        "request", "--home", home, "--agency", AGENCY, "--jimu", JIMU,
        "--extract", extract, *extra, "--round", ROUND, "--out", out,
    )  # fmt: skip


def match(home: Path, result: Path, out: Path):
    return tenken(
        "match", "--home", home, "--agency", AGENCY, "--jimu", JIMU, "--result", result, "--out", out
    )


def materialized(home: Path, assets: tuple[str, ...]) -> list[str]:
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        return [a for a in assets if instance.get_latest_materialization_event(dg.AssetKey(a)) is not None]
    finally:
        instance.dispose()


@pytest.fixture(autouse=True)
def _dagster_home_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    # the CLI points DAGSTER_HOME at its home, as `tenken` does; put it back afterwards
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


@pytest.fixture(scope="module")
def refused_homes(tmp_path_factory: pytest.TempPathFactory) -> Callable[[BadInput], Path]:
    """One home per tenken.yaml for the phase-1 cases; no run ever succeeds in them."""
    root = tmp_path_factory.mktemp("phase1")

    def home_for(case: BadInput) -> Path:
        home = root / (
            yaml.safe_dump(dict(case.settings)).strip().replace(":", "_").replace("\n", "_") or "defaults"
        )
        if case.settings and not home.exists():
            home.mkdir()
            (home / "tenken.yaml").write_text(yaml.safe_dump(dict(case.settings)), encoding="utf-8")
        return home

    return home_for


@pytest.fixture(scope="module")
def requested_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A home where phase 1 ran on good_extract.csv: the F3 cases are answers to it."""
    home = tmp_path_factory.mktemp("phase2") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DAGSTER_HOME", raising=False)
        out = request(home, GOOD_EXTRACT, home.parent / "to_juki")
    assert out.exit_code == 0, out.output
    yield home


def test_committed_files_are_what_the_table_builds() -> None:
    built = corpus.files()
    on_disk = {p.name for p in corpus.HERE.glob("*.csv")}
    assert on_disk == set(built)
    for name, content in built.items():
        assert (corpus.HERE / name).read_bytes() == content, name


def test_the_base_files_go_through_both_phases(tmp_path: Path) -> None:
    """The control: what the cases break is a good file, so a refusal is about the defect."""
    home = tmp_path / "home"
    assert request(home, GOOD_EXTRACT, tmp_path / "f2").exit_code == 0
    out = match(home, GOOD_RESULT, tmp_path / "f4")
    assert out.exit_code == 0, out.output
    assert "照合 A 4 / B 0 / C 0" in out.stdout
    # the F1b case's base: numbers blank in F1, taken from an F1b (any file with both columns)
    atena = request(
        tmp_path / "other",
        corpus.HERE / "good_extract_numbers_in_atena.csv",
        tmp_path / "x",
        atena=GOOD_EXTRACT,
    )
    assert atena.exit_code == 0, atena.output


@pytest.mark.parametrize("case", corpus.CASES, ids=lambda c: c.name.removesuffix(".csv"))
def test_bad_input_is_refused_with_a_located_message(
    case: BadInput, tmp_path: Path, refused_homes: Callable[[BadInput], Path], requested_home: Path
) -> None:
    out_dir = tmp_path / "out"
    if case.phase == 1:
        home = refused_homes(case)
        if case.role == "atena":
            result = request(
                home, corpus.HERE / "good_extract_numbers_in_atena.csv", out_dir, atena=case.path
            )
        else:
            result = request(home, case.path, out_dir)
    else:
        home = requested_home
        result = match(home, case.path, out_dir)

    assert result.exit_code == 2, result.output
    message = result.stderr
    assert f"[{case.code}]" in message
    assert f"ファイル「{case.reported_file or case.name}" in message
    if case.line is not None:
        assert f"{case.line}行目" in message
    if case.column is not None:
        assert f"列「{case.column}」" in message
    assert "期待:" in message

    # every problem is in the error report, and nothing was stored downstream
    stage = "抽出" if case.phase == 1 else "照会結果"
    report = HomeLayout(home).errors_dir(AGENCY, JIMU, ROUND) / f"{stage}_誤り一覧.csv"
    assert case.code in report.read_bytes().decode("cp932")
    assert str(report) in message
    assert not out_dir.exists()
    downstream = PHASE1_ASSETS if case.phase == 1 else PHASE2_ASSETS
    assert materialized(home, downstream) == []
    assert [a for a in downstream if (HomeLayout(home).store / a).exists()] == []
    if case.phase == 1:
        assert not HomeLayout(home).inquiry_registry(AGENCY, JIMU, ROUND).exists()

    numbers = numbers_in([case.path, GOOD_EXTRACT])
    assert numbers, "the corpus files carry 個人番号 to look for"
    assert leaked(numbers, [result.stdout, result.stderr], instance_storage(home)) == []
