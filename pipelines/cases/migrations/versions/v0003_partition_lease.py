"""Partition leases: one run per agency × 事務 at a time, whoever starts it.

A run of a partition (CLI, sensor, UI launch, a Celery worker's step) takes the lease of its
partition before it touches the partition's files; another run finds it taken and stops with
``PARTITION_BUSY``. The row is rewritten in place (it is a lock, not history).

Revision ID: v0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "v0003"
down_revision = "v0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partition_lease",
        sa.Column("partition_key", sa.String(80), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(200), nullable=False),
        sa.Column("acquired_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("partition_key", name="pk_partition_lease"),
    )


def downgrade() -> None:
    raise NotImplementedError("the case store is never downgraded (its history would be lost)")
