"""The Alembic migrations build exactly the models' schema, and go down and up again cleanly."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from api.db.engine import Database
from api.db.migrate import alembic_config, upgrade
from api.db.models import Base


def test_migrations_match_models_on_a_fresh_database(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    upgrade(db.engine)
    upgrade(db.engine)  # a second start is a no-op
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    config = alembic_config(db.engine)
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    upgrade(db.engine)
    db.dispose()


def test_migrations_match_models_on_each_backend(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
