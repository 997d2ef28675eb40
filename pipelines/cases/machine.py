"""The confirmation flow of ``schemas.cases`` applied to one case record.

A record is the staff fields as text (code names, "" for blank, dates as YYYY-MM-DD). A move
from the current state to the state staff entered is accepted when there is a path of staff
transitions to it and the record holds what every state on that path requires; the longest
such path is recorded (a row filled in at one sitting shows every step it went through).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from schemas.cases import (
    SPECS,
    TRANSITIONS,
    CaseState,
    Outcome,
    Requirement,
    staff_column,
)


@dataclass(frozen=True)
class Finding:
    """Why a move is refused: an error code, the staff column at fault (code name), details."""

    code: str
    field: str
    detail: str


@dataclass(frozen=True)
class Move:
    path: tuple[CaseState, ...]  # the states entered, in order; empty when the state stays
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.findings


@cache
def _staff_next() -> dict[CaseState, tuple[CaseState, ...]]:
    nxt: dict[CaseState, list[CaseState]] = {}
    for t in TRANSITIONS:
        if t.by == "staff":
            nxt.setdefault(t.source, []).append(t.target)
    return {k: tuple(v) for k, v in nxt.items()}


@cache
def paths(source: CaseState, target: CaseState) -> tuple[tuple[CaseState, ...], ...]:
    """Every simple path of staff transitions from ``source`` to ``target`` (states entered)."""
    found: list[tuple[CaseState, ...]] = []

    def walk(at: CaseState, taken: tuple[CaseState, ...]) -> None:
        for nxt in _staff_next().get(at, ()):
            if nxt in taken or nxt is source:
                continue
            if nxt is target:
                found.append((*taken, nxt))
            else:
                walk(nxt, (*taken, nxt))

    walk(source, ())
    return tuple(found)


def unmet(state: CaseState, record: dict[str, str]) -> list[Requirement]:
    return [r for r in SPECS[state].requires if r.applies(record) and not r.met(record)]


def _describe(state: CaseState, req: Requirement) -> str:
    if req.one_of:
        values = "・".join(v or "空欄" for v in req.one_of)
        need = f"{values} のいずれかが必要"
    else:
        need = "記入が必要"
    text = f"状態「{state.value}」には{staff_column(req.field).contract}の{need}"
    if req.only_if is not None:
        condition_field, condition_values = req.only_if
        text += f"、{staff_column(condition_field).contract}が{'・'.join(condition_values)}の場合"
    return text


def _required(path: tuple[CaseState, ...], record: dict[str, str]) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[str] = set()
    for state in path:
        for req in unmet(state, record):
            if req.field not in seen:
                seen.add(req.field)
                findings.append(Finding("CASE_FIELD_REQUIRED", req.field, _describe(state, req)))
    return findings


def plan_move(current: CaseState, target: CaseState, record: dict[str, str]) -> Move:
    """The path from ``current`` to ``target`` for this record, or why there is none."""
    if target is current:
        return Move((), tuple(_required((current,), record)))
    if SPECS[target].stage < SPECS[current].stage:
        return Move(
            (),
            (Finding("CASE_BACKWARD", "state", f"現在「{current.value}」→ 記入「{target.value}」"),),
        )
    candidates = paths(current, target)
    if not candidates:
        return Move(
            (),
            (
                Finding(
                    "CASE_TRANSITION", "state", f"現在「{current.value}」から「{target.value}」へは移れません"
                ),
            ),
        )
    scored = [(p, _required(p, record)) for p in candidates]
    satisfied = [p for p, missing in scored if not missing]
    if satisfied:
        return Move(max(satisfied, key=len))
    _, fewest = min(scored, key=lambda pm: (len(pm[1]), len(pm[0])))
    return Move((), tuple(fewest))


def closes_on_rematch(state: CaseState, outcome: str) -> bool:
    """Whether a case closes itself when its record is A again (never after 紐付け誤り)."""
    return outcome != Outcome.MISLINKED.value and any(
        t.by == "system" and t.source is state and t.target is CaseState.REMATCHED for t in TRANSITIONS
    )
