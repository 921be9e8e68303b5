"""`gongpei admin jobs` on an empty queue says so: it printed nothing at all, which reads as
well as a command that did not reach the database. The rows stay alone on stdout."""

from __future__ import annotations

import pytest

from api.db.engine import Database
from api.db.migrate import upgrade


@pytest.mark.parametrize(
    ("options", "said"), [([], "no jobs"), (["--status", "queued"], "no queued jobs")]
)
def test_an_empty_queue_is_said_on_stderr(invoke_cli, tmp_path, options, said) -> None:
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    db = Database(url)
    upgrade(db.engine)
    db.dispose()
    code, err = invoke_cli("admin", "jobs", "--database-url", url, *options)
    assert (code or 0, err) == (0, said)
