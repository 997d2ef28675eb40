"""The Excel round trip through the real Dagster graph, on SQLite and on PostgreSQL.

Staff fill F5 with openpyxl, the returned-workbook sensor picks it up and the import job
applies it; 照合 runs again and every decision is still there; a record corrected in the
business system closes as 再照合で一致; a new mismatch opens a new case; the next 点検回
links its cases to this round's outcome.
"""

import os
import time
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.definitions import defs
from assets.jobs import CASES_IMPORT, PHASE1, PHASE2, phase1_run_config, phase2_run_config
from assets.ops.inbox import returned_workbook_sensor
from assets.partitions import PartitionScope, register
from assets.resources import tenken_resources
from demo.generator import generate
from demo.simulator import answer_files
from pipelines.cases.store import CaseStore
from pipelines.home import HomeLayout
from schemas.config import load_settings
from tests.cases.factory import Sheet

pytestmark = pytest.mark.slow
AGENCY, JIMU = "392014", "kaigo_hoken"
SCOPE = PartitionScope(AGENCY, JIMU)
DAY = date(2026, 11, 2)
RIGHT_PERSON = ("typo_name", "moved_town", "moved_muni", "rename")


class Round:
    """One tenken home on a real Dagster instance, driven as the CLI and the sensor would."""

    def __init__(self, instance: dg.DagsterInstance, home: Path, tmp: Path):
        self.instance, self.home, self.tmp = instance, home, tmp
        self.layout = HomeLayout(home)

    def run(self, job: str, config: dict) -> dg.ExecuteInProcessResult:
        result = defs.resolve_job_def(job).execute_in_process(
            run_config=config, instance=self.instance, partition_key=SCOPE.key, raise_on_error=False
        )
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        return result

    def phases(self, extract: pl.DataFrame, registry: pl.DataFrame, round_id: str) -> None:
        f1 = self.tmp / f"f1_{round_id}_{time.monotonic_ns()}.csv"
        f1.write_bytes(extract.write_csv(line_terminator="\r\n").encode("cp932"))
        self.run(PHASE1, phase1_run_config(str(f1), round_id=round_id))
        requests = sorted(self.layout.request_dir(AGENCY, JIMU, round_id).glob("request_*.csv"))
        answers = answer_files(requests, registry, self.tmp / f"f3_{time.monotonic_ns()}")
        self.run(PHASE2, phase2_run_config(str(answers[0].parent)))

    def store(self) -> CaseStore:
        return CaseStore.for_settings(load_settings(self.layout.config_file).cases, self.home)

    def cases(self, round_id: str = "2026") -> pl.DataFrame:
        with self.store() as store, store.reading() as conn:
            return store.cases_frame(conn, AGENCY, JIMU, round_id=round_id)

    def f5(self, round_id: str = "2026") -> Path:
        return self.layout.result_dir(AGENCY, JIMU, round_id) / "確認作業リスト.xlsx"

    def return_by_inbox(self, sheet: Sheet, name: str) -> dg.RunRequest:
        """Save the edited workbook into the inbox and let the sensor ask for the import."""
        target = self.layout.inbox / AGENCY / JIMU / "2026" / "returned" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(target)
        old = time.time() - 60  # settled: not being copied any more
        os.utime(target, (old, old))
        with dg.build_sensor_context(instance=self.instance, resources=tenken_resources()) as context:
            result = returned_workbook_sensor(context)
        assert isinstance(result, dg.SensorResult)
        (request,) = [
            r
            for r in result.run_requests
            if r.run_config["ops"]["mismatch_review"]["config"]["returned_file"] == str(target)
        ]
        assert request.job_name == CASES_IMPORT and request.partition_key == SCOPE.key
        return request


@pytest.fixture()
def world(request, backend, tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    if backend.name == "postgresql":
        (home / "tenken.yaml").write_text(backend.yaml(), encoding="utf-8")
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        register(instance, PartitionScope(AGENCY, JIMU))
        yield Round(instance, home, tmp_path)


def state_of(cases: pl.DataFrame, case_id: str) -> dict:
    return cases.filter(pl.col("case_id") == case_id).row(0, named=True)


def test_staff_work_survives_every_rerun_and_corrections_close_cases(world: Round) -> None:
    data = generate(800, agency=AGENCY, jimu=JIMU, seed=5)
    world.phases(data.extract, data.registry, "2026")
    first = world.cases()
    assert first.height > 10 and first["state"].unique().to_list() == ["未着手"]

    # pick cases by what really happened (ground truth), as staff would find out
    known = (
        first.join(data.truth, on="atena_no")
        .join(
            data.extract.select(pl.col("宛名番号").alias("atena_no"), pl.col("個人番号").alias("my_number")),
            on="atena_no",
        )
        .join(
            data.registry.filter((pl.col("status") == "00") & pl.col("kana").is_not_null()),
            on="my_number",
            how="left",
        )
    )
    right = known.filter(pl.col("kind").is_in(RIGHT_PERSON) & pl.col("name").is_not_null()).sort("case_id")
    mislinked = known.filter(pl.col("is_mislink")).sort("case_id")
    fixed, own, unreached = right["case_id"][:3]
    mislink = mislinked["case_id"][0]

    sheet = Sheet(world.f5())
    sheet.fill(fixed, 状態="確認中", 担当者="山田", 確認方法="電話")
    sheet.fill(
        own,
        状態="完了",
        担当者="山田",
        確認方法="業務記録",
        確認結果="本人の番号",
        確認日=DAY,
        確認者="佐藤",
        備考="転居届で確認",
    )
    sheet.fill(
        unreached,
        状態="確認不能",
        担当者="高橋",
        確認方法="郵送",
        確認結果="確認不能",
        確認日=DAY,
        確認者="佐藤",
    )
    sheet.fill(
        mislink,
        状態="是正済",
        担当者="山田",
        確認方法="本人確認書類",
        確認結果="紐付け誤り",
        確認日=DAY,
        確認者="佐藤",
        自動応答不可設定="解除済",
        是正内容="正しい番号に修正し中間サーバを再登録",
        是正日=DAY,
        閲覧有無="無",
    )
    request = world.return_by_inbox(sheet, "記入済み.xlsx")
    imported = world.run(CASES_IMPORT, request.run_config)
    decided = world.cases()
    (event,) = imported.get_asset_materialization_events()
    meta = {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}
    assert (meta["取込_適用"], meta["状態_完了"], meta["状態_是正済"], meta["状態_未着手"]) == (
        4,
        1,
        1,
        first.height - 4,
    )
    assert meta["監査ログ件数"] == first.height + 1 + 3 + 2 + 3  # opened, then every step taken
    expected = {fixed: "確認中", own: "完了", unreached: "確認不能", mislink: "是正済"}
    assert {c: state_of(decided, c)["state"] for c in expected} == expected

    # 照合 again on the same data: nothing staff entered is lost, nothing is duplicated
    world.phases(data.extract, data.registry, "2026")
    again = world.cases()
    staff = [
        "case_id",
        "state",
        "assignee",
        "method",
        "outcome",
        "confirmed_on",
        "reviewer",
        "correction",
        "viewed",
        "note",
    ]
    assert again.select(staff).sort("case_id").equals(decided.select(staff).sort("case_id"))
    fresh = Sheet(world.f5())
    assert fresh.get(own, "状態") == "完了" and fresh.get(own, "備考") == "転居届で確認"
    assert fresh.get(mislink, "閲覧有無") == "無"

    # the business system corrects one record; another record gets a new keying slip
    fixed_row = state_of(known, fixed)
    slipped = data.truth.filter((pl.col("kind") == "ok") & pl.col("in_scope")).sort("atena_no")["atena_no"][0]
    corrected = data.extract.with_columns(
        *(
            pl.when(pl.col("宛名番号") == fixed_row["atena_no"])
            .then(pl.lit(value))
            .otherwise(pl.col(column))
            .alias(column)
            for column, value in (
                ("氏名", fixed_row["name"]),
                ("氏名カナ", fixed_row["kana"]),
                ("生年月日", fixed_row["birth_date"].strftime("%Y%m%d")),
                ("性別", fixed_row["sex"]),
                ("住所", fixed_row["address"]),
            )
        )
    ).with_columns(
        pl.when(pl.col("宛名番号") == slipped)
        .then(pl.lit("19010101"))
        .otherwise(pl.col("生年月日"))
        .alias("生年月日")
    )
    world.phases(corrected, data.registry, "2026")
    after = world.cases()
    assert state_of(after, fixed)["state"] == "再照合で一致"
    assert state_of(after, fixed)["assignee"] == "山田"  # closed, not wiped
    new = after.join(decided.select("case_id"), on="case_id", how="anti")
    assert new["atena_no"].to_list() == [slipped] and new["state"].to_list() == ["未着手"]
    assert after.height == decided.height + 1 and after["case_id"].is_unique().all()
    assert {c: state_of(after, c)["state"] for c in (own, unreached, mislink)} == {
        own: "完了",
        unreached: "確認不能",
        mislink: "是正済",
    }
    with world.store() as store:
        assert store.verify().ok

    # the next 点検回 starts new cases, each linked to this round's outcome
    world.phases(corrected, data.registry, "2027")
    next_round = world.cases("2027")
    linked = next_round.filter(pl.col("atena_no") == state_of(after, mislink)["atena_no"]).row(0, named=True)
    assert (
        linked["state"],
        linked["previous_case_id"],
        linked["previous_state"],
        linked["previous_outcome"],
    ) == (
        "未着手",
        mislink,
        "是正済",
        "紐付け誤り",
    )
    assert world.cases("2026").equals(after)  # the earlier round is left as it was
