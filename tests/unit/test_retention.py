"""保存期間: when a round is closed, what its purge deletes and keeps, and the deletion record.

A real home folder is laid out as the stages leave it; the Dagster instance and the case
store are replaced by what they would say (``RoundStatus``, ``WrittenFile``), which is all
the plan reads from them.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from pipelines.home import HomeLayout
from pipelines.ops import retention
from pipelines.ops.retention import RoundKey, RoundStatus, WrittenFile
from pipelines.privacy import write_private, write_private_parquet
from schemas.config import RetentionSettings

JST = ZoneInfo("Asia/Tokyo")
KEY = RoundKey("392014", "kaigo_hoken", "2026")
TODAY = date(2027, 3, 1)
NUMBER = b"123456789018"


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=JST)


@pytest.fixture()
def layout(tmp_path: Path) -> HomeLayout:
    """A home after both phases of KEY, laid out as the stages leave it."""
    lay = HomeLayout(tmp_path / "home")
    rd = lay.round_dir(*vars(KEY).values())
    write_private(
        rd / "request" / "request_392014_kaigo_hoken_2026_001.csv", b"0000000001," + NUMBER + b"\r\n"
    )
    write_private(rd / "request" / "manifest.json", b"{}")
    write_private(rd / "request" / "SHA256SUMS", b"x  request_392014_kaigo_hoken_2026_001.csv\n")
    write_private(
        rd / "result" / "照合結果.csv", "宛名番号,個人番号\r\nA1,".encode("cp932") + NUMBER + b"\r\n"
    )
    write_private(rd / "result" / "照合設定.json", b"{}")
    write_private(rd / "errors" / "抽出_誤り一覧.csv", "ファイル,行\r\nf1.csv,3\r\n".encode("cp932"))
    write_private_parquet(
        rd / "inquiry_numbers.parquet", pl.DataFrame({"atena_no": ["A1"], "inquiry_no": ["1"]})
    )
    write_private(rd / "notes.txt", b"someone's own file")
    write_private(
        lay.inbox / "392014" / "kaigo_hoken" / "2026" / "extract" / "f1.csv", b"h\r\n" + NUMBER + b"\r\n"
    )
    frame = pl.DataFrame({"round_id": ["2026"], "my_number": [NUMBER.decode()]})
    for asset in (*retention.STORE_ASSETS, "periodic_report"):
        write_private_parquet(lay.store / asset / "392014" / "kaigo_hoken.parquet", frame)
    return lay


@pytest.mark.parametrize(
    ("status", "settings", "verdict"),
    [
        (RoundStatus(KEY, at(date(2026, 11, 1))), RetentionSettings(days_after_close=90), retention.VERDICT_DUE),
        (RoundStatus(KEY, at(date(2027, 2, 1))), RetentionSettings(days_after_close=90), "保存（保存期間中: 2027-05-02 から削除）"),
        (RoundStatus(KEY, at(TODAY)), RetentionSettings(days_after_close=0), retention.VERDICT_DUE),
        (RoundStatus(KEY, None), RetentionSettings(days_after_close=0), "保存（第2段階（照合）が終わっていない）"),
        (RoundStatus(KEY, at(date(2026, 11, 1)), open_cases=3), RetentionSettings(days_after_close=0), "保存（確認中の案件が 3 件ある）"),
        # the round closes when its last case closed, not when 照合 ran
        (RoundStatus(KEY, at(date(2026, 11, 1)), 0, at(date(2027, 2, 20))), RetentionSettings(days_after_close=30), "保存（保存期間中: 2027-03-22 から削除）"),
        (RoundStatus(KEY, at(date(2026, 11, 1))), RetentionSettings(days_after_close=0, hold=[str(KEY)]), "保存（設定 retention.hold で保留中）"),
    ],
    ids=["due", "within period", "zero days", "phase 2 never ran", "open cases", "last case change", "held"],
)  # fmt: skip
def test_when_a_round_may_go(
    layout: HomeLayout, status: RoundStatus, settings: RetentionSettings, verdict: str
) -> None:
    [plan] = retention.plan(layout, [status], settings, TODAY)
    assert plan.verdict == verdict
    assert bool(plan.to_delete) == (verdict == retention.VERDICT_DUE)


def test_purge_deletes_what_holds_numbers_and_keeps_what_audit_needs(layout: HomeLayout) -> None:
    home = layout.home
    hashes = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in home.rglob("*") if p.is_file()}
    [plan] = retention.plan(layout, [RoundStatus(KEY, at(date(2026, 1, 1)))], RetentionSettings(), TODAY)
    outcome = retention.purge(
        layout, [plan], RetentionSettings(), now=at(TODAY), method="test", actor="監査 太郎"
    )

    left = sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())
    rd = "data/rounds/392014/kaigo_hoken/2026"
    assert left == sorted(
        [
            f"{rd}/request/manifest.json",
            f"{rd}/request/SHA256SUMS",
            f"{rd}/result/照合設定.json",
            f"{rd}/inquiry_numbers.parquet",
            f"{rd}/notes.txt",  # not tenken's: listed, never deleted
            "data/store/periodic_report/392014/kaigo_hoken.parquet",
            "data/audit/削除記録.csv",
        ]
    )
    assert not any(NUMBER in (home / p).read_bytes() for p in left if not p.endswith(".parquet"))
    assert not (layout.inbox / "392014").exists()  # the emptied inbox folders go too

    record = retention.read_record(layout)
    assert outcome.files == record.height == 9
    assert set(record["点検回"]) == {"2026"} and set(record["実行者"]) == {"監査 太郎"}
    by_file = {r["ファイル"]: r for r in record.iter_rows(named=True)}
    f4 = by_file[f"{rd}/result/照合結果.csv"]
    assert (f4["区分"], f4["行数"]) == ("照合結果（F4）", 1)
    assert f4["SHA-256"] == hashes[home / f"{rd}/result/照合結果.csv"]
    assert by_file[f"{rd}/request/request_392014_kaigo_hoken_2026_001.csv"]["行数"] == 1  # no header in F2
    assert by_file["data/store/match_result/392014/kaigo_hoken.parquet"]["行数"] == 1
    assert NUMBER.decode() not in record.write_csv()

    # a second purge finds nothing left and records nothing twice
    again = retention.plan(layout, [RoundStatus(KEY, at(date(2026, 1, 1)))], RetentionSettings(), TODAY)
    assert retention.purge(layout, again, RetentionSettings(), now=at(TODAY), method="test").files == 0
    assert retention.read_record(layout).height == 9


def test_store_outputs_of_a_later_round_are_not_this_rounds(layout: HomeLayout) -> None:
    later = pl.DataFrame({"round_id": ["2027"], "my_number": [NUMBER.decode()]})
    write_private_parquet(layout.store / "extract" / "392014" / "kaigo_hoken.parquet", later)
    [plan] = retention.plan(layout, [RoundStatus(KEY, at(date(2026, 1, 1)))], RetentionSettings(), TODAY)
    assert "段階の中間データ（extract）" not in {f.kind for f in plan.to_delete}


def test_files_written_outside_the_home_go_only_if_unchanged(layout: HomeLayout, tmp_path: Path) -> None:
    out = tmp_path / "住基へ持ち込む"
    kept = write_private(out / "request_392014_kaigo_hoken_2026_001.csv", b"0000000001," + NUMBER + b"\r\n")
    gone = write_private(out / "request_392014_kaigo_hoken_2026_002.csv", b"0000000002," + NUMBER + b"\r\n")
    f5 = write_private(tmp_path / "照合結果" / "確認作業リスト.xlsx", b"PK")
    written = {
        KEY: [
            WrittenFile(kept, "照会要求（F2）", "0" * 64),  # someone changed it since: not ours to delete
            WrittenFile(gone, "照会要求（F2）", hashlib.sha256(gone.read_bytes()).hexdigest()),
            WrittenFile(f5, "確認作業リスト（F5）"),
        ]
    }
    [plan] = retention.plan(
        layout, [RoundStatus(KEY, at(date(2026, 1, 1)))], RetentionSettings(), TODAY, written
    )
    retention.purge(layout, [plan], RetentionSettings(), now=at(TODAY), method="test")
    assert kept.exists() and not gone.exists() and not f5.exists()
    assert out.is_dir()  # the output folder is the office's; only tenken's files went
    assert str(gone) in set(retention.read_record(layout)["ファイル"])


def test_rounds_are_found_on_disk_without_any_record(layout: HomeLayout) -> None:
    [plan] = retention.plan(layout, [], RetentionSettings(days_after_close=0), TODAY + timedelta(days=1000))
    assert plan.status.key == KEY
    assert plan.verdict == "保存（第2段階（照合）が終わっていない）"


# ---- rounds abandoned after phase 1 --------------------------------------------------------

LATER = RoundKey("392014", "kaigo_hoken", "2027")
OTHER_JIMU = RoundKey("392014", "nanbyo", "2027")


def phase1_only(
    phase1: dict[RoundKey, datetime], phase2: dict[RoundKey, datetime] | None = None
) -> list[RoundStatus]:
    return retention.statuses(phase2 or {}, {}, phase1)


@pytest.mark.parametrize(
    ("phase1", "settings", "verdict", "closed"),
    [
        # asked 住基ネット two months ago, no answer yet: wait (and say until when)
        ({KEY: at(date(2027, 1, 1))}, RetentionSettings(days_after_close=30), "保存（第2段階（照合）待ち: 2028-01-01 までに照合がなければ放棄とみなす）", None),
        # a year without 照合: abandoned on 2027-01-01, then the usual period after it
        ({KEY: at(date(2026, 1, 1))}, RetentionSettings(days_after_close=90), "保存（照合されないまま放棄、保存期間中: 2027-04-01 から削除）", at(date(2027, 1, 1))),
        ({KEY: at(date(2025, 11, 1))}, RetentionSettings(days_after_close=90), retention.VERDICT_DUE, at(date(2026, 11, 1))),
        ({KEY: at(date(2026, 6, 1))}, RetentionSettings(days_after_close=0, abandoned_after_days=180), retention.VERDICT_DUE, at(date(2026, 11, 28))),
        # a later round of the same partition made its request: the old one is abandoned then
        ({KEY: at(date(2026, 10, 1)), LATER: at(date(2026, 12, 1))}, RetentionSettings(days_after_close=30), retention.VERDICT_DUE, at(date(2026, 12, 1))),
        ({KEY: at(date(2026, 10, 1)), LATER: at(date(2027, 2, 20))}, RetentionSettings(days_after_close=30), "保存（照合されないまま放棄、保存期間中: 2027-03-22 から削除）", at(date(2027, 2, 20))),
        # another 事務's round does not supersede it
        ({KEY: at(date(2026, 10, 1)), OTHER_JIMU: at(date(2026, 12, 1))}, RetentionSettings(days_after_close=0), "保存（第2段階（照合）待ち: 2027-10-01 までに照合がなければ放棄とみなす）", None),
        ({KEY: at(date(2025, 1, 1))}, RetentionSettings(days_after_close=0, hold=[str(KEY)]), "保存（設定 retention.hold で保留中）", at(date(2026, 1, 1))),
    ],
    ids=["waiting", "abandoned within period", "abandoned due", "shorter setting", "superseded due", "superseded within period", "other jimu", "held"],
)  # fmt: skip
def test_a_round_never_matched_is_abandoned_then_purged(
    layout: HomeLayout, phase1: dict, settings: RetentionSettings, verdict: str, closed: datetime | None
) -> None:
    plans = {p.status.key: p for p in retention.plan(layout, phase1_only(phase1), settings, TODAY)}
    plan = plans[KEY]
    assert (plan.verdict, plan.closed_at) == (verdict, closed)
    assert bool(plan.to_delete) == (verdict == retention.VERDICT_DUE)


def test_an_abandoned_round_loses_its_request_files_and_is_recorded(layout: HomeLayout) -> None:
    rd = layout.round_dir(*vars(KEY).values())
    for done in ("result/照合結果.csv", "result/照合設定.json"):  # phase 2 never ran
        (rd / done).unlink()
    statuses = phase1_only({KEY: at(date(2026, 10, 1)), LATER: at(date(2026, 11, 1))})
    plans = retention.plan(layout, statuses, RetentionSettings(days_after_close=30), TODAY)
    retention.purge(layout, plans, RetentionSettings(days_after_close=30), now=at(TODAY), method="test")
    assert not (rd / "request" / "request_392014_kaigo_hoken_2026_001.csv").exists()
    assert (rd / "request" / "manifest.json").exists()  # what was sent stays on record
    record = retention.read_record(layout)
    assert set(record["点検回"]) == {"2026"}
    assert set(record["点検回の終了日時"]) == {at(date(2026, 11, 1)).isoformat(timespec="seconds")}
    assert "照会要求（F2）" in set(record["区分"])


def test_a_matched_round_is_never_treated_as_abandoned(layout: HomeLayout) -> None:
    """Phase 2 completed, cases still open: a later round's request does not close it."""
    statuses = retention.statuses(
        {KEY: at(date(2026, 11, 1))},
        {KEY: retention.CaseActivity(open_cases=2, last_change_at=at(date(2027, 1, 5)))},
        {KEY: at(date(2026, 10, 1)), LATER: at(date(2027, 2, 1))},
    )
    plans = {
        p.status.key: p
        for p in retention.plan(layout, statuses, RetentionSettings(days_after_close=0), TODAY)
    }
    assert plans[KEY].verdict == "保存（確認中の案件が 2 件ある）" and plans[KEY].closed_at is None
