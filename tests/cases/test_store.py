"""The case store on SQLite and PostgreSQL: migrations, merge on re-run, the audit chain."""

import os
import stat
import threading
from datetime import datetime, timedelta

import polars as pl
import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory

from pipelines.cases.audit import GENESIS, NewEvent, cases_as_of, check_anchors, events_frame, link_hash
from pipelines.cases.merge import merge_round
from pipelines.cases.store import MIGRATIONS, CaseStore, CaseUpdate, timestamp
from pipelines.cases.tables import case_events, cases, chain_head
from pipelines.clock import JST
from schemas.cases import CaseState
from tests.cases.factory import AGENCY, JIMU, candidates, graded

S = CaseState
FIRST = [
    {"inquiry_no": "0000000001", "grade": "C"},
    {"inquiry_no": "0000000002", "grade": "B"},
    {"inquiry_no": "0000000003", "grade": "B"},
    {"inquiry_no": "0000000004", "grade": "C"},
]


def merge(store: CaseStore, round_id: str, records: list[dict], also_a: list[dict] = ()) -> dict[str, int]:
    frame = candidates(round_id, records)
    return merge_round(store, AGENCY, JIMU, round_id, frame, graded(frame, also_a), source="照合 test")


def states(store: CaseStore, round_id: str = "2026") -> dict[str, str]:
    with store.reading() as conn:
        frame = store.cases_frame(conn, AGENCY, JIMU, round_id=round_id)
    return dict(zip(frame["case_id"], frame["state"], strict=True))


def set_state(store: CaseStore, case_id: str, state: S, **fields: object) -> None:
    """Move a case as an import would (events included), for setting up merge scenarios."""
    with store.writing() as conn:
        current = conn.execute(
            sa.select(cases.c.state).where(cases.c.case_id == case_id, cases.c.agency == AGENCY)
        ).scalar_one()
        at = timestamp()
        store.update_cases(conn, [CaseUpdate((AGENCY, JIMU, case_id), {"state": state.value, **fields})], at)
        changes = {k: (None, v) for k, v in fields.items()}
        store.append_events(
            conn,
            [NewEvent(AGENCY, JIMU, case_id, "状態変更", current, state.value, changes, "山田")],
            at=at,
            source="test",
        )


def newest_migration() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def test_store_is_created_migrated_and_private(backend, tmp_path) -> None:
    head = newest_migration()
    with backend.open() as store:
        assert store.revision == head
        with store.reading() as conn:
            names = set(sa.inspect(conn).get_table_names())
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == head
        assert {"cases", "case_events", "chain_head", "store_meta", "alembic_version"} <= names
    with backend.open() as again:  # opening an up-to-date store migrates nothing
        assert again.revision == head
    if backend.name == "sqlite":
        db = tmp_path / "store" / "cases.sqlite"
        assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(db.parent).st_mode) == 0o700


def test_events_are_append_only_in_the_database(store) -> None:
    merge(store, "2026", FIRST)
    for statement in (sa.update(case_events).values(actor="改ざん"), sa.delete(case_events)):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.writing() as conn:
            conn.execute(statement)
    assert store.verify().ok


def test_first_run_opens_a_case_per_record_and_a_rerun_changes_nothing(store) -> None:
    assert merge(store, "2026", FIRST)["新規"] == 4
    assert set(states(store).values()) == {S.NOT_STARTED.value}
    with store.reading() as conn:
        before = events_frame(conn)
    assert merge(store, "2026", FIRST) == {
        "新規": 0,
        "照合結果の更新": 0,
        "再照合で一致": 0,
        "再開": 0,
        "注記": 0,
    }
    with store.reading() as conn:
        assert events_frame(conn).equals(before)
        row = store.cases_frame(conn, AGENCY, JIMU).row(0, named=True)
    assert row["my_number_masked"] == "********9018"  # the store never holds the number itself


def test_rerun_keeps_staff_work_closes_matches_and_opens_new_cases(store) -> None:
    merge(store, "2026", FIRST)
    set_state(store, "2026-0000000001", S.CONFIRMING, assignee="山田", method="電話")
    set_state(store, "2026-0000000002", S.MISLINKED, assignee="山田", method="電話", outcome="紐付け誤り")
    # after corrections: 0001 and 0002 are A now, 0003 changed its comparison, 0005 is new,
    # 0004 left the extract
    second = [
        {"inquiry_no": "0000000003", "grade": "C", "grade_reason": "生年月日"},
        {"inquiry_no": "0000000005", "grade": "B"},
    ]
    counts = merge(store, "2026", second, also_a=FIRST[:2])
    assert counts == {"新規": 1, "照合結果の更新": 1, "再照合で一致": 1, "再開": 0, "注記": 2}
    assert states(store) == {
        "2026-0000000001": S.REMATCHED.value,
        "2026-0000000002": S.MISLINKED.value,  # its 閲覧・漏えい decisions are still owed
        "2026-0000000003": S.NOT_STARTED.value,
        "2026-0000000004": S.NOT_STARTED.value,  # never dropped
        "2026-0000000005": S.NOT_STARTED.value,
    }
    with store.reading() as conn:
        frame = store.cases_frame(conn, AGENCY, JIMU).sort("case_id")
    assert frame["assignee"].to_list()[:2] == ["山田", "山田"]
    assert frame.filter(pl.col("case_id") == "2026-0000000003")["grade"].item() == "C"
    assert frame["in_latest_match"].to_list() == [False, False, True, False, True]

    # the first case differs again: it reopens where it was
    merge(store, "2026", [FIRST[0], *second])
    assert states(store)["2026-0000000001"] == S.CONFIRMING.value
    assert store.verify().ok


def test_a_new_round_links_each_case_to_the_previous_outcome(store) -> None:
    merge(store, "2025", FIRST[:2])
    with store.writing() as conn:
        conn.execute(
            sa.update(cases).where(cases.c.case_id == "2025-0000000001").values(outcome="本人の番号")
        )  # set directly: this test is about the link, not the flow
    merge(store, "2026", [{"inquiry_no": "0000000007", "atena_no": "A0001", "grade": "C"}])
    with store.reading() as conn:
        new = store.cases_frame(conn, AGENCY, JIMU, round_id="2026").row(0, named=True)
    assert (new["previous_case_id"], new["previous_state"], new["previous_outcome"]) == (
        "2025-0000000001",
        S.NOT_STARTED.value,
        "本人の番号",
    )
    assert states(store, "2025") == {
        "2025-0000000001": S.NOT_STARTED.value,
        "2025-0000000002": S.NOT_STARTED.value,
    }


# (description, tampering statement(s) run with the append-only triggers dropped, expected text)
TAMPERING = [
    (
        "an event edited",
        "UPDATE case_events SET actor = '別人' WHERE seq = 2",
        "連番 2: 記録の内容がハッシュと合いません",
    ),
    ("an event removed", "DELETE FROM case_events WHERE seq = 2", "連番 2 の記録がありません"),
    (
        "the last event removed",
        "DELETE FROM case_events WHERE seq = 5",
        "最後の記録（連番 4）が先頭情報（連番 5）と合いません",
    ),
    (
        "a case edited without an event",
        "UPDATE cases SET state = '完了' WHERE case_id = '2026-0000000003'",
        "案件 2026-0000000003（392014 kaigo_hoken）の state が記録と合いません",
    ),
    ("a case deleted", "DELETE FROM cases WHERE case_id = '2026-0000000003'", "1 件が案件表にありません"),
]


@pytest.mark.parametrize(("description", "statement", "expected"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_verify_finds_tampering(backend, description, statement, expected) -> None:
    with backend.open() as store:
        merge(store, "2026", FIRST)
        set_state(store, "2026-0000000004", S.CONFIRMING, assignee="山田", method="電話")
        assert store.verify().ok
        with store.engine.begin() as conn:
            if backend.name == "postgresql":
                conn.execute(sa.text("ALTER TABLE case_events DISABLE TRIGGER USER"))
            else:
                conn.execute(sa.text("DROP TRIGGER case_events_no_update"))
                conn.execute(sa.text("DROP TRIGGER case_events_no_delete"))
            conn.execute(sa.text(statement))
        found = store.verify()
    assert not found.ok
    assert any(expected in p for p in found.problems), found.problems


def test_state_as_of_a_past_moment_comes_from_the_events(store) -> None:
    merge(store, "2026", FIRST)
    between = datetime.now(JST)
    set_state(store, "2026-0000000001", S.CONFIRMING, assignee="山田", method="電話")
    with store.reading() as conn:
        then = cases_as_of(conn, between)
        now = cases_as_of(conn, datetime.now(JST))
        before = cases_as_of(conn, between - timedelta(days=1))
    assert then.filter(pl.col("case_id") == "2026-0000000001")["state"].item() == S.NOT_STARTED.value
    assert now.filter(pl.col("case_id") == "2026-0000000001")["state"].item() == S.CONFIRMING.value
    assert now["grade"].to_list() == ["C", "B", "B", "C"]
    assert before.height == 0


def test_needs_fix_cases_follow_their_record(store) -> None:
    """要修正 cases (no 照会番号) close when the fixed row matches, and point to the case the
    fixed row opened when it does not."""
    needs_fix = [
        {"case_id": "2026-R0000005", "inquiry_no": None, "atena_no": "A0005", "grade": "要修正"},
        {"case_id": "2026-R0000006", "inquiry_no": None, "atena_no": "A0006", "grade": "要修正"},
    ]
    frame = candidates("2026", [{**r, "inquiry_no": "x"} for r in needs_fix]).with_columns(
        pl.Series("case_id", [r["case_id"] for r in needs_fix]), pl.lit(None, pl.String).alias("inquiry_no")
    )
    merge_round(store, AGENCY, JIMU, "2026", frame, graded(frame).filter(pl.lit(False)), source="照合 test")
    # the rows were fixed: A0005 now matches, A0006 was looked up and is B
    merge(
        store,
        "2026",
        [{"inquiry_no": "0000000006", "atena_no": "A0006", "grade": "B"}],
        also_a=[{"inquiry_no": "0000000005", "atena_no": "A0005"}],
    )
    assert states(store) == {
        "2026-0000000006": S.NOT_STARTED.value,
        "2026-R0000005": S.REMATCHED.value,
        "2026-R0000006": S.NOT_STARTED.value,
    }
    with store.reading() as conn:
        notes = events_frame(conn).filter(pl.col("kind") == "注記")["changes"].to_list()
    assert notes == [
        '{"in_latest_match":[true,false],"注記":[null,"要修正が解消され、照会済みの案件 2026-0000000006 に引き継がれました"]}'
    ]


def test_a_chain_rewritten_from_scratch_is_caught_by_the_heads_dagster_recorded(store) -> None:
    merge(store, "2026", FIRST)
    with store.reading() as conn:
        anchor = (*store.head(conn), "Dagster の実行 test")
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "postgresql":
            conn.execute(sa.text("ALTER TABLE case_events DISABLE TRIGGER USER"))
        else:
            conn.execute(sa.text("DROP TRIGGER case_events_no_update"))
        rows = [dict(r) for r in conn.execute(sa.select(case_events).order_by(case_events.c.seq)).mappings()]
        prev = GENESIS
        for row in rows:  # a forger who knows the scheme recomputes every link
            row["actor"] = "別人"
            row["prev_hash"] = prev
            row["hash"] = prev = link_hash(row)
            conn.execute(
                sa.update(case_events)
                .where(case_events.c.seq == row["seq"])
                .values(actor=row["actor"], prev_hash=row["prev_hash"], hash=row["hash"])
            )
        conn.execute(sa.update(chain_head).values(hash=prev))
    assert store.verify().ok  # the chain alone cannot tell
    with store.reading() as conn:
        assert check_anchors(conn, [anchor]) == [
            "Dagster の実行 test に記録された連番 4 のハッシュが監査ログと一致しません: 書き換えの疑い"
        ]


def test_the_audit_trail_holds_no_resident_data_in_clear(store) -> None:
    """Names, addresses, birth dates and the masked number stay out of the append-only events
    (keyed digests stand for them), so retention can erase them from cases later."""
    merge(store, "2026", FIRST)
    with store.reading() as conn:
        changes = "".join(events_frame(conn)["changes"])
        record = store.cases_frame(conn, AGENCY, JIMU).row(0, named=True)
    assert record["biz_name"] == "山田　太郎" and record["my_number_masked"] == "********9018"
    for value in ("山田", "太朗", "9018"):
        assert value not in changes
    assert '"biz_name":[null,"hmac:' in changes and '"grade_reason":[null,"氏名"]' in changes
    assert store.verify().ok


def test_processes_opening_a_new_store_at_once_all_succeed(backend) -> None:
    """Workers of a shared deployment start together on a database with no store yet: the
    schema (PostgreSQL) and the tables are created once, and no opener fails (a bare
    ``CREATE SCHEMA IF NOT EXISTS`` raced: a unique violation on pg_namespace)."""
    openers = 6
    start = threading.Barrier(openers)
    errors: list[BaseException] = []

    def open_once() -> None:
        start.wait()
        try:
            with backend.open() as opened:
                opened.verify()
        except BaseException as e:  # collected: the assertion below names them
            errors.append(e)

    threads = [threading.Thread(target=open_once) for _ in range(openers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
