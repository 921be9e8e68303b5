"""Database layer: models, engines and sessions, migrations."""

from api.db.engine import Database, make_engine, normalise_url
from api.db.migrate import upgrade

__all__ = ["Database", "make_engine", "normalise_url", "upgrade"]
