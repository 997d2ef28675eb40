"""The tables of the case store (SQLAlchemy Core), the same on SQLite and PostgreSQL.

``cases`` holds the current record of every case: the comparison as the latest 照合 saw it
(read-only in F5), the link to the previous round, the state and what staff entered. It is a
projection of ``case_events``: replaying the events gives it back exactly, which
``audit.verify`` checks. ``case_events`` is append-only (database triggers refuse UPDATE and
DELETE) and hash-chained; ``chain_head`` holds the last link and is the lock every writer
takes. ``round_history`` holds the figures of every completed phase of every round,
appended, so a past month's report reads what was known then. ``store_meta`` holds the
store's identity and the key of the workbook check hashes.

The schema changes only through a migration in ``migrations/versions``; this module is the
current shape the code reads and writes.
"""

from __future__ import annotations

import sqlalchemy as sa

from schemas.cases import CASE_STAFF_COLUMNS, HISTORY_COLUMNS
from schemas.mismatch_review import CASE_COLUMNS

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: the comparison of a case as the latest 照合 saw it (F5 read-only columns but the id)
SNAPSHOT_FIELDS: tuple[str, ...] = tuple(c for _, c in CASE_COLUMNS if c != "case_id")
HISTORY_FIELDS: tuple[str, ...] = tuple(c for _, c in HISTORY_COLUMNS)
#: what staff enter (F5 staff columns, the state first)
STAFF_FIELDS: tuple[str, ...] = tuple(c.name for c in CASE_STAFF_COLUMNS)
DATE_FIELDS: frozenset[str] = frozenset(c.name for c in CASE_STAFF_COLUMNS if c.is_date)
#: what identifies a resident in the comparison: kept in ``cases`` (for F5) but never in the
#: append-only events, which hold a keyed digest instead — so retention can erase these
#: from a closed case without breaking the audit chain
PERSONAL_FIELDS: frozenset[str] = frozenset(
    c for c in SNAPSHOT_FIELDS if c.startswith(("biz_", "juki_")) or c == "my_number_masked"
)
#: the text of a case that comes from the data (names, addresses, reasons): a number-like run
#: in it is masked before it reaches the store, F5 or an event, since a 住所 or 氏名 field may
#: hold a 個人番号 typed in the wrong place. Identifiers (宛名番号, 照会番号) are kept as they are:
#: staff need them to find the person in the business system.
MASKED_TEXT_FIELDS: tuple[str, ...] = tuple(
    c for c in SNAPSHOT_FIELDS if c.startswith(("biz_", "juki_")) or c in ("grade_reason", "likely_cause")
)
#: bookkeeping the pipeline keeps per case (replayed from events like the rest)
SYSTEM_FIELDS: tuple[str, ...] = ("in_latest_match", "state_before_rematch")
#: every field an event may change, in a fixed order
RECORD_FIELDS: tuple[str, ...] = (
    "round_id",
    *SNAPSHOT_FIELDS,
    *HISTORY_FIELDS,
    *STAFF_FIELDS,
    *SYSTEM_FIELDS,
)
KEY = ("agency", "jimu", "case_id")


def _field_column(name: str) -> sa.Column:
    if name == "priority":
        return sa.Column(name, sa.Integer, nullable=False)
    if name in DATE_FIELDS:
        return sa.Column(name, sa.Date)
    if name == "state":
        return sa.Column(name, sa.String(20), nullable=False)
    if name == "in_latest_match":
        return sa.Column(name, sa.Boolean, nullable=False)
    return sa.Column(name, sa.Text)


cases = sa.Table(
    "cases",
    metadata,
    sa.Column("agency", sa.String(6), primary_key=True),
    sa.Column("jimu", sa.String(63), primary_key=True),
    sa.Column("case_id", sa.String(40), primary_key=True),
    sa.Column("round_id", sa.String(20), nullable=False),
    *(_field_column(f) for f in RECORD_FIELDS if f != "round_id"),
    sa.Column("opened_at", sa.String(32), nullable=False),
    sa.Column("updated_at", sa.String(32), nullable=False),
    sa.Index(None, "agency", "jimu", "round_id"),
    sa.Index(None, "agency", "jimu", "atena_no"),
)

case_events = sa.Table(
    "case_events",
    metadata,
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
    sa.Index(None, "agency", "jimu", "case_id"),
    sa.Index(None, "at"),
)

chain_head = sa.Table(
    "chain_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

#: figures of 照合 rounds, one row per completed phase, appended (never updated)
ROUND_COUNTS: tuple[str, ...] = (
    "rows_read",
    "out_of_scope",
    "needs_fix",
    "in_scope",
    "grade_a",
    "grade_b",
    "grade_c",
    "not_inquired",
)

round_history = sa.Table(
    "round_history",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.Column("agency", sa.String(6), nullable=False),
    sa.Column("jimu", sa.String(63), nullable=False),
    sa.Column("round_id", sa.String(20), nullable=False),
    sa.Column("phase", sa.Integer, nullable=False),
    *(sa.Column(name, sa.BigInteger, nullable=False) for name in ROUND_COUNTS),
    sa.Column("run_id", sa.String(64)),
    sa.Index(None, "agency", "jimu"),
)

#: which run holds each agency × 事務 partition (pipelines/ops/partition_lease.py): a lock, not
#: history, so its rows are rewritten and deleted
partition_lease = sa.Table(
    "partition_lease",
    metadata,
    sa.Column("partition_key", sa.String(80), primary_key=True),
    sa.Column("run_id", sa.String(64), nullable=False),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("acquired_at", sa.String(32), nullable=False),
)

store_meta = sa.Table(
    "store_meta",
    metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
