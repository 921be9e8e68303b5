"""A finished job's outcome is kept through a database outage of any length.

The worker used to give up storing it after four pauses (15 s): a managed PostgreSQL's
failover takes a minute or two, so a solve that ended during one was thrown away, and its job,
still `running` under this worker's lease (its limit plus three times its time limit: 30 min
for a 600 s batch), waited for that lease to lapse and then ran again from the start as a new
attempt, though the worker holding the result could do nothing else meanwhile.
"""

from __future__ import annotations

import threading

from sqlalchemy.exc import OperationalError

from api.db.models import Job, Solution
from api.jobs import queue
from api.jobs.worker import Worker
from api.security import create_firm


def _queued_job(db) -> str:
    with db.writing() as session:
        firm, _ = create_firm(session, "firm-a", "firm")
    return queue.submit(db, kind="batch", firm_id=firm.id, payload={})


def _outage() -> OperationalError:
    return OperationalError("UPDATE jobs", {}, ConnectionRefusedError("connection refused"))


def _database_away_for(blips: int, monkeypatch, *, reads_too: bool = True) -> list[int]:
    """`queue.finish` refused ``blips`` times, then let through, and (``reads_too``) reads of
    the job refused meanwhile, as in an outage; the stores tried are listed."""
    finish, still_mine, tries = queue.finish, queue.still_mine, []

    def finish_after_blips(*args, **kwargs) -> bool:
        tries.append(1)
        if len(tries) <= blips:
            raise _outage()
        return finish(*args, **kwargs)

    def read_after_blips(*args, **kwargs) -> bool:
        if len(tries) <= blips:
            raise _outage()
        return still_mine(*args, **kwargs)

    monkeypatch.setattr(queue, "finish", finish_after_blips)
    if reads_too:
        monkeypatch.setattr(queue, "still_mine", read_after_blips)
    monkeypatch.setattr("api.jobs.worker.run_job", lambda *_, **__: ({"ok": True}, None))
    return tries


def test_an_outcome_is_stored_however_long_the_outage(db, settings, monkeypatch, caplog):
    """Twelve refusals, past every pause of `store_retry_s` (the last is repeated): stored,
    as attempt 1, and the outage is one warning and one line when it is over."""
    caplog.set_level("INFO", logger="gongpei.worker")
    job_id, tries = _queued_job(db), _database_away_for(12, monkeypatch)
    assert Worker(settings, store_retry_s=(0.0, 0.01)).run(max_jobs=1) == 1
    assert len(tries) == 13
    with db.reading() as session:
        job = session.get(Job, job_id)
        assert (job.status, job.attempts) == ("done", 1)
        assert session.get(Solution, job_id) is not None
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "gongpei.worker"]
    warned = [msg for level, msg in lines if level == "WARNING" and "outcome" in msg]
    assert len(warned) == 1 and "outcome not stored" in warned[0], warned
    assert any("database back after" in msg for level, msg in lines if level == "INFO"), lines


def test_a_write_refused_while_the_database_answers_is_given_up(db, settings, monkeypatch):
    """No outage (reads work): retried for ever, a write the database will never take would
    wedge the worker; it gives up after the pauses, as before, and the job runs again."""
    job_id, tries = _queued_job(db), _database_away_for(10**6, monkeypatch, reads_too=False)
    assert Worker(settings, store_retry_s=(0.0, 0.01)).run(max_jobs=1) == 1
    assert len(tries) == 3
    with db.reading() as session:
        assert session.get(Job, job_id).status == "running"


def test_a_stopping_worker_gives_up_storing(db, settings, monkeypatch):
    """Told to stop (SIGTERM, Ctrl-C) while the database is away, the worker ends its pauses
    and leaves the job to run again, as it would have to once killed."""
    job_id, tries = _queued_job(db), _database_away_for(10**6, monkeypatch)
    worker = Worker(settings, store_retry_s=(0.01,))
    threading.Timer(0.3, worker.stopping.set).start()
    assert worker.run(max_jobs=1) == 1
    assert 2 <= len(tries) < 10**6
    with db.reading() as session:
        assert session.get(Job, job_id).status == "running"
        assert session.get(Solution, job_id) is None


class _BackAfterAPause(threading.Event):
    """A worker's stop event whose first wait ends the outage: the database comes back while
    the worker pauses between stores."""

    def __init__(self, outage: dict[str, bool]) -> None:
        super().__init__()
        self.outage = outage

    def wait(self, timeout: float | None = None) -> bool:
        self.outage["down"] = False
        return super().wait(0)


def test_a_database_back_during_a_pause_gets_the_outcome(db, settings, monkeypatch):
    """Asked whether the database answers after the pause rather than right after the refused
    write, the worker took a database just back for one refusing the write, and dropped the
    outcome of a solve it had finished (seen live: "lease renewed again", then "outcome not
    stored, it will run again")."""
    job_id, outage = _queued_job(db), {"down": True}
    finish, still_mine = queue.finish, queue.still_mine

    def unless_down(action):
        def call(*args, **kwargs):
            if outage["down"]:
                raise _outage()
            return action(*args, **kwargs)

        return call

    monkeypatch.setattr(queue, "finish", unless_down(finish))
    monkeypatch.setattr(queue, "still_mine", unless_down(still_mine))
    monkeypatch.setattr("api.jobs.worker.run_job", lambda *_, **__: ({"ok": True}, None))
    worker = Worker(settings, store_retry_s=(0.0,))
    worker.stopping = _BackAfterAPause(outage)
    assert worker.run(max_jobs=1) == 1
    with db.reading() as session:
        assert session.get(Job, job_id).status == "done"
