"""The confirmation flow (manual 9.(2)) as declared in schemas.cases, applied to records."""

import pytest

from pipelines.cases.machine import closes_on_rematch, plan_move
from schemas.cases import STAFF_STATES, TRANSITIONS, CaseState

S = CaseState
STARTED = {"assignee": "山田", "method": "電話"}
DECIDED = {**STARTED, "confirmed_on": "2026-11-01", "reviewer": "佐藤"}
OWN = {**DECIDED, "outcome": "本人の番号"}
MISLINK = {**DECIDED, "outcome": "紐付け誤り"}
FIXED = {"correction": "番号を削除し再登録", "corrected_on": "2026-11-05", "auto_reply_block": "解除済"}

# (description, current, target, record, expected path)
ACCEPTED = [
    ("start", S.NOT_STARTED, S.CONFIRMING, STARTED, [S.CONFIRMING]),
    ("decide own number", S.CONFIRMING, S.OWN_NUMBER, OWN, [S.OWN_NUMBER]),
    ("own number at one sitting", S.NOT_STARTED, S.DONE, OWN, [S.CONFIRMING, S.OWN_NUMBER, S.DONE]),
    (
        "own number with 4情報 corrected goes through 是正済",
        S.CONFIRMING,
        S.DONE,
        {**OWN, **FIXED},
        [S.OWN_NUMBER, S.CORRECTED, S.DONE],
    ),
    ("mislink found", S.CONFIRMING, S.MISLINKED, {**MISLINK, "auto_reply_block": "設定済"}, [S.MISLINKED]),
    ("mislink corrected", S.MISLINKED, S.CORRECTED, {**MISLINK, **FIXED}, [S.CORRECTED]),
    (
        "mislink closed with both decisions",
        S.CORRECTED,
        S.DONE,
        {**MISLINK, **FIXED, "viewed": "無", "breach_report": "不要"},
        [S.DONE],
    ),
    (
        "unreachable stays open",
        S.CONFIRMING,
        S.UNREACHABLE,
        {**DECIDED, "outcome": "確認不能"},
        [S.UNREACHABLE],
    ),
    ("unreachable answered later", S.UNREACHABLE, S.OWN_NUMBER, OWN, [S.OWN_NUMBER]),
    ("notes only, state kept", S.CONFIRMING, S.CONFIRMING, {**STARTED, "note": "不在"}, []),
]


@pytest.mark.parametrize(
    ("description", "current", "target", "record", "path"), ACCEPTED, ids=[a[0] for a in ACCEPTED]
)
def test_moves_along_the_flow(description, current, target, record, path) -> None:
    move = plan_move(current, target, record)
    assert move.ok, move.findings
    assert list(move.path) == path


# (description, current, target, record, [(code, column, detail)])
REFUSED = [
    (
        "back to an earlier state",
        S.OWN_NUMBER,
        S.CONFIRMING,
        OWN,
        [("CASE_BACKWARD", "state", "現在「本人の番号と確認」→ 記入「確認中」")],
    ),
    (
        "after 完了 nothing moves",
        S.DONE,
        S.CORRECTED,
        {**OWN, **FIXED},
        [("CASE_BACKWARD", "state", "現在「完了」→ 記入「是正済」")],
    ),
    (
        "mislink is not the person's number",
        S.MISLINKED,
        S.OWN_NUMBER,
        OWN,
        [("CASE_TRANSITION", "state", "現在「紐付け誤り」から「本人の番号と確認」へは移れません")],
    ),
    (
        "start without a method",
        S.NOT_STARTED,
        S.CONFIRMING,
        {"assignee": "山田"},
        [("CASE_FIELD_REQUIRED", "method", "状態「確認中」には確認方法の記入が必要")],
    ),
    (
        "a decision needs a second person",
        S.CONFIRMING,
        S.OWN_NUMBER,
        {**STARTED, "outcome": "本人の番号", "confirmed_on": "2026-11-01"},
        [("CASE_FIELD_REQUIRED", "reviewer", "状態「本人の番号と確認」には確認者の記入が必要")],
    ),
    (
        "mislink cannot be closed before 閲覧 and 漏えい decisions",
        S.CORRECTED,
        S.DONE,
        {**MISLINK, **FIXED, "viewed": "未確認", "breach_report": "要"},
        [
            (
                "CASE_FIELD_REQUIRED",
                "viewed",
                "状態「完了」には閲覧有無の有・無 のいずれかが必要、確認結果が紐付け誤りの場合",
            ),
            (
                "CASE_FIELD_REQUIRED",
                "breach_report",
                "状態「完了」には漏えい等報告の不要・報告済 のいずれかが必要、確認結果が紐付け誤りの場合",
            ),
        ],
    ),
    (
        "not corrected while 自動応答不可 is still set",
        S.MISLINKED,
        S.CORRECTED,
        {**MISLINK, **FIXED, "auto_reply_block": "設定済"},
        [
            (
                "CASE_FIELD_REQUIRED",
                "auto_reply_block",
                "状態「是正済」には自動応答不可設定の空欄・未・解除済 のいずれかが必要",
            )
        ],
    ),
    (
        "mislink cannot skip 是正済",
        S.MISLINKED,
        S.DONE,
        {**MISLINK, "viewed": "無", "breach_report": "不要"},
        [
            ("CASE_FIELD_REQUIRED", "correction", "状態「是正済」には是正内容の記入が必要"),
            ("CASE_FIELD_REQUIRED", "corrected_on", "状態「是正済」には是正日の記入が必要"),
        ],
    ),
    (
        "clearing a required field while staying",
        S.OWN_NUMBER,
        S.OWN_NUMBER,
        {**OWN, "reviewer": ""},
        [("CASE_FIELD_REQUIRED", "reviewer", "状態「本人の番号と確認」には確認者の記入が必要")],
    ),
]


@pytest.mark.parametrize(
    ("description", "current", "target", "record", "findings"), REFUSED, ids=[r[0] for r in REFUSED]
)
def test_refused_moves_say_why(description, current, target, record, findings) -> None:
    move = plan_move(current, target, record)
    assert not move.ok
    assert [(f.code, f.field, f.detail) for f in move.findings] == findings


@pytest.mark.parametrize(
    ("state", "outcome", "closes"),
    [
        (S.NOT_STARTED, "", True),
        (S.CONFIRMING, "", True),
        (S.UNREACHABLE, "確認不能", True),
        (S.OWN_NUMBER, "本人の番号", True),
        (S.CORRECTED, "本人の番号", True),
        (S.MISLINKED, "紐付け誤り", False),  # 閲覧・漏えい decisions still owed
        (S.CORRECTED, "紐付け誤り", False),
        (S.DONE, "本人の番号", False),  # already closed by staff
        (S.REMATCHED, "", False),
    ],
)
def test_which_cases_close_themselves_on_rematch(state, outcome, closes) -> None:
    assert closes_on_rematch(state, outcome) is closes


def test_the_system_state_is_not_offered_to_staff() -> None:
    assert S.REMATCHED.value not in STAFF_STATES
    assert all(t.by == "system" for t in TRANSITIONS if S.REMATCHED in (t.source, t.target))
