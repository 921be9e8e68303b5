"""The job queue lives in the `jobs` table: submit, claim with a lease, renew, finish or fail.

Claiming uses `FOR UPDATE SKIP LOCKED` on PostgreSQL (each worker gets a different job without
waiting) and a serialised write transaction on SQLite. A running job carries a lease that its
worker renews; when the lease runs out the worker is presumed dead and the job is claimed again.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from api.db.engine import Database
from api.db.models import Job, Solution, utcnow
from network.errors import GongpeiError

#: A job whose worker died this many times is failed instead of crashing workers forever.
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Claimed:
    id: str
    kind: str
    firm_id: int
    payload: dict[str, Any]
    attempt: int


class QueueFull(GongpeiError):
    """The firm already has as many jobs queued or running as it may."""


def submit(
    db: Database,
    *,
    kind: str,
    firm_id: int,
    payload: dict[str, Any],
    also: Callable[[Session, str], None] | None = None,
    max_active: int | None = None,
) -> str:
    """Queue a job; ``also`` writes what belongs with it (by its id) in the same transaction.
    With ``max_active``, a firm that has that many jobs queued or running already gets
    `QueueFull` (checked in the write transaction; two submissions at once may both pass it,
    one job over at most per concurrent request)."""
    with db.writing() as session:
        if max_active is not None:
            active = session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.firm_id == firm_id, Job.status.in_(("queued", "running")))
            )
            if active >= max_active:
                raise QueueFull(
                    f"{active} jobs of this firm are queued or running, the most it may have "
                    "at once: wait for one to end, or cancel one"
                )
        job = Job(kind=kind, firm_id=firm_id, payload=payload)
        session.add(job)
        session.flush()
        if also is not None:
            also(session, job.id)
        return job.id


def claim(db: Database, worker_id: str, lease_s: float) -> Claimed | None:
    """Take a queued job, or a running one whose lease expired; None if there is none.

    Firms take turns: the job claimed is the oldest of those whose firm has the fewest jobs
    running now, so one firm's hundred batches do not hold another firm's one back until
    they are all done (first-in-first-out across firms put it 201st behind 200). Its
    progress starts again from 0: a new attempt runs the job from the start, and the status
    shows the attempt beside its progress, so a retried job is not read as one stalled at the
    old attempt's progress and then going backwards."""
    while True:
        with db.writing() as session:
            now = utcnow()
            live = and_(Job.status == "running", Job.lease_expires_at >= now)
            running = (
                select(Job.firm_id, func.count().label("running"))
                .where(live)
                .group_by(Job.firm_id)
                .subquery()
            )
            job = session.scalars(
                select(Job)
                .outerjoin(running, running.c.firm_id == Job.firm_id)
                .where(
                    or_(
                        Job.status == "queued",
                        and_(Job.status == "running", Job.lease_expires_at < now),
                    )
                )
                .order_by(func.coalesce(running.c.running, 0), Job.created_at, Job.id)
                .limit(1)
                .with_for_update(skip_locked=True, of=Job)
            ).first()
            if job is None:
                return None
            if job.attempts >= MAX_ATTEMPTS:
                job.status, job.finished_at = "failed", now
                job.error = f"the worker running this job stopped {job.attempts} times"
                continue
            job.status = "running"
            job.attempts += 1
            job.progress = 0.0
            job.worker_id = worker_id
            job.lease_expires_at = now + timedelta(seconds=lease_s)
            job.started_at = job.started_at or now
            return Claimed(job.id, job.kind, job.firm_id, dict(job.payload), job.attempts)


#: Room for the host in a worker id: `jobs.worker_id` less ":", a pid of up to 10 digits (any
#: 32-bit pid), ":" and 6 random hex digits.
HOST_ROOM = Job.worker_id.type.length - 18


def worker_name() -> str:
    """`host:pid:random`: unique, and tells a restarted worker which jobs died on this host."""
    return f"{_host()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _host() -> str:
    """This host as worker ids name it: its name, or where that is longer than `HOST_ROOM`
    (a server's FQDN often is) its start and a hash of the whole, so that an id always fits
    `jobs.worker_id` (PostgreSQL refused a longer one, and the worker died at every claim)
    and still tells this host's workers from any other's."""
    host = socket.gethostname()
    if len(host) <= HOST_ROOM:
        return host
    digest = hashlib.sha256(host.encode()).hexdigest()[:8]
    return f"{host[: HOST_ROOM - 9]}~{digest}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_dead_local(db: Database) -> int:
    """Make the running jobs of dead worker processes on this host claimable now.

    Elsewhere a dead worker's job waits for its lease to run out; on the same host a restarted
    worker can see that the process is gone and take the job over at once.
    """
    prefix = f"{_host()}:"
    with db.writing() as session:
        running = session.execute(
            select(Job.id, Job.worker_id).where(
                Job.status == "running", Job.worker_id.startswith(prefix, autoescape=True)
            )
        ).all()
        dead = [
            job_id
            for job_id, worker in running
            if worker.split(":")[1].isdigit() and not _pid_alive(int(worker.split(":")[1]))
        ]
        if dead:
            session.execute(update(Job).where(Job.id.in_(dead)).values(lease_expires_at=utcnow()))
        return len(dead)


def _mine(job_id: str, worker_id: str):
    return and_(Job.id == job_id, Job.worker_id == worker_id, Job.status == "running")


def renew(db: Database, job_id: str, worker_id: str, lease_s: float, progress: float) -> bool:
    """Extend the lease and record progress; False if the job is no longer this worker's."""
    with db.writing() as session:
        result = session.execute(
            update(Job)
            .where(_mine(job_id, worker_id))
            .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s), progress=progress)
        )
        return result.rowcount == 1


def finish(
    db: Database,
    job_id: str,
    worker_id: str,
    result: dict[str, Any],
    geojson: dict[str, Any] | None,
) -> bool:
    with db.writing() as session:
        done = session.execute(
            update(Job)
            .where(_mine(job_id, worker_id))
            .values(status="done", progress=1.0, finished_at=utcnow(), lease_expires_at=None)
        )
        if done.rowcount != 1:
            return False
        session.add(Solution(job_id=job_id, result=result, geojson=geojson))
        return True


def cancel(db: Database, job_id: str) -> bool:
    """Cancel a queued or running job at once; False if it has already ended (done, failed or
    cancelled). One guarded update, so a worker storing its outcome at the same moment either
    stores it first (the cancel comes too late) or finds the job no longer its own. The
    worker running it hears of it at its next lease renewal and stops where it safely can."""
    with db.writing() as session:
        cancelled = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(("queued", "running")))
            .values(status="cancelled", finished_at=utcnow(), lease_expires_at=None)
        )
        return cancelled.rowcount == 1


def fail(db: Database, job_id: str, worker_id: str, error: str) -> bool:
    with db.writing() as session:
        failed = session.execute(
            update(Job)
            .where(_mine(job_id, worker_id))
            .values(status="failed", error=error, finished_at=utcnow(), lease_expires_at=None)
        )
        return failed.rowcount == 1
