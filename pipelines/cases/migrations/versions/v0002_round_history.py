"""Round history: the figures of each phase of each round, as recorded at the time.

The monthly 定期報告 of a past month must give the same numbers whenever it is made again,
so the figures of a round are never updated in place: every completed phase appends a row,
and a report as of a moment reads the last row recorded at or before it.

Revision ID: v0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "v0002"
down_revision = "v0001"
branch_labels = None
depends_on = None

_COUNTS = (
    "rows_read",
    "out_of_scope",
    "needs_fix",
    "in_scope",
    "grade_a",
    "grade_b",
    "grade_c",
    "not_inquired",
)


def upgrade() -> None:
    op.create_table(
        "round_history",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(6), nullable=False),
        sa.Column("jimu", sa.String(63), nullable=False),
        sa.Column("round_id", sa.String(20), nullable=False),
        sa.Column("phase", sa.Integer, nullable=False),
        *(sa.Column(name, sa.BigInteger, nullable=False) for name in _COUNTS),
        sa.Column("run_id", sa.String(64)),
        sa.PrimaryKeyConstraint("seq", name="pk_round_history"),
    )
    op.create_index("ix_round_history_agency_jimu", "round_history", ["agency", "jimu"])
    # like the case events: history is appended, never rewritten
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER round_history_append_only BEFORE UPDATE OR DELETE ON round_history "
            "FOR EACH ROW EXECUTE FUNCTION tenken_case_events_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER round_history_no_{action.lower()} BEFORE {action} ON round_history "
                "BEGIN SELECT RAISE(ABORT, 'round_history is append-only'); END"
            )


def downgrade() -> None:
    raise NotImplementedError("the case store is never downgraded (its history would be lost)")
