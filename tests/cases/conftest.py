"""The case store on both backends: a SQLite file, and a real PostgreSQL server.

PostgreSQL: one throwaway database per test session (dropped at the end), one schema per
test. When no server answers on 127.0.0.1:5432 the PostgreSQL variants are skipped, and
the skip says so.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipelines.cases.store import CaseStore
from tests.cases.factory import Backend

SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh database on the local PostgreSQL server for this test session."""
    admin = sa.create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as e:
        admin.dispose()
        pytest.skip(
            f"PostgreSQL on 127.0.0.1:5432 is not reachable ({type(e.orig).__name__}); PostgreSQL variants skipped"
        )
    name = f"tenken_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite:///{tmp_path / 'store' / 'cases.sqlite'}")
        return
    database = request.getfixturevalue("pg_database")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield Backend("postgresql", database, schema)
    engine = sa.create_engine(database)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture()
def store(backend: Backend) -> Iterator[CaseStore]:
    with backend.open() as s:
        yield s
