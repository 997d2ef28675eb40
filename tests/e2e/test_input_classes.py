"""Issue 11's input classes through the CLI, in-process against a real tenken home.

* class 7: ``tenken match`` for round 2026 given the round-2025 F3 files (same people, same
  sorted order) is refused naming both rounds, stores nothing; 2026's own F3 then passes.
  Re-running a round's phase 1 gives the same F2 bytes (stable 照会番号).
* class 11: a UTF-8 F1 with the empty columns Excel leaves is read, and the user is told
  both (asset metadata ``読み取りの注意`` and the run log).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner

from demo.generator import generate
from demo.simulator import answer_files
from pipelines.home import HomeLayout
from tenken.cli import app
from tests.leaks import instance_storage, leaked, numbers_in

pytestmark = pytest.mark.slow
AGENCY, JIMU = "392014", "kaigo_hoken"


def tenken(*args: str | Path):
    return CliRunner().invoke(app, [str(a) for a in args])


def request(home: Path, extract: Path, round_id: str, out: Path):
    return tenken(
        "request", "--home", home, "--agency", AGENCY, "--jimu", JIMU, "--extract", extract,
        "--round", round_id, "--out", out,
    )  # fmt: skip


def match(home: Path, result: Path, out: Path):
    return tenken(
        "match", "--home", home, "--agency", AGENCY, "--jimu", JIMU, "--result", result, "--out", out
    )


@pytest.fixture(autouse=True)
def _dagster_home_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)


def materializations(home: Path, asset: str) -> list[dg.AssetMaterialization]:
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        records = instance.fetch_materializations(dg.AssetKey(asset), limit=100).records
        return [r.asset_materialization for r in records if r.asset_materialization is not None]
    finally:
        instance.dispose()


def test_last_years_results_are_refused_for_this_year(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = generate(300, agency=AGENCY, jimu=JIMU, seed=11)
    f1 = data.write_extract(tmp_path / "点検用元ファイル.csv")
    answers = {}
    for round_id in ("2025", "2026"):
        out = tmp_path / f"to_juki_{round_id}"
        assert request(home, f1, round_id, out).exit_code == 0
        answers[round_id] = answer_files(
            sorted(out.glob("request_*.csv")), data.registry, tmp_path / f"f3_{round_id}"
        )
    first_2026 = {p.name: p.read_bytes() for p in (tmp_path / "to_juki_2026").glob("request_*.csv")}
    assert next(iter(first_2026.values()))[:3] == b"026"  # the round's tag leads every 照会番号

    refused = match(home, answers["2025"][0].parent, tmp_path / "f4")
    assert refused.exit_code == 2, refused.output
    assert "[RESULT_OTHER_ROUND]" in refused.stderr
    assert "点検回 2025" in refused.stderr and "点検回 2026" in refused.stderr
    assert not (tmp_path / "f4").exists()
    assert materializations(home, "inquiry_result") == []
    assert leaked(numbers_in([f1]), [refused.stdout, refused.stderr], instance_storage(home)) == []

    ok = match(home, answers["2026"][0].parent, tmp_path / "f4")
    assert ok.exit_code == 0, ok.output

    # phase 1 of 2026 again: the same F2, byte for byte
    again = request(home, f1, "2026", tmp_path / "again")
    assert again.exit_code == 0, again.output
    assert {p.name: p.read_bytes() for p in (tmp_path / "again").glob("request_*.csv")} == first_2026


def test_utf8_and_excels_empty_columns_are_read_and_reported(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = generate(50, agency=AGENCY, jimu=JIMU, seed=3)
    cp932 = data.write_extract(tmp_path / "cp932.csv").read_bytes().decode("cp932")
    f1 = tmp_path / "点検用元ファイル.csv"
    f1.write_bytes("".join(line + ",,,\r\n" for line in cp932.splitlines()).encode("utf-8-sig"))

    out = request(home, f1, "2026", tmp_path / "to_juki")
    assert out.exit_code == 0, out.output
    [extract] = materializations(home, "extract")
    notes = extract.metadata["読み取りの注意"].value
    assert f"{f1.name}: 文字コードを UTF-8（BOM つき） と判定して読みました" in notes
    assert "見出しが空欄の列 3 列" in notes
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        run = instance.get_runs(limit=1)[0]
        logged = [e.user_message for e in instance.all_logs(run.run_id)]
    finally:
        instance.dispose()
    assert any("UTF-8（BOM つき）" in m for m in logged)
    assert HomeLayout(home).inquiry_registry(AGENCY, JIMU, "2026").exists()
