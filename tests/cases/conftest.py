"""The case store on both backends: a SQLite file, and a real PostgreSQL server.

PostgreSQL: one throwaway database per test session (dropped at the end), one schema per
test. The server is the one at ``TENKEN_TEST_PG_URL`` (default 127.0.0.1:5432, as on the
development and CI machines); when none answers there, the tests start their own with the
PostgreSQL binaries installed on the machine (``initdb`` + ``pg_ctl`` in a temporary folder,
as the ``postgres`` user when run as root). Only if neither works are the PostgreSQL
variants skipped, and the skip says why.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipelines.cases.store import CaseStore
from tests.cases.factory import Backend

SERVER = os.environ.get("TENKEN_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432")


def _answers(server: str) -> bool:
    engine = sa.create_engine(f"{server}/postgres", connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def _start_own_server() -> tuple[str, Path, list[str]]:
    """initdb + pg_ctl start in a temporary folder on a free port; returns (server URL,
    data folder, command prefix). Raises RuntimeError saying why it could not."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")) or [shutil.which("pg_ctl") or ""]
    pg_ctl = found[-1]
    if not pg_ctl:
        raise RuntimeError("no pg_ctl/initdb on this machine")
    initdb = str(Path(pg_ctl).with_name("initdb"))
    prefix: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="tenken-pg-"))
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        prefix = ["runuser", "-u", "postgres", "--"]
        shutil.chown(folder, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = folder / "data"
    run = {"check": True, "capture_output": True, "timeout": 120}
    try:
        subprocess.run([*prefix, initdb, "-D", str(data), "-U", "postgres", "-A", "trust"], **run)  # type: ignore[call-overload]
        options = f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={folder}"
        # the server's output goes to a log file: a pipe it inherited would keep pg_ctl waiting
        start = [
            *prefix,
            pg_ctl,
            "-D",
            str(data),
            "-l",
            str(folder / "server.log"),
            "-o",
            options,
            "-w",
            "start",
        ]
        subprocess.run(start, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    except (OSError, subprocess.SubprocessError) as e:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"could not start one with {pg_ctl}: {e}") from None
    return f"postgresql+psycopg2://postgres@127.0.0.1:{port}", data, [*prefix, pg_ctl]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A PostgreSQL server for this session: the machine's, else one the tests start."""
    if _answers(SERVER):
        yield SERVER
        return
    try:
        server, data, pg_ctl = _start_own_server()
    except RuntimeError as e:
        pytest.skip(f"PostgreSQL variants skipped: no server at {SERVER} and {e}")
    try:
        yield server
    finally:
        subprocess.run([*pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(data.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_database(pg_server: str) -> Iterator[str]:
    """A fresh database on the PostgreSQL server for this test session."""
    admin = sa.create_engine(f"{pg_server}/postgres", isolation_level="AUTOCOMMIT")
    name = f"tenken_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{pg_server}/{name}"
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
