"""定期報告 from the case store: every figure of two agencies × two 事務, the totals, the
prefecture roll-up, 未着手 rows, and a closed month that reproduces exactly after later work.

The store is filled through its own write path (round history rows and audit events with
chosen times), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.cases.audit import NewEvent, stamp
from pipelines.cases.rounds import PHASE_MATCHED, PHASE_REQUESTED, record_round, rounds_as_of
from pipelines.cases.store import CaseStore
from pipelines.clock import JST
from pipelines.reporting.calendar import recheck_calendar
from pipelines.reporting.figures import with_total
from pipelines.reporting.monthly import build_monthly_report
from schemas.cases import EventKind
from schemas.config import parse_settings

KOCHI, NANKOKU, SAPPORO = "392014", "392049", "011002"
KAIGO, JIDO = "kaigo_hoken", "jido_teate"
SEPT = datetime(2026, 9, 15, 10, 0, tzinfo=JST)
OCT = datetime(2026, 10, 20, 10, 0, tzinfo=JST)
NOV = datetime(2026, 11, 5, 10, 0, tzinfo=JST)
REPORT_DAY = datetime(2026, 11, 20, 9, 0, tzinfo=JST)

SETTINGS = parse_settings(
    {
        "recheck": {
            "plan": [
                {"agency": a, "jimu": j}
                for a, j in [
                    (KOCHI, KAIGO),
                    (KOCHI, JIDO),
                    (SAPPORO, KAIGO),
                    (SAPPORO, JIDO),
                    (NANKOKU, KAIGO),
                ]
            ]
        }
    }
)


def figures(agency: str, jimu: str, *, in_scope: int, out: int, a: int = 0, b: int = 0, c: int = 0) -> dict:
    return {
        "agency": agency,
        "jimu": jimu,
        "round_id": "2026",
        "rows_read": in_scope + out,
        "out_of_scope": out,
        "needs_fix": 0,
        "in_scope": in_scope,
        "grade_a": a,
        "grade_b": b,
        "grade_c": c,
        "not_inquired": in_scope - a - b - c,
    }


def opened(agency: str, jimu: str, case_id: str, cause: str | None = None) -> NewEvent:
    changes = {"round_id": (None, "2026"), "grade": (None, "C")}
    if cause:
        changes["likely_cause"] = (None, cause)
    return NewEvent(agency, jimu, case_id, EventKind.OPENED, None, "未着手", changes, "tenken")


def moved(
    agency: str, jimu: str, case_id: str, to: str, *, outcome: str | None = None, viewed: str | None = None
) -> NewEvent:
    changes = {}
    if outcome:
        changes["outcome"] = (None, outcome)
    if viewed:
        changes["viewed"] = (None, viewed)
    return NewEvent(agency, jimu, case_id, EventKind.MOVED, "未着手", to, changes, "山田", "佐藤")


def write(store: CaseStore, at: datetime, events: list[NewEvent]) -> None:
    with store.writing() as conn:
        store.append_events(conn, events, at=stamp(at), source="test")


@pytest.fixture()
def world(store: CaseStore) -> CaseStore:
    """September: rounds matched (one only requested), cases opened. October: staff work."""
    with store.writing() as conn:
        record_round(conn, figures(KOCHI, KAIGO, in_scope=100, out=10, a=90, b=6, c=4), phase=2, at=SEPT)
        record_round(conn, figures(KOCHI, JIDO, in_scope=50, out=0, a=47, b=2, c=1), phase=2, at=SEPT)
        record_round(conn, figures(SAPPORO, KAIGO, in_scope=200, out=20, a=190, b=5, c=5), phase=2, at=SEPT)
        record_round(conn, figures(SAPPORO, JIDO, in_scope=80, out=5), phase=PHASE_REQUESTED, at=SEPT)
    family, twin, namesake = "家族の番号の可能性", "双子の可能性", "同姓同名の別人の可能性"
    causes = {"k1": family, "k2": family, "k3": twin}
    write(
        store,
        SEPT,
        [opened(KOCHI, KAIGO, f"k{i}", causes.get(f"k{i}")) for i in range(1, 11)]
        + [opened(KOCHI, JIDO, f"j{i}") for i in range(1, 4)]
        + [opened(SAPPORO, KAIGO, "s1", namesake)]
        + [opened(SAPPORO, KAIGO, f"s{i}") for i in range(2, 11)],
    )
    write(
        store,
        OCT,
        [
            moved(KOCHI, KAIGO, "k1", "紐付け誤り", outcome="紐付け誤り", viewed="有"),
            moved(KOCHI, KAIGO, "k2", "是正済", outcome="紐付け誤り", viewed="無"),
            moved(KOCHI, KAIGO, "k3", "完了", outcome="紐付け誤り", viewed="無"),
            moved(KOCHI, KAIGO, "k4", "本人の番号と確認", outcome="本人の番号"),
            moved(KOCHI, KAIGO, "k5", "確認中"),
            moved(KOCHI, KAIGO, "k6", "確認不能", outcome="確認不能"),
            moved(KOCHI, KAIGO, "k7", "再照合で一致"),
            *(moved(KOCHI, JIDO, f"j{i}", "完了", outcome="本人の番号") for i in range(1, 4)),
            moved(SAPPORO, KAIGO, "s1", "完了", outcome="紐付け誤り", viewed="有"),
        ],
    )
    return store


def row(frame: pl.DataFrame, **keys: str) -> dict:
    found = frame.filter(*(pl.col(k) == v for k, v in keys.items()))
    assert found.height == 1, keys
    return found.row(0, named=True)


def test_every_figure_of_two_agencies_by_two_jimu(world: CaseStore) -> None:
    report = build_monthly_report(world, SETTINGS, "2026-10", current=REPORT_DAY)
    assert report.month_closed and report.as_of == datetime(2026, 10, 31, 23, 59, 59, 999999, tzinfo=JST)
    f = report.agency_jimu
    assert f.height == 5

    kochi_kaigo = row(f, agency=KOCHI, jimu=KAIGO)
    assert {
        k: kochi_kaigo[k] for k in kochi_kaigo if k not in ("prefecture_name", "agency_name", "jimu_name")
    } == {
        "prefecture": "390003",
        "agency": KOCHI,
        "jimu": KAIGO,
        "round_id": "2026",
        "status": "確認作業中",
        "in_scope": 100,
        "out_of_scope": 10,
        "grade_a": 90,
        "grade_b": 6,
        "grade_c": 4,
        "confirmed": 5,  # 紐付け誤り, 是正済, 完了, 本人の番号と確認, 再照合で一致
        "mislinked": 3,
        "mislink_rate": 3.0,
        "viewed": 1,
        "resolved": 2,  # 是正済 + 完了
        "main_cause": "家族の番号の可能性",
    }
    assert (kochi_kaigo["agency_name"], kochi_kaigo["jimu_name"]) == (
        "高知県高知市",
        "介護保険資格・給付情報",
    )

    kochi_jido = row(f, agency=KOCHI, jimu=JIDO)
    assert (kochi_jido["status"], kochi_jido["confirmed"], kochi_jido["mislinked"]) == ("確認作業終了", 3, 0)
    assert kochi_jido["main_cause"] is None and kochi_jido["mislink_rate"] == 0.0

    sapporo_kaigo = row(f, agency=SAPPORO, jimu=KAIGO)
    assert sapporo_kaigo["prefecture"] == "010006"
    assert (sapporo_kaigo["confirmed"], sapporo_kaigo["mislinked"], sapporo_kaigo["mislink_rate"]) == (
        1,
        1,
        0.5,
    )
    assert (sapporo_kaigo["viewed"], sapporo_kaigo["resolved"]) == (1, 1)
    assert sapporo_kaigo["main_cause"] == "同姓同名の別人の可能性"

    requested = row(f, agency=SAPPORO, jimu=JIDO)
    assert (requested["status"], requested["in_scope"], requested["grade_a"]) == ("照会中", 80, 0)

    not_started = row(f, agency=NANKOKU, jimu=KAIGO)
    assert not_started["status"] == "未着手" and not_started["round_id"] is None
    assert all(not_started[k] == 0 for k in ("in_scope", "grade_a", "confirmed", "mislinked"))

    total = with_total(f, "agency_name").row(-1, named=True)
    assert total["agency_name"] == "合計"
    assert (
        total["in_scope"],
        total["out_of_scope"],
        total["grade_a"],
        total["grade_b"],
        total["grade_c"],
    ) == (
        430,
        35,
        327,
        13,
        10,
    )
    assert (total["confirmed"], total["mislinked"], total["viewed"], total["resolved"]) == (9, 4, 2, 3)
    assert total["mislink_rate"] == round(4 * 100 / 430, 3) == 0.93


def test_agency_and_prefecture_roll_ups(world: CaseStore) -> None:
    report = build_monthly_report(world, SETTINGS, "2026-10", current=REPORT_DAY)
    kochi = row(report.agency, agency=KOCHI)
    assert (kochi["in_scope"], kochi["mislinked"], kochi["mislink_rate"]) == (150, 3, 2.0)
    assert kochi["main_cause"] == "家族の番号の可能性"

    pref = report.prefecture
    assert pref["prefecture"].to_list() == ["010006", "390003"]
    kochi_pref = row(pref, prefecture="390003")
    assert (kochi_pref["prefecture_name"], kochi_pref["agencies"]) == (
        "高知県",
        2,
    )  # 高知市 and 南国市 (未着手)
    assert (kochi_pref["in_scope"], kochi_pref["confirmed"], kochi_pref["mislinked"]) == (150, 8, 3)
    hokkaido = row(pref, prefecture="010006")
    assert (hokkaido["in_scope"], hokkaido["mislinked"], hokkaido["mislink_rate"]) == (280, 1, 0.357)
    # the roll-up adds up to the same total as the detailed level
    assert pref["in_scope"].sum() == report.agency_jimu["in_scope"].sum()


def test_a_prefecture_report_lists_its_bodies_that_have_not_started(world: CaseStore) -> None:
    report = build_monthly_report(world, SETTINGS, "2026-10", prefecture="39", current=REPORT_DAY)
    f = report.agency_jimu
    assert set(f["prefecture"].to_list()) == {"390003"}
    # every body of 高知県 (34 市町村 and the 県) × the 事務 the prefecture's bodies run
    assert f.height == 35 * 2
    assert row(f, agency="392022", jimu=KAIGO)["status"] == "未着手"  # 室戸市
    assert row(f, agency=KOCHI, jimu=KAIGO)["mislinked"] == 3


def test_a_closed_month_reproduces_exactly_after_later_work(world: CaseStore) -> None:
    before = build_monthly_report(world, SETTINGS, "2026-10", current=REPORT_DAY)
    # November: more staff work, a re-run of 照合 with different counts, a new case
    write(
        world,
        NOV,
        [
            moved(KOCHI, KAIGO, "k5", "紐付け誤り", outcome="紐付け誤り", viewed="有"),
            opened(KOCHI, KAIGO, "k11", "入力誤りの可能性"),
        ],
    )
    with world.writing() as conn:
        record_round(conn, figures(KOCHI, KAIGO, in_scope=101, out=9, a=91, b=6, c=4), phase=2, at=NOV)
        record_round(conn, figures(SAPPORO, JIDO, in_scope=80, out=5, a=75, b=3, c=2), phase=2, at=NOV)

    again = build_monthly_report(world, SETTINGS, "2026-10", current=datetime(2027, 2, 1, tzinfo=JST))
    for level in ("agency_jimu", "agency", "prefecture"):
        assert_frame_equal(getattr(again, level), getattr(before, level))

    november = build_monthly_report(world, SETTINGS, "2026-11", current=REPORT_DAY)
    assert not november.month_closed
    kochi_kaigo = row(november.agency_jimu, agency=KOCHI, jimu=KAIGO)
    assert (kochi_kaigo["in_scope"], kochi_kaigo["mislinked"], kochi_kaigo["viewed"]) == (101, 4, 2)
    assert row(november.agency_jimu, agency=SAPPORO, jimu=JIDO)["status"] == "確認作業終了"


def test_round_history_keeps_the_first_completion_date(world: CaseStore) -> None:
    with world.writing() as conn:
        record_round(conn, figures(KOCHI, KAIGO, in_scope=101, out=9, a=91, b=6, c=4), phase=2, at=NOV)
    with world.reading() as conn:
        rounds = rounds_as_of(conn, REPORT_DAY)
    kochi = row(rounds, agency=KOCHI, jimu=KAIGO)
    assert kochi["completed_at"] == stamp(SEPT) and kochi["in_scope"] == 101
    assert row(rounds, agency=SAPPORO, jimu=JIDO)["completed_at"] is None
    with pytest.raises(ValueError, match="phase"):
        record_round(conn, figures(KOCHI, KAIGO, in_scope=1, out=0), phase=3)


def test_history_cannot_be_rewritten(world: CaseStore) -> None:
    import sqlalchemy as sa

    with pytest.raises(sa.exc.DBAPIError, match="append-only"), world.writing() as conn:
        conn.execute(sa.text("UPDATE round_history SET in_scope = 0"))


def test_the_calendar_reports_a_13_month_old_round_overdue(store: CaseStore) -> None:
    old = datetime(2025, 10, 1, 12, 0, tzinfo=JST)
    with store.writing() as conn:
        record_round(conn, figures(KOCHI, KAIGO, in_scope=10, out=0, a=10), phase=PHASE_MATCHED, at=old)
        record_round(conn, figures(KOCHI, JIDO, in_scope=10, out=0, a=10), phase=PHASE_MATCHED, at=SEPT)
    write(store, old, [opened(KOCHI, KAIGO, "k1")])
    status = recheck_calendar(store, SETTINGS, today=datetime(2026, 11, 2).date())
    kaigo = row(status, agency=KOCHI, jimu=KAIGO)
    assert (kaigo["status"], str(kaigo["next_due"]), kaigo["open_cases"]) == ("期限超過", "2026-10-01", 1)
    assert row(status, agency=KOCHI, jimu=JIDO)["status"] == "予定どおり"
    assert row(status, agency=NANKOKU, jimu=KAIGO)["status"] == "未実施"
    six_months = parse_settings(
        {"recheck": {"plan": [{"agency": KOCHI, "jimu": JIDO, "interval_months": 6}]}}
    )
    shorter = recheck_calendar(store, six_months, today=datetime(2027, 3, 16).date())
    assert row(shorter, agency=KOCHI, jimu=JIDO)["status"] == "期限超過"


def test_a_new_round_in_phase_1_replaces_the_completed_one(world: CaseStore) -> None:
    with world.writing() as conn:
        new = figures(KOCHI, JIDO, in_scope=55, out=1) | {"round_id": "2027"}
        record_round(conn, new, phase=PHASE_REQUESTED, at=NOV)
    report = build_monthly_report(world, SETTINGS, "2026-11", current=REPORT_DAY)
    kochi_jido = row(report.agency_jimu, agency=KOCHI, jimu=JIDO)
    assert (kochi_jido["round_id"], kochi_jido["status"], kochi_jido["in_scope"]) == ("2027", "照会中", 55)
    assert kochi_jido["confirmed"] == 0  # the 2026 cases are not counted again


def test_only_b_and_c_cases_are_counted_and_open_means_not_yet_done(world: CaseStore) -> None:
    needs_fix = NewEvent(
        KOCHI,
        JIDO,
        "jr1",
        EventKind.OPENED,
        None,
        "未着手",
        {"round_id": (None, "2026"), "grade": (None, "要修正")},
        "tenken",
    )
    write(world, OCT, [needs_fix, moved(KOCHI, JIDO, "jr1", "本人の番号と確認", outcome="本人の番号")])
    report = build_monthly_report(world, SETTINGS, "2026-10", current=REPORT_DAY)
    assert row(report.agency_jimu, agency=KOCHI, jimu=JIDO)["confirmed"] == 3
    # an uncorrected 紐付け誤り keeps 高知市 × 介護保険 in 確認作業中 even with nothing else open
    write(
        world, NOV, [moved(KOCHI, KAIGO, f"k{i}", "完了", outcome="本人の番号") for i in (4, 5, 6, 8, 9, 10)]
    )
    write(world, NOV, [moved(KOCHI, KAIGO, "k2", "完了")])
    november = build_monthly_report(world, SETTINGS, "2026-11", current=REPORT_DAY)
    assert row(november.agency_jimu, agency=KOCHI, jimu=KAIGO)["status"] == "確認作業中"  # k1 is 紐付け誤り


def test_configured_names_and_bad_plan_codes() -> None:
    from pipelines.reporting.figures import CASE_SCHEMA, ROUND_SCHEMA, agency_jimu_figures
    from pipelines.reporting.monthly import ReportRequestError, expected_partitions

    expected = pl.DataFrame({"agency": ["398004"], "jimu": [KAIGO]})
    named = agency_jimu_figures(
        expected,
        pl.DataFrame(schema=ROUND_SCHEMA),
        pl.DataFrame(schema=CASE_SCHEMA),
        {},
        {"398004": "高知県後期高齢者医療広域連合"},
    )
    assert named["agency_name"].to_list() == ["高知県後期高齢者医療広域連合"]
    assert named["status"].to_list() == ["未着手"]

    typo = parse_settings({"recheck": {"plan": [{"agency": "392015", "jimu": KAIGO}]}})
    with pytest.raises(ReportRequestError, match=r"recheck\.plan.*392015"):
        expected_partitions(typo, pl.DataFrame(schema=ROUND_SCHEMA))


def test_prefecture_reports_keep_their_designated_cities() -> None:
    from pipelines.agencies import reporting_bodies

    kanagawa = reporting_bodies("140007")
    assert {"141305", "141500", "141003"} <= set(kanagawa)  # 川崎市, 相模原市, 横浜市
    assert "141313" not in kanagawa  # 川崎市川崎区 is a 行政区
    assert len(kanagawa) == 34  # 33 市町村 and the 県
    assert "131016" in reporting_bodies("130001")  # 千代田区: a 特別区 reports itself
    assert "401307" in reporting_bodies("400009")  # 福岡市
