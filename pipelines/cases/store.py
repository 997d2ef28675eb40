"""Opening the case store and reading/writing it in transactions.

One store per installation: a SQLite file in the tenken home by default (created 0600 in a
0700 folder, like every file that holds personal data), or a PostgreSQL database for a
shared deployment (``cases.url`` in tenken.yaml). The schema is brought up to date by the
Alembic migrations in ``migrations/versions`` each time the store is opened.

Writers are serialised: a write transaction first takes the chain-head row (``FOR UPDATE``
on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so the hash chain never forks and a merge
and an import never interleave. Everything a merge or an import changes is written in one
transaction: a process killed half-way leaves the store exactly as it was.

The store keeps no 個人番号: a case shows the masked form (last 4 digits) only.
"""

from __future__ import annotations

import contextlib
import getpass
import io
import itertools
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from pipelines.cases.audit import NewEvent, Verification, chain_frame, events_input, stamp, verify
from pipelines.cases.tables import KEY, RECORD_FIELDS, case_events, cases, chain_head, metadata, store_meta
from pipelines.clock import now
from pipelines.privacy import FILE_MODE, private_dir
from schemas.config import CaseStoreSettings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
#: key of the PostgreSQL advisory lock two processes migrating at once queue on
_MIGRATION_LOCK = 0x7E4E_C45E


def store_url(settings: CaseStoreSettings, home: Path) -> str:
    """The SQLAlchemy URL of the store: ``cases.url``, else the SQLite file in the home."""
    if settings.url:
        return settings.url
    path = Path(settings.sqlite_file)
    return f"sqlite:///{path if path.is_absolute() else home / path}"


def describe(url: str) -> str:
    """The URL for messages: never the password."""
    return sa.make_url(url).render_as_string(hide_password=True)


def _create_private_sqlite(url: sa.URL) -> None:
    if not url.database or url.database == ":memory:":
        return
    path = Path(url.database)
    private_dir(path.parent)
    if not path.exists():
        # an empty file is an empty SQLite database; creating it ourselves fixes its mode
        # (SQLite gives its journal and WAL files the database file's mode)
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
        os.close(fd)
    os.chmod(path, FILE_MODE)


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    _create_private_sqlite(url)
    engine = sa.create_engine(url, connect_args={"timeout": 60})

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # let SQLAlchemy, not the driver, emit BEGIN, so writers can ask for IMMEDIATE
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _postgres_engine(url: sa.URL, pg_schema: str | None) -> sa.Engine:
    connect_args = {"options": f"-c search_path={pg_schema}"} if pg_schema else {}
    # psycopg2 sends an executemany UPDATE row by row unless told to batch it
    engine = sa.create_engine(
        url, connect_args=connect_args, pool_pre_ping=True, executemany_mode="values_plus_batch"
    )
    if pg_schema:
        with engine.begin() as conn:
            # "IF NOT EXISTS" is not safe against a second process creating it at the same
            # moment (a unique violation on pg_namespace, seen with two Celery workers
            # starting): the creators queue on the migration lock, held to the commit
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{pg_schema}"'))
    return engine


def migrate(engine: sa.Engine) -> str:
    """Bring the schema to the newest migration; returns the revision now in place."""
    # imported here: alembic (with mako and pygments) costs ~0.3 s of start-up in every
    # process that imports the pipelines, and only one that opens the case store needs it
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    head = script.get_current_head()
    assert head is not None
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        conn.rollback()
        if current == head:
            return head
        conn.execution_options(sqlite_begin="IMMEDIATE")
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
            # the same step list alembic.command.upgrade builds; run without an env.py so the
            # migrations folder imports cleanly and the caller's transaction is the one used
            with EnvironmentContext(
                config,
                script,
                fn=lambda rev, _ctx: script._upgrade_revs(head, rev),
                destination_rev=head,
            ) as env:
                env.configure(connection=conn, target_metadata=metadata)
                env.run_migrations()
    return head


def _recorded_by() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


_FRAME_TYPES: dict[str, pl.DataType] = {
    "priority": pl.Int64(),
    "confirmed_on": pl.Date(),
    "corrected_on": pl.Date(),
    "in_latest_match": pl.Boolean(),
}
CASE_COLUMNS_IN_ORDER: tuple[str, ...] = tuple(c.name for c in cases.columns)
CASE_FRAME_SCHEMA: dict[str, pl.DataType] = {
    c: _FRAME_TYPES.get(c, pl.String()) for c in CASE_COLUMNS_IN_ORDER
}


@dataclass(frozen=True)
class CaseUpdate:
    """New values for some fields of one existing case."""

    key: tuple[str, str, str]
    values: Mapping[str, Any]


class CaseStore:
    """The case store of one installation. Use as a context manager (``with CaseStore.open(...)``)."""

    def __init__(self, engine: sa.Engine, url: str):
        self.engine = engine
        self.url = url
        self.revision = migrate(engine)
        with self.reading() as conn:
            #: keys the workbook check hashes and the digests of personal values in events
            self.key = bytes.fromhex(self.meta(conn, "workbook_key"))

    @classmethod
    def open(cls, url: str, *, pg_schema: str | None = None) -> CaseStore:
        parsed = sa.make_url(url)
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed)
        else:
            engine = _postgres_engine(parsed, pg_schema)
        try:
            return cls(engine, url)
        except BaseException:
            engine.dispose()
            raise

    @classmethod
    def for_settings(cls, settings: CaseStoreSettings, home: Path) -> CaseStore:
        return cls.open(store_url(settings, home), pg_schema=settings.pg_schema)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> CaseStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # transactions ------------------------------------------------------------------------

    @contextlib.contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        """A consistent read-only view (one transaction)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def writing(self) -> Iterator[sa.Connection]:
        """One write transaction, holding the writers' lock; committed only if the block ends."""
        with self.engine.connect() as conn:
            conn.execution_options(sqlite_begin="IMMEDIATE")
            with conn.begin():
                conn.execute(sa.select(chain_head.c.seq).where(chain_head.c.id == 1).with_for_update())
                yield conn

    # reads -------------------------------------------------------------------------------

    def meta(self, conn: sa.Connection, key: str) -> str:
        return conn.execute(sa.select(store_meta.c.value).where(store_meta.c.key == key)).scalar_one()

    def cases_frame(
        self,
        conn: sa.Connection,
        agency: str,
        jimu: str,
        *,
        round_id: str | None = None,
        exclude_round: str | None = None,
    ) -> pl.DataFrame:
        """The case records of one agency × 事務 (optionally one round, or all but one)."""
        query = sa.select(cases).where(cases.c.agency == agency, cases.c.jimu == jimu)
        if round_id is not None:
            query = query.where(cases.c.round_id == round_id)
        if exclude_round is not None:
            query = query.where(cases.c.round_id != exclude_round)
        return frame_of(conn, query.order_by(cases.c.case_id), CASE_FRAME_SCHEMA)

    def counts(self, conn: sa.Connection, agency: str | None = None, jimu: str | None = None) -> pl.DataFrame:
        """Cases per agency × 事務 × 点検回 × state (grain: one row per combination)."""
        query = sa.select(
            cases.c.agency, cases.c.jimu, cases.c.round_id, cases.c.state, sa.func.count().label("count")
        ).group_by(cases.c.agency, cases.c.jimu, cases.c.round_id, cases.c.state)
        if agency:
            query = query.where(cases.c.agency == agency)
        if jimu:
            query = query.where(cases.c.jimu == jimu)
        rows = conn.execute(query).all()
        schema = {"agency": pl.String, "jimu": pl.String, "round_id": pl.String, "state": pl.String}
        return pl.DataFrame(
            [tuple(r) for r in rows], schema={**schema, "count": pl.Int64}, orient="row"
        ).sort("agency", "jimu", "round_id", "state")

    def head(self, conn: sa.Connection) -> tuple[int, str]:
        row = conn.execute(sa.select(chain_head.c.seq, chain_head.c.hash)).one()
        return int(row.seq), str(row.hash)

    def verify(self) -> Verification:
        with self.reading() as conn:
            return verify(conn, self.key)

    # writes (inside ``writing``) ---------------------------------------------------------

    def insert_cases(self, conn: sa.Connection, records: pl.DataFrame | Sequence[Mapping[str, Any]]) -> None:
        """New case records: a frame with every column of ``cases`` (or a list of mappings)."""
        if isinstance(records, pl.DataFrame):
            bulk_insert(conn, cases, records)
        elif records:
            conn.execute(sa.insert(cases), list(records))

    def refresh_statistics(self, conn: sa.Connection) -> None:
        """After many new cases: let PostgreSQL's planner know the tables grew. Without fresh
        statistics it may look a case up through the (agency, 事務) prefix of another index,
        scanning the whole partition for every row an import updates."""
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("ANALYZE cases"))
            conn.execute(sa.text("ANALYZE case_events"))

    def update_cases(self, conn: sa.Connection, updates: Sequence[CaseUpdate], at: str) -> None:
        """Executemany per set of changed fields (few distinct sets per merge or import)."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for u in updates:
            fields = tuple(sorted(u.values))
            unknown = set(fields) - set(RECORD_FIELDS)
            if unknown:
                raise ValueError(f"not a case field: {sorted(unknown)}")
            params = {f"k_{k}": v for k, v in zip(KEY, u.key, strict=True)}
            params.update({f"v_{f}": u.values[f] for f in fields})
            groups.setdefault(fields, []).append(params)
        for fields, batch in groups.items():
            statement = (
                sa.update(cases)
                .where(*(cases.c[k] == sa.bindparam(f"k_{k}") for k in KEY))
                .values({f: sa.bindparam(f"v_{f}") for f in fields} | {"updated_at": at})
            )
            conn.execute(statement, batch)

    def append_events(
        self,
        conn: sa.Connection,
        events: Sequence[NewEvent] | pl.DataFrame,
        *,
        at: str,
        source: str,
        source_sha256: str | None = None,
        recorded_by: str | None = None,
    ) -> int:
        """Link ``events`` after the chain head and store them. Returns how many were written.

        ``events`` are ``NewEvent``s, or a frame of ``audit.EVENT_INPUT_COLUMNS`` whose
        ``changes`` are already canonical JSON (``audit.initial_changes_text`` in bulk)."""
        frame = events if isinstance(events, pl.DataFrame) else events_input(events, self.key)
        if frame.height == 0:
            return 0
        seq, prev = self.head(conn)
        rows = chain_frame(
            frame,
            head_seq=seq,
            head_hash=prev,
            at=at,
            recorded_by=recorded_by or _recorded_by(),
            source=source,
            source_sha256=source_sha256,
        )
        bulk_insert(conn, case_events, rows)
        last_seq, last_hash = rows.row(-1, named=True)["seq"], rows.row(-1, named=True)["hash"]
        conn.execute(sa.update(chain_head).where(chain_head.c.id == 1).values(seq=last_seq, hash=last_hash))
        return rows.height


def frame_of(conn: sa.Connection, query: sa.Select, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """The rows of ``query`` as a frame of ``schema``, fetched as the driver's own tuples.

    A case read is 77k rows × 47 columns at 1M records: SQLAlchemy's Row objects and their
    result processing cost a third of the read (1.37 → 0.92 s each, measured), and nothing in
    these columns needs them (text, integers, 0/1 flags that polars casts).
    """
    compiled = query.compile(dialect=conn.dialect)
    params: Any = compiled.params
    if compiled.positiontup is not None:  # qmark/numeric drivers (sqlite3) take a sequence
        params = tuple(compiled.params[name] for name in compiled.positiontup)
    cursor = conn.exec_driver_sql(str(compiled), params).cursor
    assert cursor is not None
    rows = cursor.fetchall()
    if conn.dialect.name != "sqlite":
        return pl.DataFrame(rows, schema=dict(schema), orient="row")
    # SQLite keeps a DATE as its ISO text (what SQLAlchemy's Date writes there)
    dates = [name for name, dtype in schema.items() if dtype == pl.Date]
    raw = {name: (pl.String() if name in dates else dtype) for name, dtype in schema.items()}
    frame = pl.DataFrame(rows, schema=raw, orient="row")
    return frame.with_columns(pl.col(dates).str.to_date("%Y-%m-%d"))


def timestamp() -> str:
    return stamp(now())


def bulk_insert(conn: sa.Connection, table: sa.Table, frame: pl.DataFrame) -> None:
    """Insert every row of ``frame`` (one column per column of ``table``) in the connection's
    transaction, without a Python dict per row: ``COPY`` on PostgreSQL, the driver's
    ``executemany`` over tuples on SQLite. Stores what ``sa.insert`` would: text, integers,
    booleans (SQLite 1/0), nulls; date columns must be null or ISO text."""
    if frame.height == 0:
        return
    names = [c.name for c in table.columns]
    frame = frame.select(names)
    quote = conn.dialect.identifier_preparer.quote
    columns = ", ".join(quote(n) for n in names)
    dialect = conn.dialect.name
    if dialect not in ("postgresql", "sqlite"):
        conn.execute(sa.insert(table), frame.to_dicts())
        return
    driver: Any = conn.connection.dbapi_connection  # the transaction SQLAlchemy began
    cursor = driver.cursor()
    try:
        if dialect == "postgresql":
            # CSV with every text quoted: an unquoted \N is null, "" an empty text
            data: io.IOBase
            if driver.encoding in ("UTF8", "UNICODE"):  # polars writes UTF-8: hand it over as is
                data = io.BytesIO()
                frame.write_csv(data, include_header=False, null_value="\\N", quote_style="non_numeric")
                data.seek(0)
            else:
                data = io.StringIO(
                    frame.write_csv(include_header=False, null_value="\\N", quote_style="non_numeric")
                )
            cursor.copy_expert(
                f"COPY {quote(table.name)} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                data,
                size=1 << 20,
            )
        else:
            # a value every row shares (the new cases' blank staff columns, an event's time and
            # source) is written once into the statement instead of bound per row
            shared = {c: _sqlite_literal(frame[c][0]) for c in _constant_columns(frame)}
            varying = [c for c in names if shared.get(c) is None]
            values = ", ".join(shared.get(c) or "?" for c in names)
            rows = (
                zip(*(frame.get_column(c).to_list() for c in varying), strict=True)
                if varying
                else itertools.repeat((), frame.height)
            )
            cursor.executemany(f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({values})", rows)
    finally:
        cursor.close()


def _constant_columns(frame: pl.DataFrame) -> list[str]:
    # comparing with the first value stops at the first differing byte; n_unique would hash
    # every long text (an event's changes) in full
    same = frame.select(pl.all().eq_missing(pl.all().first()).all()).row(0)
    return [c for c, constant in zip(frame.columns, same, strict=True) if constant]


def _sqlite_literal(value: Any) -> str | None:
    """``value`` as an SQLite literal storing what binding it would store, or None when it is
    better bound (types other than text, integers, booleans and null)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    return None
