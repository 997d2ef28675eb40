"""The case store of 不一致確認: cases, their confirmation flow, the F5 round trip, the audit trail.

* ``tables``    — the database tables (SQLAlchemy Core); ``migrations/`` evolves them (Alembic)
* ``store``     — opening the store (SQLite file or PostgreSQL), transactions, reads and writes
* ``machine``   — the state machine of ``schemas.cases`` applied to a record
* ``merge``     — a re-run of 照合 merged into the store without losing staff work
* ``importer``  — a returned F5 workbook: read, validate everything, then apply all or nothing
* ``audit``     — append-only events in a hash chain; verify, export, state as of a date
* ``returned``  — returned workbooks dropped into the inbox
"""
