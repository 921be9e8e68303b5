"""Bring a database to the newest schema with Alembic, from the installed package (no .ini)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, func, select

from api.db.engine import WRITE, is_sqlite

#: The PostgreSQL advisory lock key that migrating processes queue on (any fixed 64-bit
#: number: these ASCII letters spell "gongpei").
MIGRATION_LOCK = 0x67_6F_6E_67_70_65_69


def alembic_config(engine: Engine) -> Config:
    """An Alembic config whose scripts are `api/migrations` wherever the package is installed."""
    config = Config()
    config.set_main_option("script_location", "api:migrations")
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to `revision`; safe to call on each start (a no-op when current).

    Processes starting together (`gongpei serve` and `gongpei worker`, two hosts) migrate one
    after the other: the migration runs in one transaction that first takes the database's
    write lock (SQLite: BEGIN IMMEDIATE) or a transaction-level advisory lock (PostgreSQL), so
    the second waits for the first to commit and then finds the schema current. Unserialised,
    both created the same tables and one crashed (PostgreSQL: a duplicate key in pg_type;
    SQLite: "database is locked").

    SQLite changes a table by rebuilding it (Alembic's batch mode: copy, drop, rename), and a
    DROP TABLE deletes the rows first: with foreign keys on, that delete cascades (0005's
    rebuild of `jobs` emptied `solutions`). So, as SQLite documents for schema changes, the
    connection migrates with foreign keys off, switched before the transaction begins (inside
    one the pragma does nothing) and back on after it, and a migration that leaves rows
    pointing at nothing is rolled back (`_refuse_dangling_references`)."""
    config = alembic_config(engine)
    sqlite = is_sqlite(engine)
    with engine.connect() as connection:
        if sqlite:
            _sqlite_foreign_keys(connection, on=False)
        try:
            with connection.execution_options(**WRITE).begin():
                if not sqlite:
                    connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
                config.attributes["connection"] = connection
                before = _current_revision(connection)
                command.upgrade(config, revision)
                if sqlite and _current_revision(connection) != before:
                    _refuse_dangling_references(connection, revision)
        finally:
            if sqlite:  # the connection goes back to the pool: sessions rely on foreign keys
                _sqlite_foreign_keys(connection, on=True)


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    """Set the pragma on the driver's connection: through SQLAlchemy the statement would
    begin a transaction first (see `api.db.engine`), where SQLite ignores it."""
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={int(on)}")


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _refuse_dangling_references(connection: Connection, revision: str) -> None:
    """Raise (so the migration rolls back) where a row refers to a row that is not there.

    Only after migrations ran: a no-op start does not scan the database under the write lock.
    """
    found = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if found:
        rows = [f"{table} row {rowid} refers to a missing {parent} row"
                for table, rowid, parent, _ in found[:10]]
        more = f" (and {len(found) - 10} more)" if len(found) > 10 else ""
        raise RuntimeError(
            f"upgrade to {revision} rolled back, it would leave dangling references: "
            + "; ".join(rows) + more
        )
