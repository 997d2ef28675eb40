"""One run per agency × 事務 partition at a time, however the run was started.

Dagster's ``tag_concurrency_limits`` (dagster.yaml) only hold runs back in the run queue; a
CLI run executes in its own process and never passes the queue, and a Celery worker runs
steps of runs that were launched elsewhere. So the rule is kept where every run meets it:
each partitioned step first takes its partition's **lease** in the case store (the one
database every process of an installation shares: a SQLite file on one PC, PostgreSQL in a
shared deployment).

A lease names the run holding it. A step takes it when the partition has no lease, when its
own run already holds it (the later steps of a run, wherever they execute), or when the
holding run is over — finished, failed, or closed as abandoned — as the caller's
``is_active`` tells from the Dagster instance. Otherwise the step stops with
``PARTITION_BUSY`` before it touches a file, naming the run that holds the partition. A lease
is released when its run ends (the CLI does it at once; for other runs the end of the run is
enough, because ``is_active`` then says so). A killed process therefore never blocks a
partition for good: once its run is marked failed (``tenken`` does so for its own dead runs,
Dagster's run monitoring for launched ones), its lease is free.

Taking a lease is one short write transaction (``BEGIN IMMEDIATE`` on SQLite; an insert that
conflicts, then ``SELECT … FOR UPDATE`` on PostgreSQL), so two simultaneous starts cannot both
win. No 個人番号 or resident data is involved: a lease holds a partition key, a run id, the
host and process that took it, and the time.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from pipelines.cases.store import CaseStore, timestamp
from pipelines.cases.tables import partition_lease

#: the catalogue code of a refusal (pipelines.errors)
CODE = "PARTITION_BUSY"


@dataclass(frozen=True)
class Lease:
    """Who holds a partition: the run, where it runs (``host pid N``) and since when (JST)."""

    partition_key: str
    run_id: str
    holder: str
    acquired_at: str


class PartitionBusy(Exception):
    """Another run holds the partition. Its text is safe to show and log (no personal data)."""

    def __init__(self, lease: Lease):
        self.lease = lease
        super().__init__(
            f"区分 {lease.partition_key} は別の実行（run {lease.run_id[:8]}、{lease.holder}、"
            f"{lease.acquired_at} 開始）が処理中です。同じ団体・事務の実行は同時に1つだけです。"
            f"終わってからもう一度実行してください [{CODE}]"
        )


def this_process() -> str:
    """How a lease names the process holding it."""
    return f"{socket.gethostname()} pid {os.getpid()}"


def _insert_if_absent(dialect: str, values: dict[str, str]) -> sa.Insert:
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(partition_lease).values(**values).on_conflict_do_nothing()


def take(
    store: CaseStore,
    partition_key: str,
    run_id: str,
    *,
    is_active: Callable[[str], bool],
    holder: str | None = None,
) -> Lease:
    """Take (or keep) the lease of ``partition_key`` for ``run_id``; PartitionBusy if another
    run that ``is_active`` holds it. Returns the lease now held."""
    mine = Lease(partition_key, run_id, holder or this_process(), timestamp())
    values = {
        "partition_key": mine.partition_key,
        "run_id": mine.run_id,
        "holder": mine.holder,
        "acquired_at": mine.acquired_at,
    }
    with store.engine.connect() as conn:
        conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            inserted = conn.execute(_insert_if_absent(conn.dialect.name, values))
            if inserted.rowcount == 1:
                return mine
            row = conn.execute(
                sa.select(partition_lease)
                .where(partition_lease.c.partition_key == partition_key)
                .with_for_update()
            ).one()
            current = Lease(row.partition_key, row.run_id, row.holder, row.acquired_at)
            if current.run_id == run_id:
                return current
            if is_active(current.run_id):
                raise PartitionBusy(current)
            conn.execute(
                sa.update(partition_lease)
                .where(partition_lease.c.partition_key == partition_key)
                .values(run_id=run_id, holder=mine.holder, acquired_at=mine.acquired_at)
            )
            return mine


def holder_of(store: CaseStore, partition_key: str) -> Lease | None:
    """The lease of ``partition_key`` as recorded (its run may be over)."""
    with store.reading() as conn:
        row = conn.execute(
            sa.select(partition_lease).where(partition_lease.c.partition_key == partition_key)
        ).one_or_none()
    return None if row is None else Lease(row.partition_key, row.run_id, row.holder, row.acquired_at)


def release(store: CaseStore, partition_key: str, run_id: str) -> bool:
    """Give the lease back if ``run_id`` holds it (never another run's). True if released."""
    with store.engine.connect() as conn, conn.begin():
        done = conn.execute(
            sa.delete(partition_lease).where(
                partition_lease.c.partition_key == partition_key, partition_lease.c.run_id == run_id
            )
        )
    return done.rowcount == 1
