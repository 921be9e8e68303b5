"""Bring a database to the newest schema with Alembic, from the installed package (no .ini)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, func, select

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
    SQLite: "database is locked")."""
    config = alembic_config(engine)
    with engine.execution_options(**WRITE).begin() as connection:
        if not is_sqlite(engine):
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
