"""Database layer: models, engines and sessions, migrations (import the module you need:
`api.settings` reads URLs through `api.db.engine`, and importing the migrations here loaded
alembic into every command that reads a setting)."""
