"""The bulk audit path gives byte for byte what the simple, one-event-at-a-time path gives.

The merge builds its 案件作成 events with polars (``initial_changes``), links them with
``chain_frame`` and writes them with ``COPY`` / ``executemany``; ``changes_text``, ``chain``
and ``link_hash`` are the reference (and what ``verify`` checks). These tests hold the two
together: the same changes text, digests, hashes, stored rows and stored cases, on awkward
values (quotes, backslashes, control characters, blanks, 外字-like text) and on both backends.
"""

from __future__ import annotations

import hmac
import json
import random
from hashlib import sha256
from typing import Any

import polars as pl
import sqlalchemy as sa

from pipelines.cases.audit import (
    NewEvent,
    chain,
    chain_frame,
    changes_text,
    digest,
    digest_columns,
    events_input,
    initial_changes,
    json_literal,
    keyed_digests,
    link_hash,
)
from pipelines.cases.merge import OPENED_FIELDS, merge_round
from pipelines.cases.store import CaseStore
from pipelines.cases.tables import RECORD_FIELDS, case_events, cases
from schemas.cases import SYSTEM_ACTOR, CaseState, EventKind
from tests.cases.factory import AGENCY, JIMU, candidates, graded

KEY = bytes(range(32))
AWKWARD = [
    "",
    'a"b',
    "back\\slash",
    "改行\nと\tタブ\r",
    "\x00\x01\x1f\x7f",
    "\u2028\u2029",
    "髙﨑　〓",
    "'single'",
    "\\N",
    "emoji 🎌",
    "{}[],:",
]


#: PostgreSQL text cannot hold NUL at all (whichever way it is inserted)
STORABLE = [a.replace("\x00", "") for a in AWKWARD]


def awkward_text(rng: random.Random, choices: list[str] = AWKWARD) -> str | None:
    if rng.random() < 0.2:
        return None
    return rng.choice(choices) + "".join(rng.choice(choices) for _ in range(rng.randint(0, 2)))


def test_keyed_digests_are_the_hmac_of_digest() -> None:
    values = ["1990-01-02", "山田　太郎", "********9018", *(a for a in AWKWARD if a)]
    for key in (KEY, b"k", bytes(100)):  # short, and longer than a SHA-256 block
        expected = [digest(key, v) for v in values]
        assert keyed_digests(key, values) == expected
        assert expected[0] == "hmac:" + hmac.new(key, b"1990-01-02", sha256).hexdigest()[:32]


def test_json_literal_is_json_dumps() -> None:
    rng = random.Random(7)
    values = [awkward_text(rng) for _ in range(500)]
    got = pl.select(json_literal(pl.Series(values, dtype=pl.String).to_frame("v").to_series())).to_series()
    assert got.to_list() == [json.dumps(v, ensure_ascii=False) for v in values]


def test_initial_changes_match_changes_text() -> None:
    rng = random.Random(11)
    n = 400
    text_fields = [f for f in OPENED_FIELDS if f not in ("priority", "in_latest_match")]
    frame = pl.DataFrame(
        {
            **{f: [awkward_text(rng) for _ in range(n)] for f in text_fields},
            "priority": [rng.choice([1, 3, None]) for _ in range(n)],
            "in_latest_match": [rng.choice([True, False, None]) for _ in range(n)],
        },
        schema={**dict.fromkeys(text_fields, pl.String), "priority": pl.Int64, "in_latest_match": pl.Boolean},
    )
    got = initial_changes(frame, OPENED_FIELDS, KEY)
    expected = [
        changes_text({f: (None, row[f]) for f in OPENED_FIELDS if row[f] is not None}, KEY)
        for row in frame.iter_rows(named=True)
    ]
    assert got["changes"].to_list() == expected
    assert got["changes_literal"].to_list() == [json.dumps(t, ensure_ascii=False) for t in expected]
    hashed = digest_columns(frame, ["biz_name", "juki_address"], KEY)
    assert hashed["biz_name"].to_list() == [digest(KEY, v) for v in frame["biz_name"]]


def test_chain_frame_matches_chain() -> None:
    rng = random.Random(3)
    events = [
        NewEvent(
            AGENCY,
            JIMU,
            f"2026-{i:010d}",
            rng.choice(list(EventKind)).value,
            rng.choice([None, *CaseState]),
            rng.choice([None, *CaseState]),
            {
                "biz_name": (awkward_text(rng), awkward_text(rng)),
                "note": (None, awkward_text(rng)),
                "priority": (1, 3),
            },
            rng.choice([SYSTEM_ACTOR, '山田"', "a\\b"]),
            rng.choice([None, "佐藤\n"]),
        )
        for i in range(300)
    ]
    for sha in (None, "ab" * 32):
        common: dict[str, Any] = {
            "head_seq": 41,
            "head_hash": "f" * 64,
            "at": "2026-11-23T10:00:00.000000+09:00",
            "recorded_by": 'ope"rator',
            "source": "C:\\returned\\確認作業リスト.xlsx",
            "source_sha256": sha,
        }
        expected = chain(events, key=KEY, **common)
        got = chain_frame(events_input(events, KEY), **common)
        assert got.to_dicts() == expected
        assert all(link_hash(row) == row["hash"] for row in expected)
    assert chain_frame(events_input([], KEY), **common).height == 0


def reference_opened(
    store: CaseStore, records: list[dict[str, Any]], stored: list[dict[str, Any]]
) -> list[dict]:
    """The 案件作成 events as the simple path makes them (one NewEvent per record, ``chain``)."""
    events = [
        NewEvent(
            AGENCY,
            JIMU,
            r["case_id"],
            EventKind.OPENED,
            None,
            r["state"],
            {f: (None, r[f]) for f in RECORD_FIELDS if f != "state" and r[f] is not None},
            SYSTEM_ACTOR,
        )
        for r in records
    ]
    first = stored[0]
    return chain(
        events,
        key=store.key,
        head_seq=first["seq"] - 1,
        head_hash=first["prev_hash"],
        at=first["at"],
        recorded_by=first["recorded_by"],
        source=first["source"],
        source_sha256=first["source_sha256"],
    )


def test_bulk_merge_stores_what_the_simple_path_stores(store: CaseStore) -> None:
    rng = random.Random(5)
    personal = [
        "biz_name",
        "juki_name",
        "biz_kana",
        "juki_address",
        "biz_birth_date",
        "likely_cause",
        "grade_reason",
    ]
    last = [
        {"inquiry_no": f"{i:010d}", "grade": "B", **{f: awkward_text(rng, STORABLE) or "x" for f in personal}}
        for i in range(1, 40)
    ]
    this = [
        {
            "inquiry_no": f"{i:010d}",
            "grade": rng.choice("BC"),
            **{f: awkward_text(rng, STORABLE) for f in personal if f != "grade_reason"},
            "grade_reason": awkward_text(rng, STORABLE) or "氏名",
        }
        for i in range(1, 80)
    ]
    for round_id, records in (("2025", last), ("2026", this)):
        frame = candidates(round_id, records)
        with store.reading() as conn:
            seq_before = store.head(conn)[0]
        merge_round(store, AGENCY, JIMU, round_id, frame, graded(frame), source="照合 test")
        with store.reading() as conn:
            stored_cases = [
                dict(r)
                for r in conn.execute(
                    sa.select(cases).where(cases.c.round_id == round_id).order_by(cases.c.case_id)
                ).mappings()
            ]
            stored_events = [
                dict(r)
                for r in conn.execute(
                    sa.select(case_events).where(case_events.c.seq > seq_before).order_by(case_events.c.seq)
                ).mappings()
            ]
            # the values are stored with the types sa.insert would give them
            types = conn.execute(
                sa.text(
                    "SELECT DISTINCT typeof(priority), typeof(in_latest_match), typeof(opened_at) FROM cases"
                )
                if store.engine.dialect.name == "sqlite"
                else sa.text("SELECT 1")
            ).all()
        if store.engine.dialect.name == "sqlite":
            assert types == [("integer", "integer", "text")]
        # the cases: what the simple path built per row (old plan_merge), in the store
        by_id = {c["case_id"]: c for c in stored_cases}
        assert len(by_id) == frame.height
        expected_records = []
        for row in frame.with_columns(pl.col("my_number").str.slice(-4)).iter_rows(named=True):
            stored = by_id[row["case_id"]]
            masked = "********" + row["my_number"] if row["my_number"] else ""
            record = {
                "agency": AGENCY,
                "jimu": JIMU,
                **{f: row.get(f) for f in stored if f in row and f != "my_number"},
                "my_number_masked": masked,
                **{f: stored[f] for f in ("previous_case_id", "previous_state", "previous_outcome")},
                "state": CaseState.NOT_STARTED.value,
                "in_latest_match": True,
                "state_before_rematch": None,
                "opened_at": stored_events[0]["at"],
                "updated_at": stored_events[0]["at"],
            }
            record |= {f: None for f in stored if f not in record}
            assert stored == record
            expected_records.append(record)
        if round_id == "2026":  # linked to the 2025 cases of the same 宛名番号
            assert {c["previous_case_id"] for c in stored_cases} - {None}
        # the events: same order, text, digests and hashes as the simple path
        order = [e["case_id"] for e in stored_events]
        records_in_order = sorted(expected_records, key=lambda r: order.index(r["case_id"]))
        assert stored_events == reference_opened(store, records_in_order, stored_events)
    found = store.verify()
    assert found.ok, found.problems
