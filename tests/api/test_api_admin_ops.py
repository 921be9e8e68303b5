"""An operator's commands: the job queue listed and cancelled, old records pruned, backups."""

from __future__ import annotations

import sqlite3
import sys
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api.booking import cancel, reserve
from api.cli.main import run
from api.db.engine import Database
from api.db.migrate import upgrade
from api.db.models import Firm, Job, Reservation, Solution, utcnow
from api.housekeeping import HousekeepingError, prune
from api.jobs import queue
from api.lockers import create_locker
from api.security import create_firm


def _gongpei(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["gongpei", *args])
    with pytest.raises(SystemExit) as stop:
        run()
    out = capsys.readouterr()
    return stop.value.code or 0, out.out.strip(), out.err.strip()


@pytest.fixture
def platform(tmp_path):
    """An SQLite platform with a firm, a locker and two jobs: one done 100 days ago (with its
    solution), one queued now."""
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    db = Database(url)
    upgrade(db.engine)
    with db.writing() as session:
        firm, _ = create_firm(session, "SF Express", "firm")
        firm_id = firm.id
        locker = create_locker(session, name="Gate", lat=36.0, lon=120.3, compartments={"S": 4})
        locker_id = locker.id
    old = queue.submit(db, kind="batch", firm_id=firm_id, payload={"n": 1})
    new = queue.submit(db, kind="batch", firm_id=firm_id, payload={"n": 2})
    with db.writing() as session:
        job = session.get(Job, old)
        job.status, job.finished_at = "done", utcnow() - timedelta(days=100)
        session.add(Solution(job_id=old, result={"ok": True}))
    yield {"db": db, "url": url, "old": old, "new": new, "firm": firm_id, "locker": locker_id}
    db.dispose()


def test_an_operator_lists_the_queue_and_cancels_a_job(platform, monkeypatch, capsys):
    url = platform["url"]
    code, out, _ = _gongpei(monkeypatch, capsys, "admin", "jobs", "--database-url", url)
    lines = [line.split("\t") for line in out.splitlines()]
    assert code == 0 and [row[0] for row in lines] == [platform["new"], platform["old"]]
    assert [row[2:4] for row in lines] == [["SF Express", "queued"], ["SF Express", "done"]]
    code, out, _ = _gongpei(monkeypatch, capsys, "admin", "cancel-job", platform["new"],
                            "--database-url", url)  # fmt: skip
    assert (code, out) == (0, f"job {platform['new']} cancelled")
    code, _, err = _gongpei(monkeypatch, capsys, "admin", "cancel-job", platform["old"],
                            "--database-url", url)  # fmt: skip
    assert (code, err) == (2, f"error: job {platform['old']}: it is done: nothing to cancel")
    code, out, _ = _gongpei(monkeypatch, capsys, "admin", "jobs", "--status", "cancelled",
                            "--database-url", url)  # fmt: skip
    assert [line.split("\t")[0] for line in out.splitlines()] == [platform["new"]]
    code, _, err = _gongpei(monkeypatch, capsys, "admin", "jobs", "--status", "lost",
                            "--database-url", url)  # fmt: skip
    assert code == 2 and "--status" in err


def test_prune_deletes_only_what_ended_long_ago(platform):
    db = platform["db"]
    with db.writing() as session:
        firm = session.get(Firm, platform["firm"])
        ended = reserve(session, firm, platform["locker"], size="S", parcel_ref="p1",
                        allow_larger=False, ttl_s=600)  # fmt: skip
        cancel(session, firm, ended.id)
        ended.closed_at = utcnow() - timedelta(days=100)
        reserve(session, firm, platform["locker"], size="S", parcel_ref="p2",
                allow_larger=False, ttl_s=600)  # fmt: skip
    with pytest.raises(HousekeepingError, match="at least 31"), db.writing() as session:
        prune(session, older_than_days=10)
    with db.writing() as session:
        counted = prune(session, older_than_days=90, dry_run=True)
    assert (counted.jobs, counted.reservations) == (1, 1)
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 2  # a dry run
    with db.writing() as session:
        pruned = prune(session, older_than_days=90)
    assert (pruned.jobs, pruned.reservations) == (1, 1)
    with db.reading() as session:
        assert [j.id for j in session.scalars(select(Job))] == [platform["new"]]
        assert session.scalar(select(func.count()).select_from(Solution)) == 0  # cascaded
        assert [r.parcel_ref for r in session.scalars(select(Reservation))] == ["p2"]


def test_a_backup_holds_what_was_committed_while_the_platform_runs(platform, tmp_path,
                                                                  monkeypatch, capsys):  # fmt: skip
    url, target = platform["url"], tmp_path / "copy.db"
    # the platform keeps its connection open, so the commits above sit in the write-ahead log
    code, out, _ = _gongpei(monkeypatch, capsys, "admin", "backup", str(target),
                            "--database-url", url)  # fmt: skip
    assert code == 0 and out.startswith(f"backed up to {target}")
    copy = sqlite3.connect(target)
    assert copy.execute("select count(*) from jobs").fetchone() == (2,)
    assert copy.execute("select name from firms").fetchall() == [("SF Express",)]
    copy.close()
    code, _, err = _gongpei(monkeypatch, capsys, "admin", "backup", str(target),
                            "--database-url", url)  # fmt: skip
    assert code == 2 and "exists" in err
    code, _, err = _gongpei(monkeypatch, capsys, "admin", "backup", str(tmp_path / "pg.db"),
                            "--database-url", "postgresql://u@127.0.0.1:1/x")  # fmt: skip
    assert code == 2 and "pg_dump" in err


def test_a_worker_refuses_a_schema_that_is_not_current_in_one_line(tmp_path, capsys):
    from api.jobs.worker import main

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Database(url)
    upgrade(old.engine, "0008")
    old.dispose()
    with pytest.raises(SystemExit) as stop:
        main(["--database-url", url])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and len(err.splitlines()) == 1
    assert err.startswith("error: ") and "0008" in err


def test_a_backup_of_a_database_whose_path_holds_a_hash_copies_it(tmp_path, monkeypatch, capsys):
    """The path went into an SQLite URI unescaped: SQLite made an empty database at the part
    before the '#', and the backup of it said it had succeeded."""
    from api.housekeeping import backup_sqlite

    folder = tmp_path / "site#1"
    folder.mkdir()
    url = f"sqlite:///{folder / 'platform.db'}"
    db = Database(url)
    upgrade(db.engine)
    with db.writing() as session:
        create_firm(session, "Yunda", "firm")
    db.dispose()
    backup_sqlite(url, tmp_path / "copy.db")
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("select name from firms").fetchall() == [("Yunda",)]
    copy.close()
    assert not (tmp_path / "site").exists()
    with pytest.raises(HousekeepingError, match="no folder"):
        backup_sqlite(url, tmp_path / "missing" / "copy.db")


def test_prune_refuses_a_cutoff_before_any_date(platform):
    with pytest.raises(HousekeepingError, match="at most"), platform["db"].writing() as session:
        prune(session, older_than_days=1e6)


def test_a_listing_leaves_a_database_of_another_release_as_it_is(tmp_path, monkeypatch, capsys):
    """`gongpei admin jobs` migrated the database first: a newer install's listing moved the
    schema of a database that older servers run on, and they refused to start."""
    from alembic.migration import MigrationContext

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Database(url)
    upgrade(old.engine, "0008")
    code, _, err = _gongpei(monkeypatch, capsys, "admin", "jobs", "--database-url", url)
    assert code == 2 and err.startswith("error: ") and "0008" in err
    with old.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == "0008"
    old.dispose()
