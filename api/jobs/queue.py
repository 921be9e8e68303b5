"""The job queue lives in the `jobs` table: submit, claim with a lease, renew, finish or fail.

Claiming uses `FOR UPDATE SKIP LOCKED` on PostgreSQL (each worker gets a different job without
waiting) and a serialised write transaction on SQLite. A running job carries a lease that its
worker renews; when the lease runs out the worker is presumed dead and the job is claimed again.
A worker that is told to stop hands its job back instead (`hand_back`): the job is queued
again and the attempt is not counted, so restarts and deploys never use up a job's attempts.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, update
from sqlalchemy.orm import Session

from api.db.engine import Database
from api.db.models import Firm, Job, Solution, utcnow
from network.errors import GongpeiError

log = logging.getLogger("gongpei.queue")

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
    `QueueFull`: counted in the write transaction with the firm's row locked, so that
    submissions at once (through several server processes) count one after the other."""
    with db.writing() as session:
        if max_active is not None:
            _lock_firm(session, firm_id)
            active = session.scalar(
                select(func.count()).select_from(Job).where(Job.firm_id == firm_id, _active())
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


def _lock_firm(session: Session, firm_id: int) -> None:
    """Hold the firm's row until the transaction ends. Under PostgreSQL's READ COMMITTED, two
    submissions each counted the jobs the other had not committed yet, and 40 at once put up to
    30 jobs in a quota of 5. FOR NO KEY UPDATE waits for the firm's other submissions only, not
    for rows that merely refer to the firm. SQLite has one writer at a time already."""
    session.execute(select(Firm.id).where(Firm.id == firm_id).with_for_update(key_share=True))


def claim(db: Database, worker_id: str, lease_s: float) -> Claimed | None:
    """Take a queued job, or a running one whose lease expired; None if there is none.

    Firms take turns: the job claimed is the oldest of the firm with the fewest jobs running
    now and, among those, of the firm served least recently (whose latest job started
    longest ago, or that never had one), so one firm's hundred batches do not hold another
    firm's one back until they are all done. Ordering by jobs running alone fell back to
    first-in-first-out whenever a firm's job had just ended (one worker served a firm's eight
    batches before another firm's one). Its progress starts again from 0: a new attempt runs
    the job from the start, and the status shows the attempt beside its progress, so a retried
    job is not read as one stalled at the old attempt's progress and then going backwards.
    A job whose workers died `MAX_ATTEMPTS` times is failed instead, and said so in the log."""
    while True:
        with db.writing() as session:
            job = session.scalars(_next_job(utcnow())).first()
            if job is None:
                return None
            # read once the row is locked, never before its creation: the query sees a job
            # committed after it began, and the API that stamped it may run on another host
            now = max(utcnow(), job.created_at)
            spent = job.attempts >= MAX_ATTEMPTS
            if spent:
                job.status, job.finished_at = "failed", now
                job.error = f"the worker running this job stopped {job.attempts} times"
                failed = (job.id, job.kind, job.firm_id, job.error)
            else:
                job.status = "running"
                job.attempts += 1
                job.progress = 0.0
                job.worker_id = worker_id
                job.lease_expires_at = now + timedelta(seconds=lease_s)
                job.started_at = job.started_at or now
                claimed = Claimed(job.id, job.kind, job.firm_id, dict(job.payload), job.attempts)
        if not spent:
            return claimed
        log.warning("job %s (%s, firm %d) failed: %s", *failed)


def _next_job(now: datetime) -> Select[tuple[Job]]:
    """The claimable job that comes next (see `claim`), locked; one query, whose SKIP LOCKED
    gives workers claiming at once different jobs on PostgreSQL."""
    live = and_(Job.status.in_(("running", "cancelled")), Job.lease_expires_at >= now)
    running = (
        select(Job.firm_id, func.count().label("running"))
        .where(live)
        .group_by(Job.firm_id)
        .subquery()
    )
    served = (
        select(Job.firm_id, func.max(Job.started_at).label("served"))
        .group_by(Job.firm_id)
        .subquery()
    )
    return (
        select(Job)
        .outerjoin(running, running.c.firm_id == Job.firm_id)
        .outerjoin(served, served.c.firm_id == Job.firm_id)
        .where(
            or_(
                Job.status == "queued",
                and_(Job.status == "running", Job.lease_expires_at < now),
            )
        )
        .order_by(
            func.coalesce(running.c.running, 0),
            served.c.served.asc().nulls_first(),
            Job.created_at,
            Job.id,
        )
        .limit(1)
        .with_for_update(skip_locked=True, of=Job)
    )


#: Room for the host in a worker id: `jobs.worker_id` less ":", a pid of up to 10 digits (any
#: 32-bit pid), ":" and 6 random hex digits.
HOST_ROOM = Job.worker_id.type.length - 18
#: Hex digits of the tag that tells apart hosts, and PID namespaces on one host, in a worker id.
TAG_DIGITS = 8


def worker_name() -> str:
    """`host:pid:random`: unique, and tells a restarted worker which jobs died where it can see
    their workers' pids."""
    return f"{_host()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _host() -> str:
    """Where this worker's pid means something, as worker ids name it: the host's name (cut to
    fit `HOST_ROOM`: PostgreSQL refused a longer id, and the worker died at every claim) and a
    tag hashed from the whole name, the kernel's boot id and this process's PID namespace.
    By name alone, containers sharing the host's name (`--network host`) and machines both
    called `localhost` took each other's running jobs over, each judging a pid it could not
    see as dead (`release_dead_local`)."""
    name = socket.gethostname()
    tag = hashlib.sha256("\0".join((name, *_pid_space())).encode()).hexdigest()[:TAG_DIGITS]
    return f"{name[: HOST_ROOM - TAG_DIGITS - 1]}~{tag}"


def _pid_space() -> tuple[str, str]:
    """This kernel's boot id and this process's PID namespace (its inode), each '' where /proc
    does not tell (not Linux): the name alone then stands for the host, as it used to."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = ""
    try:
        namespace = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        namespace = ""
    return boot, namespace


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

    Elsewhere (another host, or another PID namespace on this one: a container) a dead worker's
    job waits for its lease to run out; where a restarted worker sees the same pids it can tell
    that the process is gone and take the job over at once.
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


def _mine_or_handed_back(job_id: str, worker_id: str):
    """This worker's running job, or one it handed back (`hand_back`) that no other worker
    has claimed yet: a solve that ends before the stopping worker is killed is not wasted."""
    return and_(
        Job.id == job_id, Job.worker_id == worker_id, Job.status.in_(("running", "queued"))
    )


#: A handed-back job's outcome, stored by the worker that handed it back, counts its attempt
#: again (`hand_back` took it off).
_ATTEMPT_BACK = Job.attempts + case((Job.status == "queued", 1), else_=0)


def renew(db: Database, job_id: str, worker_id: str, lease_s: float, progress: float) -> bool:
    """Extend the lease and record progress; False if the job is no longer this worker's."""
    with db.writing() as session:
        result = session.execute(
            update(Job)
            .where(_mine(job_id, worker_id))
            .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s), progress=progress)
        )
        return result.rowcount == 1


def still_mine(db: Database, job_id: str, worker_id: str) -> bool:
    """Whether the job is still this worker's (not cancelled, not taken over): a read, so a
    worker may ask every second without adding to the writes SQLite serialises."""
    with db.reading() as session:
        return session.scalar(select(Job.id).where(_mine(job_id, worker_id))) is not None


def hand_back(db: Database, job_id: str, worker_id: str) -> bool:
    """Queue this worker's running job again without counting its attempt: the worker was told
    to stop (a restart, a deploy), it did not die. A stop used to count as one of the job's
    `MAX_ATTEMPTS`, and three restarts during a long job failed it for good. False if the job
    is no longer this worker's."""
    with db.writing() as session:
        result = session.execute(
            update(Job)
            .where(_mine(job_id, worker_id))
            .values(
                status="queued", attempts=Job.attempts - 1, progress=0.0, lease_expires_at=None
            )
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
        if not _end(session, job_id, worker_id, status="done", progress=1.0):
            return False
        session.add(Solution(job_id=job_id, result=result, geojson=geojson))
        return True


def _end(session: Session, job_id: str, worker_id: str, **values: Any) -> bool:
    """End the worker's job (running, or handed back and not yet claimed again) with these
    values; False if it is no longer the worker's. A handed-back job's attempt counts again."""
    ended = session.execute(
        update(Job)
        .where(_mine_or_handed_back(job_id, worker_id))
        .values(attempts=_ATTEMPT_BACK, finished_at=utcnow(), lease_expires_at=None, **values)
    )
    return ended.rowcount == 1


def cancel(db: Database, job_id: str) -> bool:
    """Cancel a queued or running job at once; False if it has already ended (done, failed or
    cancelled). One guarded update, so a worker storing its outcome at the same moment either
    stores it first (the cancel comes too late) or finds the job no longer its own. The
    worker running it hears of it at its next heartbeat (about a second) and stops where it
    safely can."""
    with db.writing() as session:
        cancelled = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(("queued", "running")))
            .values(status="cancelled", finished_at=utcnow())
        )
        return cancelled.rowcount == 1


def _active():
    """A job that holds a place in its firm's quota: queued, running, or cancelled while its
    worker is still busy with it (its lease, kept by `cancel`, not yet let go or lapsed).
    Counting only queued and running jobs, a firm could cancel a running batch and post it
    again at once, keeping every worker busy past its quota."""
    busy = and_(Job.status == "cancelled", Job.lease_expires_at >= utcnow())
    return or_(Job.status.in_(("queued", "running")), busy)


def let_go(db: Database, job_id: str, worker_id: str) -> None:
    """A cancelled job's worker is done with it: it no longer holds a place in the quota."""
    with db.writing() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.worker_id == worker_id, Job.status == "cancelled")
            .values(lease_expires_at=None)
        )


def fail(db: Database, job_id: str, worker_id: str, error: str) -> bool:
    with db.writing() as session:
        return _end(session, job_id, worker_id, status="failed", error=error)
