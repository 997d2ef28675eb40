"""Importing the F5 staff return: every rejection names its row, nothing is half-applied,
and the same file twice changes nothing the second time. Workbooks are edited with
openpyxl, the way Excel saves them."""

from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import sqlalchemy as sa

from pipelines.cases.audit import cases_as_of, events_frame
from pipelines.cases.importer import import_workbook, report_path
from pipelines.cases.merge import merge_round
from pipelines.cases.store import CaseStore
from pipelines.cases.tables import cases as cases_table
from pipelines.clock import JST
from pipelines.errors import TenkenInputError
from tests.cases.factory import AGENCY, JIMU, Sheet, candidates, export, graded

RECORDS = [
    {"inquiry_no": "0000000001", "grade": "C"},
    {"inquiry_no": "0000000002", "grade": "B"},
    {"inquiry_no": "0000000003", "grade": "B"},
]
C1, B2, B3 = (f"2026-{r['inquiry_no']}" for r in RECORDS)
DAY = date(2026, 11, 2)
OWN = {
    "状態": "本人の番号と確認",
    "担当者": "山田",
    "確認方法": "電話",
    "確認結果": "本人の番号",
    "確認日": DAY,
    "確認者": "佐藤",
}


@pytest.fixture()
def seeded(store: CaseStore) -> CaseStore:
    frame = candidates("2026", RECORDS)
    merge_round(store, AGENCY, JIMU, "2026", frame, graded(frame), source="照合 test")
    return store


def snapshot(store: CaseStore) -> tuple[pl.DataFrame, pl.DataFrame]:
    with store.reading() as conn:
        return store.cases_frame(conn, AGENCY, JIMU), events_frame(conn)


def refused(store: CaseStore, path: Path) -> list[str]:
    """Import ``path`` expecting refusal; the store must be exactly as before."""
    before = snapshot(store)
    with pytest.raises(TenkenInputError) as caught:
        import_workbook(store, path)
    after = snapshot(store)
    assert after[0].equals(before[0]) and after[1].equals(before[1])
    report = pl.read_csv(report_path(path), encoding="cp932", infer_schema=False)
    assert report["結果"][0] == "取り込みませんでした"
    assert set(report["コード"].drop_nulls()) == caught.value.codes
    return [p.render() for p in caught.value.problems]


def test_a_filled_workbook_is_applied_with_its_history(seeded, tmp_path: Path) -> None:
    sheet = Sheet(export(seeded, tmp_path / "f5.xlsx"))
    sheet.fill(C1, **OWN)
    sheet.fill(B2, 状態="確認中", 担当者="山田", 確認方法="郵送", 備考="11/2 発送")
    result = import_workbook(seeded, sheet.save())
    assert (result.applied, result.state_changes, result.unchanged) == (2, 2, 1)
    cases, events = snapshot(seeded)
    row = cases.filter(pl.col("case_id") == C1).row(0, named=True)
    assert (row["state"], row["outcome"], row["confirmed_on"], row["reviewer"]) == (
        "本人の番号と確認",
        "本人の番号",
        DAY,
        "佐藤",
    )
    moves = events.filter(pl.col("case_id") == C1).tail(2)
    assert moves.select("from_state", "to_state", "actor", "reviewer").rows() == [
        ("未着手", "確認中", "山田", "佐藤"),
        ("確認中", "本人の番号と確認", "山田", "佐藤"),
    ]
    assert moves["source"].to_list() == [str(tmp_path / "f5.xlsx")] * 2
    assert moves["source_sha256"].str.len_chars().to_list() == [64, 64]
    report = pl.read_csv(result.report, encoding="cp932", infer_schema=False)
    assert report.select("案件番号", "結果").rows() == [(C1, "適用"), (B2, "適用"), (B3, "変更なし")]
    assert seeded.verify().ok

    # the same file again: nothing changes, not even the audit trail
    again = import_workbook(seeded, tmp_path / "f5.xlsx")
    assert (again.applied, again.events) == (0, 0)
    assert snapshot(seeded)[1].equals(events)

    # the workbook written from the store carries what staff entered
    fresh = Sheet(export(seeded, tmp_path / "fresh.xlsx"))
    assert fresh.get(C1, "状態") == "本人の番号と確認"
    assert fresh.get(C1, "確認日") == datetime(2026, 11, 2)
    assert fresh.get(B2, "備考") == "11/2 発送"


def test_one_bad_row_refuses_the_whole_file(seeded, tmp_path: Path) -> None:
    sheet = Sheet(export(seeded, tmp_path / "f5.xlsx"))
    sheet.fill(C1, **OWN)
    bad = sheet.fill(B2, 状態="確認中", 担当者="山田", 確認方法="メール")
    messages = refused(seeded, sheet.save())
    report = pl.read_csv(report_path(tmp_path / "f5.xlsx"), encoding="cp932", infer_schema=False)
    assert report.select("行", "案件番号", "列", "結果").rows() == [
        (None, None, None, "取り込みませんでした"),
        (str(bad), B2, "確認方法", "却下"),
    ]
    assert messages == [
        f"ファイル「f5.xlsx」 {bad}行目 列「確認方法」: 一覧にない値です（「メール」。選べる値: 本人確認書類、電話、郵送、訪問、業務記録）。期待: 一覧から選んだ値 [CASE_VALUE_NOT_ALLOWED]"
    ]


TOMORROW = datetime.now(JST).date() + timedelta(days=1)

# (description, edit(sheet) -> None, expected messages with {row} = the edited row of B2)
REJECTIONS = [
    (
        "unknown case id",
        lambda s: s.fill(B2, 案件番号="2026-0000009999"),
        [
            "{row}行目 列「案件番号」: 案件番号が案件ストアにありません（2026-0000009999）。期待: この団体・事務の案件番号（行を追加したり案件番号を変更したりしない） [CASE_ID_UNKNOWN]"
        ],
    ),
    (
        "reviewer is the assignee",
        lambda s: s.fill(B2, **{**OWN, "担当者": "山田", "確認者": "山 田"}),
        [
            "{row}行目 列「確認者」: 確認者が担当者と同じです（山 田）。期待: 担当者とは別の人（二人で確認する） [CASE_REVIEWER_SAME]"
        ],
    ),
    (
        "future date",
        lambda s: s.fill(B2, **{**OWN, "確認日": TOMORROW}),
        [
            f"{{row}}行目 列「確認日」: 未来の日付です（{TOMORROW.isoformat()}）。期待: 今日以前の日付 [CASE_DATE_FUTURE]"
        ],
    ),
    (
        "not a date",
        lambda s: s.fill(B2, **{**OWN, "確認日": "先週"}),
        [
            "{row}行目 列「確認日」: 日付として読み取れません（先週）。期待: 2026/11/20 のような実在する日付 [CASE_DATE_FORMAT]"
        ],
    ),
    (
        "edited comparison column",
        lambda s: s.fill(B2, 住基_氏名="山田　太郎"),
        [
            "{row}行目 列「住基_氏名」: 読み取り専用の列（照合結果）が書き換えられています（住基_氏名）。期待: 書き出したときの値（灰色の列は変更しない） [CASE_READONLY_EDITED]"
        ],
    ),
    (
        "state skipped without what it needs",
        lambda s: s.fill(B2, 状態="完了", 担当者="山田", 確認方法="電話"),
        [
            "{row}行目 列「確認結果」: この状態に必要な記入がありません（状態「本人の番号と確認」には確認結果の本人の番号 のいずれかが必要）。期待: 説明シートの「状態ごとに必要な記入」 [CASE_FIELD_REQUIRED]",
            "{row}行目 列「確認日」: この状態に必要な記入がありません（状態「本人の番号と確認」には確認日の記入が必要）。期待: 説明シートの「状態ごとに必要な記入」 [CASE_FIELD_REQUIRED]",
            "{row}行目 列「確認者」: この状態に必要な記入がありません（状態「本人の番号と確認」には確認者の記入が必要）。期待: 説明シートの「状態ごとに必要な記入」 [CASE_FIELD_REQUIRED]",
        ],
    ),
    (
        "correction before confirmation",
        lambda s: s.fill(B2, **OWN, 是正内容="氏名を修正", 是正日=DAY - timedelta(days=1)),
        [
            "{row}行目 列「是正日」: 是正日が確認日より前です（確認日 2026-11-02、是正日 2026-11-01）。期待: 確認日と同じか後の是正日 [CASE_DATE_ORDER]"
        ],
    ),
    (
        "a 個人番号 typed into 備考",
        lambda s: s.fill(
            B2, 状態="確認中", 担当者="山田", 確認方法="電話", 備考="本人の番号は 1234 5678 9018 と申告"
        ),
        [
            "{row}行目 列「備考」: 個人番号のような12桁以上の数字が書かれています（区切り文字・全角を含む）（********9018）。期待: 個人番号を書かない記入（記録は消せない監査ログに残るため。番号は業務システムで確認する） [CASE_MYNUMBER_IN_TEXT]"
        ],
    ),
    (
        "a 個人番号 in full-width digits in 是正内容",
        lambda s: s.fill(B2, **OWN, 是正内容="番号を１２３４５６７８９０１８に訂正", 是正日=DAY),
        [
            "{row}行目 列「是正内容」: 個人番号のような12桁以上の数字が書かれています（区切り文字・全角を含む）（********9018）。期待: 個人番号を書かない記入（記録は消せない監査ログに残るため。番号は業務システムで確認する） [CASE_MYNUMBER_IN_TEXT]"
        ],
    ),
    (
        "a value the system sets",
        lambda s: s.fill(B2, 状態="再照合で一致"),
        [
            "{row}行目 列「状態」: 一覧にない値です（「再照合で一致」。選べる値: 未着手、確認中、確認不能、本人の番号と確認、紐付け誤り、是正済、完了）。期待: 一覧から選んだ値 [CASE_VALUE_NOT_ALLOWED]"
        ],
    ),
]


@pytest.mark.parametrize(("description", "edit", "expected"), REJECTIONS, ids=[r[0] for r in REJECTIONS])
def test_each_rejected_row_is_named_exactly(seeded, tmp_path: Path, description, edit, expected) -> None:
    sheet = Sheet(export(seeded, tmp_path / "f5.xlsx"))
    row = sheet.row[B2]
    edit(sheet)
    assert refused(seeded, sheet.save()) == [f"ファイル「f5.xlsx」 {m.format(row=row)}" for m in expected]


def test_duplicated_rows_are_refused(seeded, tmp_path: Path) -> None:
    sheet = Sheet(export(seeded, tmp_path / "f5.xlsx"))
    last = sheet.ws.max_row + 1
    for column in range(1, sheet.ws.max_column + 1):
        sheet.ws.cell(last, column, sheet.ws.cell(sheet.row[B3], column).value)
    messages = refused(seeded, sheet.save())
    assert messages == [
        f"ファイル「f5.xlsx」 {r}行目 列「案件番号」: 同じ案件番号の行が2つ以上あります（{B3}）。期待: 案件ごとに1行 [CASE_ID_DUPLICATE]"
        for r in (sheet.row[B3], last)
    ]


def test_going_backwards_and_changing_a_decision_are_refused(seeded, tmp_path: Path) -> None:
    first = Sheet(export(seeded, tmp_path / "f5.xlsx"))
    first.fill(B2, **OWN)
    import_workbook(seeded, first.save())
    sheet = Sheet(export(seeded, tmp_path / "next.xlsx"))
    row = sheet.fill(B2, 状態="確認中")
    assert refused(seeded, sheet.save()) == [
        f"ファイル「next.xlsx」 {row}行目 列「状態」: 状態を前に戻すことはできません（現在「本人の番号と確認」→ 記入「確認中」）。期待: 現在の状態か、それより先の状態 [CASE_BACKWARD]"
    ]
    sheet = Sheet(export(seeded, tmp_path / "other.xlsx"))
    row = sheet.fill(B2, 確認結果="紐付け誤り")
    assert refused(seeded, sheet.save()) == [
        f"ファイル「other.xlsx」 {row}行目 列「確認結果」: 確定した確認結果は変更できません（記入済み「本人の番号」→「紐付け誤り」）。期待: 記入済みの確認結果のまま（誤りなら管理者に相談） [CASE_OUTCOME_CHANGED]"
    ]


def test_two_copies_in_parallel_never_overwrite_each_other(seeded, tmp_path: Path) -> None:
    a = Sheet(export(seeded, tmp_path / "a.xlsx"))
    b = Sheet(export(seeded, tmp_path / "b.xlsx"))
    b.fill(B2, 状態="確認中", 担当者="佐藤", 確認方法="訪問")
    import_workbook(seeded, b.save())
    # copy a did not touch B2: its stale B2 row is skipped, its own work applies
    a.fill(B3, 状態="確認中", 担当者="山田", 確認方法="電話")
    result = import_workbook(seeded, a.save())
    assert result.applied == 1
    cases, _ = snapshot(seeded)
    assert cases.filter(pl.col("case_id") == B2)["assignee"].item() == "佐藤"
    # copy a editing B2 as well is refused: B2 changed after a was written
    row = a.fill(B2, 状態="確認中", 担当者="山田", 確認方法="電話")
    assert refused(seeded, a.save()) == [
        f"ファイル「a.xlsx」 {row}行目: 書き出した後に、この案件は別の取り込みか再照合で更新されています（現在の状態「確認中」）。期待: 最新の確認作業リスト（tenken cases export で書き出し直して記入） [CASE_STALE]"
    ]


def test_whole_file_problems(seeded, tmp_path: Path) -> None:
    plain = tmp_path / "plain.xlsx"
    openpyxl.Workbook().save(plain)
    assert refused(seeded, plain) == [
        "ファイル「plain.xlsx」: tenken の確認作業リストではありません（シート「確認作業リスト」か検証用の隠しシートがありません）。期待: 照合または tenken cases export で書き出した確認作業リスト [WORKBOOK_NOT_F5]"
    ]
    sheet = Sheet(export(seeded, tmp_path / "cut.xlsx"))
    sheet.ws.delete_cols(sheet.col["備考"])
    assert refused(seeded, sheet.save()) == [
        "ファイル「cut.xlsx」: 確認作業リストの列がありません（備考）。期待: 書き出したときのすべての列（列を削除しない） [WORKBOOK_COLUMN_MISSING]"
    ]
    with pytest.raises(TenkenInputError, match="WORKBOOK_PARTITION"):
        import_workbook(seeded, export(seeded, tmp_path / "ok.xlsx"), expected=("390003", JIMU))


def test_the_audit_trail_keeps_no_resident_value_and_no_free_text_in_clear(seeded, tmp_path: Path) -> None:
    """What staff write in their own words may name a resident: the append-only events keep a
    keyed digest of it (the case record keeps the text, for the workbook); states, staff names,
    dates and codes stay readable for the auditor, and the chain still verifies."""
    sheet = Sheet(export(seeded, tmp_path / "f5.xlsx"))
    sheet.fill(
        C1,
        **{**OWN, "状態": "是正済"},
        是正内容="高知　花子さんの氏名を修正",
        是正日=DAY,
        備考="妻の高知花子さんが電話に出た",
    )
    import_workbook(seeded, sheet.save())
    cases, events = snapshot(seeded)
    assert cases.filter(pl.col("case_id") == C1).select("correction", "note").row(0) == (
        "高知　花子さんの氏名を修正",
        "妻の高知花子さんが電話に出た",
    )
    trail = "".join(events["changes"]) + "".join(events["actor"]) + "".join(events["reviewer"].drop_nulls())
    for value in ("花子", "高知", "山田　太郎", "山田　太朗", "9018"):
        assert value not in "".join(events["changes"]), value
    assert '"note":[null,"hmac:' in trail and '"correction":[null,"hmac:' in trail
    assert '"outcome":[null,"本人の番号"]' in trail and '"confirmed_on":[null,"2026-11-02"]' in trail
    assert "山田" in trail and "佐藤" in trail  # who did it stays readable
    assert seeded.verify().ok
    # a note changed directly in the database (without an event) is still found
    with seeded.engine.begin() as conn:
        conn.execute(sa.update(cases_table).where(cases_table.c.case_id == C1).values(note="書き換え"))
    assert any("note" in p for p in seeded.verify().problems)


REPORT_COLUMNS = ["agency", "jimu", "round_id", "case_id", "state", "outcome", "viewed", "likely_cause"]


def test_cases_as_of_gives_what_the_monthly_report_counts(store: CaseStore, tmp_path: Path) -> None:
    """``cases_as_of``: every case as it stood at a moment, with the columns 定期報告 reads
    (閲覧有無 有/無/未確認 as entered, null until entered), from the events alone."""
    causes = ["家族の番号の可能性", "改姓の可能性", "入力誤りの可能性（氏名の1文字）"]
    frame = candidates("2026", [{**r, "likely_cause": c} for r, c in zip(RECORDS, causes, strict=True)])
    merge_round(store, AGENCY, JIMU, "2026", frame, graded(frame), source="照合 test")
    seeded = store
    before = datetime.now(JST)
    sheet = Sheet(export(seeded, tmp_path / "f5.xlsx"))
    sheet.fill(
        C1,
        **{**OWN, "確認結果": "紐付け誤り", "状態": "紐付け誤り"},
        自動応答不可設定="設定済",
        閲覧有無="有",
        漏えい等報告="要",
    )
    sheet.fill(B2, **OWN)
    import_workbook(seeded, sheet.save())
    with seeded.reading() as conn:
        now = cases_as_of(conn, datetime.now(JST), agency=AGENCY, jimu=JIMU).select(REPORT_COLUMNS)
        then = cases_as_of(conn, before).select(REPORT_COLUMNS)
        none = cases_as_of(conn, before - timedelta(days=1))
    assert now.schema == dict.fromkeys(REPORT_COLUMNS, pl.String)
    assert now.rows() == [
        (AGENCY, JIMU, "2026", C1, "紐付け誤り", "紐付け誤り", "有", causes[0]),
        (AGENCY, JIMU, "2026", B2, "本人の番号と確認", "本人の番号", None, causes[1]),
        (AGENCY, JIMU, "2026", B3, "未着手", None, None, causes[2]),
    ]
    assert then.select("state", "outcome", "viewed").rows() == [("未着手", None, None)] * 3
    assert none.height == 0
    with seeded.reading() as conn, pytest.raises(ValueError, match="note"):
        cases_as_of(conn, datetime.now(JST), fields=("note",))
