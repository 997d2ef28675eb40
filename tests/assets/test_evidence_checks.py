"""The evidence checks in Dagster: they run with both phases, link their Data Docs, never block.

Real temporary instance, real stage assets; the GX suites themselves are tested in
tests/unit/test_evidence.py.
"""

import re
from pathlib import Path
from urllib.parse import unquote

import dagster as dg
import pytest
import yaml

import assets.ops.evidence
from assets.definitions import defs
from assets.jobs import PHASE1, PHASE2, phase1_run_config, phase2_run_config
from assets.ops.evidence import EVIDENCE_CHECK
from assets.partitions import PartitionScope
from demo.simulator import answer_files
from pipelines.home import HomeLayout
from tests.leaks import Residents, leaked, numbers_in

AGENCY, JIMU, ROUND = "392014", "kaigo_hoken", "2026"
SCOPE = PartitionScope(AGENCY, JIMU)
BOUNDARY_STAGES = {"extract", "inquiry_request", "inquiry_result", "match_result"}


def both_phases(instance, tmp_path: Path, data) -> list[dg.AssetCheckEvaluation]:
    job1, job2 = defs.resolve_job_def(PHASE1), defs.resolve_job_def(PHASE2)
    f1 = data.write_extract(tmp_path / "f1.csv")
    first = job1.execute_in_process(
        run_config=phase1_run_config(str(f1), round_id=ROUND), instance=instance, partition_key=SCOPE.key
    )
    request_dir = HomeLayout(Path(instance.root_directory)).request_dir(AGENCY, JIMU, ROUND)
    f3 = answer_files(sorted(request_dir.glob("request_*.csv")), data.registry, tmp_path / "f3")
    second = job2.execute_in_process(
        run_config=phase2_run_config(str(f3[0].parent)), instance=instance, partition_key=SCOPE.key
    )
    assert first.success and second.success
    return [
        c
        for c in [*first.get_asset_check_evaluations(), *second.get_asset_check_evaluations()]
        if c.check_name == EVIDENCE_CHECK
    ]


def test_every_boundary_stage_gets_evidence_with_its_data_docs(instance, tmp_path: Path, small_data) -> None:
    checks = both_phases(instance, tmp_path, small_data)
    assert {c.asset_key.to_user_string() for c in checks} == BOUNDARY_STAGES
    evidence_dir = HomeLayout(Path(instance.root_directory)).evidence_dir(AGENCY, JIMU)
    for check in checks:
        assert check.passed, check.metadata["満たさない期待"]
        assert check.partition == SCOPE.key
        page = Path(check.metadata["証跡（Data Docs）"].value)
        assert page.is_file() and evidence_dir in page.parents
        assert check.metadata["期待の数"].value >= 5
    assert (evidence_dir / "証跡一覧.html").is_file()


def test_an_auditor_reads_every_expectation_in_the_ui_and_a_whole_site(
    instance, tmp_path: Path, small_data
) -> None:
    checks = both_phases(instance, tmp_path, small_data)
    evidence_dir = HomeLayout(Path(instance.root_directory)).evidence_dir(AGENCY, JIMU)
    for check in checks:
        table = check.metadata["期待ごとの結果"].value
        assert len(table.records) == check.metadata["期待の数"].value
        assert {r.data["結果"] for r in table.records} == {"合格"}
        assert all(r.data["期待"] and r.data["観測値"] for r in table.records)
        assert str(check.metadata["検証時刻（日本時間）"].value).endswith("+09:00")
        assert Path(check.metadata["証跡一覧"].value) == evidence_dir / "証跡一覧.html"
    index = (evidence_dir / "証跡一覧.html").read_text(encoding="utf-8")
    assert index.count(">合格<") == sum(
        len({r.data["対象"] for r in c.metadata["期待ごとの結果"].value.records}) for c in checks
    )
    assert "+09:00" in index and "<style>" in index
    pages = sorted(evidence_dir.rglob("*.html"))
    for page in pages:
        html = page.read_text(encoding="utf-8")
        # no link out of the site (GX's vendor and newsletter links), every local link works
        assert not re.search(r"""href=["']https?://""", html), page
        for target in re.findall(r"""href=["']([^"'#]+)""", html):
            if not target.startswith(("mailto:", "javascript:")):
                assert (page.parent / unquote(target)).exists(), (page, target)
    # counts only: no 個人番号 and no resident's 氏名, 住所 or 生年月日 anywhere in the site
    inputs = [tmp_path / "f1.csv", *sorted((tmp_path / "f3").glob("*.csv"))]
    assert leaked(numbers_in(inputs), paths=[evidence_dir]) == []
    assert Residents.of(inputs).found_in(paths=pages) == []


def test_unmet_evidence_is_reported_but_does_not_block(
    instance, tmp_path: Path, small_data, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 照合結果.csv short of one row: what the evidence is there to notice
    real = assets.ops.evidence.evidence.csv_rows
    monkeypatch.setattr(assets.ops.evidence.evidence, "csv_rows", lambda path: (real(path) or 0) - 1)
    checks = {c.asset_key.to_user_string(): c for c in both_phases(instance, tmp_path, small_data)}
    failed = checks["match_result"]
    assert not failed.passed
    assert failed.severity == dg.AssetCheckSeverity.ERROR
    assert [u["期待"] for u in failed.metadata["満たさない期待"].value] == [
        "照合結果.csv の行数 = 照合結果の件数"
    ]
    # the rest of the graph ran: evidence is not the gate
    assert instance.get_latest_materialization_event(dg.AssetKey("periodic_report")) is not None


def test_switched_off_evidence_says_so_as_a_warning(instance, tmp_path: Path, small_data) -> None:
    home = Path(instance.root_directory)
    (home / "tenken.yaml").write_text(yaml.safe_dump({"evidence": {"enabled": False}}), encoding="utf-8")
    checks = both_phases(instance, tmp_path, small_data)
    assert {c.asset_key.to_user_string() for c in checks} == BOUNDARY_STAGES
    assert all(not c.passed and c.severity == dg.AssetCheckSeverity.WARN for c in checks)
    assert not HomeLayout(home).evidence_dir(AGENCY, JIMU).exists()
