"""Keeping the platform's database in shape: old records pruned, an SQLite file backed up."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from api.db.models import ACTIVE_STATES, IdempotencyKey, Job, Reservation, utcnow
from api.idempotency import expired
from network.errors import GongpeiError

#: Open data counts parcels over the last 30 days: no pruning may reach into them.
LEAST_KEPT_DAYS = 31
#: Beyond this a cutoff is before any record (and past what a date can hold).
MOST_KEPT_DAYS = 36_500
#: A job in one of these has ended: nothing will read its payload again but its owner.
ENDED_JOBS = ("done", "failed", "cancelled")


class HousekeepingError(GongpeiError):
    """A pruning or backup the platform refuses, with the reason."""


@dataclass(frozen=True)
class Pruned:
    """How many rows a prune deleted (or would delete, in a dry run)."""

    jobs: int
    reservations: int
    #: Idempotency keys past their retention (`api.idempotency.RETENTION`).
    idempotency_keys: int


def prune(session: Session, *, older_than_days: float, dry_run: bool = False) -> Pruned:
    """Delete jobs that ended (with their results and pool participants, which cascade) and
    reservations that ended (picked up, cancelled, expired), more than ``older_than_days``
    ago, and the idempotency keys of job submissions no longer honoured (a day old, whatever
    ``older_than_days``: a retry after that makes a new job anyway). Nothing else grows
    without bound: payloads and results of a day's batches are the bulk (a 300-stop batch
    keeps about 170 kB). Active jobs and reservations are never touched, and at least
    `LEAST_KEPT_DAYS` are kept, so the open data's 30 days still count."""
    if not older_than_days >= LEAST_KEPT_DAYS:
        raise HousekeepingError(
            f"--older-than: {older_than_days:g} days would delete what open data still counts "
            f"(its last 30 days); at least {LEAST_KEPT_DAYS}"
        )
    if not older_than_days <= MOST_KEPT_DAYS:
        raise HousekeepingError(
            f"--older-than: {older_than_days:g} days; at most {MOST_KEPT_DAYS:,} (100 years)"
        )
    now = utcnow()
    cutoff = now - timedelta(days=older_than_days)
    # keys first: a key of a job deleted here would otherwise go with it, uncounted
    doomed = {
        "idempotency_keys": (IdempotencyKey, (expired(now),)),
        "jobs": (Job, (Job.status.in_(ENDED_JOBS), Job.finished_at < cutoff)),
        "reservations": (
            Reservation,
            (Reservation.state.notin_(ACTIVE_STATES), Reservation.closed_at < cutoff),
        ),
    }
    if dry_run:
        return Pruned(
            **{
                name: session.scalar(select(func.count()).select_from(model).where(*where)) or 0
                for name, (model, where) in doomed.items()
            }
        )
    return Pruned(
        **{
            name: session.execute(delete(model).where(*where)).rowcount
            for name, (model, where) in doomed.items()
        }
    )


def backup_sqlite(database_url: str, target: Path) -> int:
    """Copy an SQLite database, whatever is running, to ``target`` (which must not exist) with
    SQLite's online backup: a consistent copy of what was committed, the write-ahead log's
    pages included (copying `gongpei.db` alone while the server ran lost the rows still in
    `gongpei.db-wal`). Returns the copy's size in bytes. PostgreSQL has its own tools."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise HousekeepingError(
            "backup: the database is not an SQLite file; back PostgreSQL up with its own "
            "tools (pg_dump, or a base backup with WAL archiving)"
        )
    database = Path(url.database)
    if not database.is_file():
        raise HousekeepingError(f"backup: no database file at {database}")
    if target.exists():
        raise HousekeepingError(f"backup: {target} exists; give a new file")
    if not target.parent.is_dir():
        raise HousekeepingError(f"backup: no folder {target.parent} for the copy")
    # a file URI, percent-escaped: a '#' or '?' in the path began its fragment or query, and
    # SQLite then opened (and made) an empty database at the part before it
    source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    return target.stat().st_size
