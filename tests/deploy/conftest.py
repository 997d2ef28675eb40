"""The shared deployment's tests use the case-store tests' PostgreSQL server and database."""

from tests.cases.conftest import pg_database, pg_server  # noqa: F401 - fixtures, re-exported
