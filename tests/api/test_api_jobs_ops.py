"""The job queue and its workers under operations: restarts hand jobs back, workers in other
PID namespaces leave each other's jobs alone, failures are logged, the quota holds under
concurrent submissions, firms take turns, and a cancel is heard within a beat."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from api.db.models import Job
from api.jobs import queue
from api.jobs.runner import JobStopped
from api.jobs.worker import Worker
from api.security import create_firm
from network.errors import GongpeiError

#: How long a test waits for what a worker should do within a beat or two.
WAIT_S = 5.0


def _firm(db, name: str = "firm-a") -> int:
    with db.writing() as session:
        firm, _ = create_firm(session, name, "firm")
        return firm.id


def _job(db, job_id: str) -> Job:
    with db.reading() as session:
        return session.get(Job, job_id)


def _until(condition, timeout_s: float = WAIT_S) -> bool:
    """Whether ``condition`` came true before the timeout (polled)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _beating_worker(settings) -> Worker:
    """A worker whose heartbeat beats every 20 ms, so a test waits milliseconds, not seconds."""
    return Worker(settings, progress_s=0.02, poll_s=0.01)


# --- ops #1: a worker told to stop hands its job back, without counting an attempt ----------


def test_a_stopping_worker_hands_its_job_back_without_counting_an_attempt(
    db, settings, monkeypatch
):
    """SIGTERM (every restart of `gongpei serve`) used to leave the job to be taken over as
    if its worker had died: three restarts during a long job failed it as "stopped 3 times"."""
    job_id = queue.submit(db, kind="batch", firm_id=_firm(db), payload={"time_limit_s": 120})
    worker = _beating_worker(settings)
    handed_back = []

    def solving_when_told_to_stop(kind, payload, progress, stop):
        worker.stopping.set()  # SIGTERM, mid-solve
        handed_back.append(_until(stop))
        raise JobStopped  # as a pool run stops; a batch runs on (see the next test)

    monkeypatch.setattr("api.jobs.worker.run_job", solving_when_told_to_stop)
    assert worker.run() == 1  # and it stops after the job
    assert handed_back == [True]
    job = _job(db, job_id)
    assert (job.status, job.attempts, job.lease_expires_at) == ("queued", 0, None)
    # however often it happens, the next worker runs the job as its first attempt
    for _ in range(queue.MAX_ATTEMPTS + 1):
        claimed = queue.claim(db, "elsewhere:1:aaaaaa", lease_s=30)
        assert (claimed.id, claimed.attempt) == (job_id, 1)
        assert queue.hand_back(db, job_id, "elsewhere:1:aaaaaa")
    assert _job(db, job_id).status == "queued"


def test_a_handed_back_jobs_outcome_is_stored_unless_another_worker_took_it(db):
    """A solve that ends before the stopping worker is killed is not thrown away; once another
    worker has claimed the job, the old worker's outcome is dropped as before."""
    firm = _firm(db)
    first, second = (queue.submit(db, kind="batch", firm_id=firm, payload={}) for _ in "12")
    assert queue.claim(db, "old:1:aaaaaa", lease_s=30).id == first
    assert queue.hand_back(db, first, "old:1:aaaaaa")
    assert not queue.renew(db, first, "old:1:aaaaaa", 30, 0.5)  # no lease on a queued job
    assert queue.finish(db, first, "old:1:aaaaaa", {"ok": True}, None)
    job = _job(db, first)
    assert (job.status, job.attempts) == ("done", 1)  # its attempt counts again

    assert queue.claim(db, "old:1:aaaaaa", lease_s=30).id == second
    assert queue.hand_back(db, second, "old:1:aaaaaa")
    assert queue.claim(db, "new:2:bbbbbb", lease_s=30).attempt == 1
    assert not queue.finish(db, second, "old:1:aaaaaa", {"late": True}, None)
    assert not queue.fail(db, second, "old:1:aaaaaa", "late")
    assert not queue.hand_back(db, second, "old:1:aaaaaa")
    assert queue.finish(db, second, "new:2:bbbbbb", {"ok": True}, None)


def test_a_dead_worker_still_counts_an_attempt(db, settings):
    """Only a worker that stops without handing back (killed, its lease lapsed) counts."""
    job_id = queue.submit(db, kind="batch", firm_id=_firm(db), payload={})
    assert queue.claim(db, "elsewhere:1:aaaaaa", lease_s=-1).attempt == 1  # lease lapsed
    assert queue.claim(db, "elsewhere:2:bbbbbb", lease_s=30).attempt == 2
    assert _job(db, job_id).attempts == 2


# --- ops #2: worker ids tell PID namespaces apart --------------------------------------------


def _dead_pid() -> int:
    """A pid that no process has here (a child that has exited and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.skipif(not Path("/proc/self/ns/pid").exists(), reason="needs Linux's /proc")
def test_a_worker_in_another_pid_namespace_keeps_its_job(db, monkeypatch):
    """A container sharing the host's name (`--network host`) sees none of this host's pids:
    its worker's pid looks dead here, and a starting worker took its running job over."""
    job_id = queue.submit(db, kind="batch", firm_id=_firm(db), payload={})
    real_stat, pid = os.stat, _dead_pid()

    def in_a_container(path, *args, **kwargs):
        if str(path) == "/proc/self/ns/pid":
            return SimpleNamespace(st_ino=real_stat(path).st_ino + 1)
        return real_stat(path, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(os, "stat", in_a_container)
        m.setattr(os, "getpid", lambda: pid)
        theirs = queue.worker_name()
    assert len(theirs) <= Job.worker_id.type.length
    assert queue.claim(db, theirs, lease_s=60).id == job_id
    assert queue.release_dead_local(db) == 0  # its lease must run out first
    assert _job(db, job_id).worker_id == theirs
    with monkeypatch.context() as m:  # a worker of this namespace whose pid is gone: at once
        m.setattr(os, "getpid", lambda: pid)
        ours = queue.worker_name()
    queue.submit(db, kind="batch", firm_id=_firm(db, "firm-b"), payload={})
    assert queue.claim(db, ours, lease_s=60) is not None
    assert queue.release_dead_local(db) == 1


def test_a_worker_id_fits_its_column_and_keeps_a_short_host_name(monkeypatch):
    monkeypatch.setattr("socket.gethostname", lambda: "depot-7")
    host, pid, _ = queue.worker_name().split(":")
    assert host.startswith("depot-7~") and pid == str(os.getpid())
    monkeypatch.setattr("socket.gethostname", lambda: "h" * 200)
    assert len(queue.worker_name()) <= Job.worker_id.type.length


# --- ops #5: a failed job is logged --------------------------------------------------------


def _warnings(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("gongpei") and r.levelname == "WARNING"
    ]


def test_a_job_failed_on_its_input_is_logged_with_its_reason(db, settings, monkeypatch, caplog):
    firm = _firm(db)
    job_id = queue.submit(db, kind="batch", firm_id=firm, payload={})

    def far_from_the_map(*_args, **_kwargs):
        raise GongpeiError("point 0 is 470008 m from the nearest usable road")

    monkeypatch.setattr("api.jobs.worker.run_job", far_from_the_map)
    caplog.set_level("INFO")
    assert Worker(settings).run(max_jobs=1) == 1
    assert _job(db, job_id).status == "failed"
    (line,) = _warnings(caplog)
    assert line == (
        f"job {job_id} (batch, firm {firm}) failed: point 0 is 470008 m from the nearest "
        "usable road"
    )


def test_a_job_failed_for_its_workers_stopping_is_logged(db, caplog):
    firm = _firm(db)
    job_id = queue.submit(db, kind="batch", firm_id=firm, payload={})
    for n in range(queue.MAX_ATTEMPTS):  # its workers die, their leases lapse
        assert queue.claim(db, f"elsewhere:{n}:aaaaaa", lease_s=-1).id == job_id
    caplog.set_level("INFO")
    assert queue.claim(db, "elsewhere:9:bbbbbb", lease_s=30) is None
    (line,) = _warnings(caplog)
    assert line == (
        f"job {job_id} (batch, firm {firm}) failed: the worker running this job stopped 3 times"
    )


# --- conc #1: the quota holds under concurrent submissions -----------------------------------


def test_submissions_at_once_count_one_after_the_other(db, database_url):
    """Two submissions in flight at once each counted the jobs the other had not committed:
    both passed a quota of 1. The second now waits for the first and is refused."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time: submissions cannot overlap")
    firm = _firm(db)
    counted, second = threading.Event(), []

    def second_submission() -> None:
        try:
            second.append(queue.submit(db, kind="batch", firm_id=firm, payload={}, max_active=1))
        except queue.QueueFull as err:
            second.append(err)

    def hold_open(session, _job_id) -> None:
        """The first submission, counted and inserted, not committed yet: let the second in."""
        counted.set()
        assert _until(lambda: second or _waiting_for_a_lock(db))

    def after_the_first_counted() -> None:
        counted.wait()
        second_submission()

    thread = threading.Thread(target=after_the_first_counted)
    thread.start()
    queue.submit(db, kind="batch", firm_id=firm, payload={}, max_active=1, also=hold_open)
    thread.join(timeout=30)
    assert len(second) == 1 and isinstance(second[0], queue.QueueFull), second
    with db.reading() as session:
        assert session.query(Job).filter(Job.firm_id == firm).count() == 1


def _waiting_for_a_lock(db) -> bool:
    """Whether a session waits to lock a firm's row (the second submission)."""
    with db.reading() as session:
        return bool(
            session.scalar(
                text(
                    "select count(*) from pg_stat_activity where datname = current_database() "
                    "and wait_event_type = 'Lock' and query ilike '%from firms%for no key update%'"
                )
            )
        )


# --- conc #2: firms take turns ---------------------------------------------------------------


def test_one_worker_alternates_between_firms(db):
    """With one worker no firm ever has a job running at a claim: ordering by jobs running
    fell back to first-in-first-out, and firm b's one job waited behind all of a's."""
    a, b = _firm(db, "firm-a"), _firm(db, "firm-b")
    a_jobs = [queue.submit(db, kind="batch", firm_id=a, payload={}) for _ in range(3)]
    b_job = queue.submit(db, kind="batch", firm_id=b, payload={})
    order = []
    while (job := queue.claim(db, "host:1:aaaaaa", lease_s=60)) is not None:
        order.append(job.id)
        assert queue.finish(db, job.id, "host:1:aaaaaa", {"ok": True}, None)
    assert order == [a_jobs[0], b_job, a_jobs[1], a_jobs[2]]


def test_a_third_firm_is_not_starved_by_two_busy_ones(db):
    a, b, c = (_firm(db, f"firm-{n}") for n in "abc")
    for _ in range(3):
        queue.submit(db, kind="batch", firm_id=a, payload={})
        queue.submit(db, kind="batch", firm_id=b, payload={})
    c_job = queue.submit(db, kind="batch", firm_id=c, payload={})
    first = queue.claim(db, "host:1:aaaaaa", lease_s=60)
    second = queue.claim(db, "host:2:bbbbbb", lease_s=60)
    assert (first.firm_id, second.firm_id) == (a, b)
    assert queue.finish(db, first.id, "host:1:aaaaaa", {"ok": True}, None)
    assert queue.claim(db, "host:1:aaaaaa", lease_s=60).id == c_job


# --- conc #3: a cancel is heard within a beat ------------------------------------------------


def test_a_cancel_is_heard_at_the_next_beat_while_progress_stands_still(
    db, settings, monkeypatch
):
    """The heartbeat asked the database only when progress moved (at the end of a pool run's
    solve) or every third of the lease, so a pool run cancelled mid-solve ran its next solve
    in full. Now the runner's stop check sees the cancel after the solve in progress."""
    job_id = queue.submit(db, kind="pool", firm_id=_firm(db), payload={"time_limit_s": 600})
    heard = []

    def one_long_solve(kind, payload, progress, stop):
        assert queue.cancel(db, job_id)  # its owner cancels it; progress does not move
        heard.append(_until(stop))
        raise JobStopped

    monkeypatch.setattr("api.jobs.worker.run_job", one_long_solve)
    assert _beating_worker(settings).run(max_jobs=1) == 1
    assert heard == [True]
    assert _job(db, job_id).status == "cancelled"
