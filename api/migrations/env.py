"""Alembic environment: migrates the connection handed over by `api.db.migrate.upgrade`."""

from alembic import context

from api.db.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
