"""不一致確認 as case work: the states of a case and what each one requires, as data.

A case is one B, C or 要修正 record of one 点検回 (see ``schemas.mismatch_review``). Staff
move it through the confirmation flow of manual 9.(2) ①–⑦ by filling in the F5 workbook;
the import checks every move against the tables below, never against code.

The flow::

    未着手 → 確認中 → 本人の番号と確認 ─┬─────────→ 完了
                  │                    └→ 是正済 ─→ 完了
                  ├→ 紐付け誤り ──────────→ 是正済 ─→ 完了
                  └→ 確認不能 → 本人の番号と確認 | 紐付け誤り   (stays open until decided)

    any open case whose record matches again (A)  → 再照合で一致   (the system, on re-run)

The state is an explicit column of F5 (``状態``, the first column staff fill in) rather than
something guessed from the other columns: staff say "this is 完了" and the import checks that
the row holds everything 完了 needs, and says what is missing. Requirements belong to the
state a case moves into (``StateSpec.requires``), so a row that jumps several steps at once
(未着手 → 完了 in one sitting, confirmed from 業務記録) must satisfy every state on the way.

Choices where the manual leaves room (documented, tested):

* **Two-person check** (横断的ガイドライン): every decided state needs 担当者 and 確認者, and
  確認者 must be a different person (compared without spaces, NFKC).
* **紐付け誤り** cannot be 完了 before 閲覧有無 is known (有/無, not 未確認) and 漏えい等報告 is
  settled (不要 or 報告済: 要 means the report to 個人情報保護委員会 is still to be made).
* **是正済 / 完了** need 自動応答不可設定 not to be 設定済 (blank, 未 or 解除済): a number still
  blocked in 中間サーバ is not finished.
* **再照合で一致** is only for the system: when a re-run of 照合 finds the record A, an open
  case closes itself, unless the case was found to be a 紐付け誤り (its 閲覧・漏えい decisions
  are still owed; it stays open and the rematch is noted in its history). If the record
  differs again later, the case reopens in the state it had.
* A decided 確認結果 (本人の番号 / 紐付け誤り) is never changed by an import: reversing a
  two-person decision is not a spreadsheet edit.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import pandera.polars as pa

from schemas.mismatch_review import STAFF_COLUMNS, MismatchCases, StaffColumn


class CaseState(StrEnum):
    NOT_STARTED = "未着手"
    CONFIRMING = "確認中"
    UNREACHABLE = "確認不能"
    OWN_NUMBER = "本人の番号と確認"
    MISLINKED = "紐付け誤り"
    CORRECTED = "是正済"
    DONE = "完了"
    REMATCHED = "再照合で一致"


class Outcome(StrEnum):
    """確認結果 (F5): what the confirmation found."""

    OWN_NUMBER = "本人の番号"
    MISLINKED = "紐付け誤り"
    UNREACHABLE = "確認不能"


@dataclass(frozen=True)
class Requirement:
    """One thing a record must hold to be in a state.

    ``field`` is the code name of a staff column. With ``one_of`` empty the field must be
    filled in; otherwise its value must be one of ``one_of`` ("" stands for blank).
    ``only_if`` restricts the requirement to records whose ``(field, values)`` condition holds.
    """

    field: str
    one_of: tuple[str, ...] = ()
    only_if: tuple[str, tuple[str, ...]] | None = None

    def applies(self, record: dict[str, str]) -> bool:
        if self.only_if is None:
            return True
        field, values = self.only_if
        return record.get(field, "") in values

    def met(self, record: dict[str, str]) -> bool:
        value = record.get(self.field, "")
        return value in self.one_of if self.one_of else value != ""


@dataclass(frozen=True)
class StateSpec:
    state: CaseState
    is_open: bool
    stage: int  # progress through the flow; moving to a lower stage is going backwards
    requires: tuple[Requirement, ...]
    meaning: str  # Japanese, shown to staff in the workbook's 説明 sheet


@dataclass(frozen=True)
class Transition:
    source: CaseState
    target: CaseState
    by: Literal["staff", "system"]


_NOT_BLOCKED = Requirement("auto_reply_block", ("", "未", "解除済"))
_STARTED = (Requirement("assignee"), Requirement("method"))
_DECIDED = (*_STARTED, Requirement("confirmed_on"), Requirement("reviewer"))
_SETTLED_OUTCOME = Requirement("outcome", (Outcome.OWN_NUMBER.value, Outcome.MISLINKED.value))
_CORRECTED = (Requirement("correction"), Requirement("corrected_on"))
_IF_MISLINKED = ("outcome", (Outcome.MISLINKED.value,))

STATES: tuple[StateSpec, ...] = (
    StateSpec(CaseState.NOT_STARTED, True, 0, (), "まだ誰も確認していない"),
    StateSpec(CaseState.CONFIRMING, True, 1, _STARTED, "担当者が確認方法を決めて確認している"),
    StateSpec(
        CaseState.UNREACHABLE,
        True,
        2,
        (*_DECIDED, Requirement("outcome", (Outcome.UNREACHABLE.value,))),
        "本人に確認できなかった（未完了のまま残り、回答があれば判断を記入する）",
    ),
    StateSpec(
        CaseState.OWN_NUMBER,
        True,
        3,
        (*_DECIDED, Requirement("outcome", (Outcome.OWN_NUMBER.value,))),
        "登録されている番号は本人のものと確認した（基本4情報の修正が要るなら是正済へ）",
    ),
    StateSpec(
        CaseState.MISLINKED,
        True,
        3,
        (*_DECIDED, Requirement("outcome", (Outcome.MISLINKED.value,))),
        "別人の番号が紐付いていた（自動応答不可を設定し、是正する）",
    ),
    StateSpec(
        CaseState.CORRECTED,
        True,
        4,
        (*_DECIDED, _SETTLED_OUTCOME, *_CORRECTED, _NOT_BLOCKED),
        "業務システム・中間サーバを修正し、自動応答不可を解除した",
    ),
    StateSpec(
        CaseState.DONE,
        False,
        5,
        (
            *_DECIDED,
            _SETTLED_OUTCOME,
            _NOT_BLOCKED,
            *(Requirement(r.field, r.one_of, _IF_MISLINKED) for r in _CORRECTED),
            Requirement("viewed", ("有", "無"), _IF_MISLINKED),
            Requirement("breach_report", ("不要", "報告済"), _IF_MISLINKED),
        ),
        "確認と是正が終わった（紐付け誤りは閲覧有無と漏えい等報告の判断まで）",
    ),
    StateSpec(
        CaseState.REMATCHED,
        False,
        5,
        (),
        "再照合で一致した（業務データが修正され A になった）。システムが設定する",
    ),
)

_S = CaseState
TRANSITIONS: tuple[Transition, ...] = (
    Transition(_S.NOT_STARTED, _S.CONFIRMING, "staff"),
    Transition(_S.CONFIRMING, _S.OWN_NUMBER, "staff"),
    Transition(_S.CONFIRMING, _S.MISLINKED, "staff"),
    Transition(_S.CONFIRMING, _S.UNREACHABLE, "staff"),
    Transition(_S.UNREACHABLE, _S.OWN_NUMBER, "staff"),
    Transition(_S.UNREACHABLE, _S.MISLINKED, "staff"),
    Transition(_S.OWN_NUMBER, _S.CORRECTED, "staff"),
    Transition(_S.OWN_NUMBER, _S.DONE, "staff"),
    Transition(_S.MISLINKED, _S.CORRECTED, "staff"),
    Transition(_S.CORRECTED, _S.DONE, "staff"),
    # re-running 照合: a record that is A again closes its case, and reopens it if it differs
    # again; a case found to be a 紐付け誤り is never closed this way (see module docstring)
    *(
        Transition(s, _S.REMATCHED, "system")
        for s in (_S.NOT_STARTED, _S.CONFIRMING, _S.UNREACHABLE, _S.OWN_NUMBER, _S.CORRECTED)
    ),
    *(
        Transition(_S.REMATCHED, s, "system")
        for s in (_S.NOT_STARTED, _S.CONFIRMING, _S.UNREACHABLE, _S.OWN_NUMBER, _S.CORRECTED)
    ),
)

SPECS: dict[CaseState, StateSpec] = {s.state: s for s in STATES}
OPEN_STATES = tuple(s.state.value for s in STATES if s.is_open)
#: states staff may choose in F5 (再照合で一致 is set by the system only)
STAFF_STATES = tuple(
    s.value
    for s in CaseState
    if s is CaseState.NOT_STARTED or any(t.target is s and t.by == "staff" for t in TRANSITIONS)
)

#: the F5 column holding the state; staff fill it in first
STATE_COLUMN = StaffColumn("状態", "state", STAFF_STATES, width=14)
#: every column staff fill in, in workbook order
CASE_STAFF_COLUMNS: tuple[StaffColumn, ...] = (STATE_COLUMN, *STAFF_COLUMNS)
DATE_FIELDS = tuple(c.name for c in CASE_STAFF_COLUMNS if c.is_date)
#: a correction cannot happen before the confirmation it follows
DATE_ORDER: tuple[tuple[str, str], ...] = (("confirmed_on", "corrected_on"),)
#: decided outcomes are final (see module docstring)
FINAL_OUTCOMES = (Outcome.OWN_NUMBER.value, Outcome.MISLINKED.value)

#: read-only F5 columns the store adds to the comparison: the previous round's outcome
HISTORY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("前回点検の案件番号", "previous_case_id"),
    ("前回点検の状態", "previous_state"),
    ("前回点検の確認結果", "previous_outcome"),
)

#: the actor recorded for changes the pipeline makes (merge on re-run)
SYSTEM_ACTOR = "システム（再照合）"


class EventKind(StrEnum):
    """What an audit event records."""

    OPENED = "案件作成"
    RECORDED = "記入"
    MOVED = "状態変更"
    REMATCH_UPDATED = "照合結果の更新"
    REMATCHED = "再照合で一致"
    REOPENED = "再照合で不一致（再開）"
    NOTED = "注記"


def staff_column(code: str) -> StaffColumn:
    return next(c for c in CASE_STAFF_COLUMNS if c.name == code)


class ReviewedCases(MismatchCases):
    """The cases of a round as the store holds them after 照合 and staff work were merged.

    Grain: one row per case of the round, open or closed (a case is never dropped).
    """

    state: str = pa.Field(isin=[s.value for s in CaseState], description="状態")
    outcome: str | None = pa.Field(nullable=True, isin=[o.value for o in Outcome], description="確認結果")
    in_latest_match: bool = pa.Field(description="最新の照合でも B・C・要修正として残っている")
