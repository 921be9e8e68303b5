"""Bring a database to the newest schema with Alembic, from the installed package (no .ini)."""

from __future__ import annotations

from functools import cache

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, column, func, inspect, select, table
from sqlalchemy.exc import DBAPIError

from api.db.engine import UNREACHABLE, WRITE, connect, first_line, is_sqlite
from network.errors import GongpeiError

#: The PostgreSQL advisory lock key that migrating processes queue on (any fixed 64-bit
#: number: these ASCII letters spell "gongpei").
MIGRATION_LOCK = 0x67_6F_6E_67_70_65_69
#: Where Alembic records the schema's revision (its default name, which `alembic_config` keeps).
VERSION_TABLE = "alembic_version"


class SchemaError(GongpeiError, RuntimeError):
    """A database schema this release cannot run on or migrate, in one line saying the state
    it is in and what to do: the CLI prints it and exits 2, the server refuses to start. Also
    the RuntimeError a migration's designed stop raised before, for callers that catch it."""


def alembic_config(engine: Engine | None) -> Config:
    """An Alembic config whose scripts are `api/migrations` wherever the package is installed."""
    config = Config()
    config.set_main_option("script_location", "api:migrations")
    config.attributes["engine"] = engine
    return config


@cache
def _scripts() -> ScriptDirectory:
    """This release's migrations, read once per process (readiness probes ask for the head)."""
    return ScriptDirectory.from_config(alembic_config(None))


def head_revision() -> str:
    """The newest schema revision this release knows."""
    return _scripts().get_current_head()


def schema_problem(connection: Connection) -> str | None:
    """What keeps this release from running on the database's schema, or None where it is at
    the newest revision. A schema behind fails only at the first request that needs the newer
    one (a 500), so the server checks at start and its readiness probe on every call."""
    current, head = _current_revision(connection), head_revision()
    if current == head:
        return None
    if current is None:
        return (
            f"the database has no Gongpei schema (this release needs revision {head}): "
            "`gongpei serve` creates it at start"
        )
    if not _known(current):
        return _newer(current)
    return (
        f"the database schema is at revision {current}, behind this release's {head}: "
        "`gongpei serve` (or `gongpei worker`) migrates it at start"
    )


def check_schema(engine: Engine) -> None:
    """`SchemaError` where the schema is not this release's newest; `UnreachableError` where
    the database does not answer."""
    with connect(engine) as connection:
        problem = schema_problem(connection)
    if problem is not None:
        raise SchemaError(problem)


def _known(revision: str) -> bool:
    return any(script.revision == revision for script in _scripts().walk_revisions())


def _newer(current: str) -> str:
    """After a rollback of the code, Alembic said only "Can't locate revision '0010'"."""
    return (
        f"the database schema is at revision {current}, which this release does not know "
        f"(its newest is {head_revision()}): a newer Gongpei migrated it; run that release, "
        "or restore the backup taken before the upgrade"
    )


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
    sqlite = is_sqlite(engine)
    with connect(engine) as connection:
        if sqlite:
            _sqlite_foreign_keys(connection, on=False)
        try:
            _migrate(connection, revision)
        finally:
            if sqlite:  # the connection goes back to the pool: sessions rely on foreign keys
                _sqlite_foreign_keys(connection, on=True)


def _migrate(connection: Connection, revision: str) -> None:
    """Upgrade in one transaction under the migration lock. A revision this release does not
    know, a migration's designed stop (a RuntimeError: 0007 on a parcel deposited twice), and
    a statement the database refuses (its user may not create tables: a 121-line traceback
    at every start of `gongpei serve`) are one line saying where the schema stays, not a
    100-line Alembic traceback. An outage midway stays the driver's error."""
    sqlite = connection.dialect.name == "sqlite"
    config = alembic_config(connection.engine)
    config.attributes["connection"] = connection
    before = None
    try:
        with connection.execution_options(**WRITE).begin():
            if not sqlite:
                connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
            before = _current_revision(connection)
            if before is not None and not _known(before):
                raise SchemaError(_newer(before))
            command.upgrade(config, revision)
            if sqlite and _current_revision(connection) != before:
                _refuse_dangling_references(connection, revision)
    except (SchemaError, *UNREACHABLE):
        raise
    except RuntimeError as err:  # rolled back by now
        raise SchemaError(
            f"the database schema {_stays(before)} (the upgrade to {_target(revision)} was "
            f"rolled back): {err}"
        ) from err
    except DBAPIError as err:
        raise SchemaError(
            f"the database refused the upgrade to {_target(revision)} ({first_line(err)}); its "
            f"schema {_stays(before)}: the user of GONGPEI_DATABASE_URL must be allowed to "
            "create and alter the platform's tables (or run one start as their owner)"
        ) from err


def _target(revision: str) -> str:
    return head_revision() if revision == "head" else revision


def _stays(before: str | None) -> str:
    return f"stays at revision {before}" if before else "stays empty"


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    """Set the pragma on the driver's connection: through SQLAlchemy the statement would
    begin a transaction first (see `api.db.engine`), where SQLite ignores it."""
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={int(on)}")


def _current_revision(connection: Connection) -> str | None:
    """The revision in Alembic's version table, None without one; read as Alembic reads it but
    without a `MigrationContext`, whose set-up logs "Context impl SQLiteImpl." and "Will assume
    non-transactional DDL." at INFO: a job worker (logging at INFO) wrote both to `gongpei
    serve`'s stderr at every start, whatever its --log-level, from a check that migrates
    nothing. The upgrade itself still logs what it runs through Alembic's loggers."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    revisions = connection.scalars(select(column("version_num")).select_from(table(VERSION_TABLE)))
    return next(iter(revisions), None)


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
