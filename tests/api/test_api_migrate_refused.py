"""A migration the database refuses (its user may not create tables) is one line, not 120.

`gongpei serve`, `gongpei worker` and the admin commands migrate at start; run as a database
user without the right to create the platform's tables, they ended in a 121-line
`InsufficientPrivilege` traceback, while an unreachable database or a newer schema is one line
naming the state and what to do.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, make_url, text

from api.db.engine import make_engine
from api.db.migrate import SchemaError, head_revision, upgrade


@pytest.fixture
def unprivileged_url(database_url):
    """A login role that may use, but not create in, a schema of its own (its search path)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's privileges")
    name = f"gp_no_create_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(database_url).set(drivername="postgresql+psycopg", query={}))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {name}"))
        conn.execute(text(f"CREATE ROLE {name} LOGIN"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA {name} TO {name}"))
        conn.execute(text(f"REVOKE CREATE ON SCHEMA public FROM {name}"))
    url = make_url(database_url).set(username=name, query={"options": f"-csearch_path={name}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {name} CASCADE"))
            conn.execute(text(f"DROP ROLE {name}"))
        admin.dispose()


def test_a_refused_migration_is_one_line_saying_what_to_do(unprivileged_url):
    engine = make_engine(unprivileged_url)
    try:
        with pytest.raises(SchemaError) as refused:
            upgrade(engine)
    finally:
        engine.dispose()
    message = str(refused.value)
    assert "\n" not in message, message
    assert f"refused the upgrade to {head_revision()}" in message, message
    assert "permission denied" in message and "stays empty" in message, message
