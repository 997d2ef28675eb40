"""The first case store: cases, append-only hash-chained events, the chain head, store metadata.

Revision ID: v0001
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = "v0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64

# frozen here on purpose: a later change of the F5 columns is a new migration
_TEXT_FIELDS = (
    "grade",
    "grade_reason",
    "likely_cause",
    "likely_owner",
    "atena_no",
    "my_number_masked",
    "inquiry_no",
    "judgement_name",
    "judgement_kana",
    "judgement_birth_date",
    "judgement_sex",
    "judgement_municipality",
    "judgement_town",
    "biz_name",
    "juki_name",
    "biz_kana",
    "juki_kana",
    "biz_birth_date",
    "juki_birth_date",
    "biz_sex",
    "juki_sex",
    "biz_address",
    "juki_address",
    "previous_case_id",
    "previous_state",
    "previous_outcome",
)
_STAFF_TEXT = (
    "assignee",
    "method",
    "outcome",
    "auto_reply_block",
    "correction",
    "viewed",
    "breach_report",
    "reviewer",
    "note",
)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("agency", sa.String(6), primary_key=True),
        sa.Column("jimu", sa.String(63), primary_key=True),
        sa.Column("case_id", sa.String(40), primary_key=True),
        sa.Column("round_id", sa.String(20), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        *(sa.Column(name, sa.Text) for name in _TEXT_FIELDS),
        sa.Column("state", sa.String(20), nullable=False),
        *(sa.Column(name, sa.Text) for name in _STAFF_TEXT),
        sa.Column("confirmed_on", sa.Date),
        sa.Column("corrected_on", sa.Date),
        sa.Column("in_latest_match", sa.Boolean, nullable=False),
        sa.Column("state_before_rematch", sa.Text),
        sa.Column("opened_at", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("agency", "jimu", "case_id", name="pk_cases"),
    )
    op.create_index("ix_cases_agency_jimu_round_id", "cases", ["agency", "jimu", "round_id"])
    op.create_index("ix_cases_agency_jimu_atena_no", "cases", ["agency", "jimu", "atena_no"])

    op.create_table(
        "case_events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(6), nullable=False),
        sa.Column("jimu", sa.String(63), nullable=False),
        sa.Column("case_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("from_state", sa.String(20)),
        sa.Column("to_state", sa.String(20)),
        sa.Column("changes", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("reviewer", sa.Text),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.String(64)),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_case_events"),
    )
    op.create_index("ix_case_events_agency_jimu_case_id", "case_events", ["agency", "jimu", "case_id"])
    op.create_index("ix_case_events_at", "case_events", ["at"])

    chain_head = op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_chain_head"),
    )
    store_meta = op.create_table(
        "store_meta",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_store_meta"),
    )
    op.bulk_insert(chain_head, [{"id": 1, "seq": 0, "hash": GENESIS}])
    created = datetime.now(timezone(timedelta(hours=9))).isoformat(timespec="seconds")
    op.bulk_insert(
        store_meta,
        [
            {"key": "store_id", "value": str(uuid.uuid4())},
            # keys the check hashes of exported workbooks (a hidden sheet cannot simply be
            # recomputed by hand after editing a read-only column) and the digests that stand
            # for personal values in the audit trail (a birth date cannot be guessed back)
            {"key": "workbook_key", "value": secrets.token_hex(32)},
            {"key": "created_at", "value": created},
        ],
    )

    # the audit trail is append-only in the database itself, not only by convention
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION tenken_case_events_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'case_events is append-only'; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER case_events_append_only BEFORE UPDATE OR DELETE ON case_events "
            "FOR EACH ROW EXECUTE FUNCTION tenken_case_events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION tenken_case_events_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER case_events_no_{action.lower()} BEFORE {action} ON case_events "
                "BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END"
            )


def downgrade() -> None:
    raise NotImplementedError("the case store is never downgraded (its audit trail would be lost)")
