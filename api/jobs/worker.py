"""A job worker process: claims jobs from the database, runs them, renews its lease meanwhile.

Run several (`gongpei serve --job-workers N` or `python -m api.jobs.worker`) on one or more
machines: they coordinate through the database only. Between jobs a worker also sweeps
expired reservations. A database outage (a restart, a failover) is waited out: between jobs
by claiming again after bounded pauses, during a job by renewing its lease and storing its
outcome again. Told to stop (SIGTERM, SIGINT) during a job, a worker hands the job back to
the queue at its next heartbeat, so that the next worker runs it without counting an attempt.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError

from api.booking import release_expired
from api.db.engine import UNREACHABLE, Database, UnreachableError, first_line
from api.db.migrate import SchemaError, check_schema
from api.jobs import queue
from api.jobs.runner import JobStopped, ServerMapError, run_job
from api.settings import Settings, SettingsError
from network.errors import GongpeiError

log = logging.getLogger("gongpei.worker")

#: Seconds between heartbeats of a running job: each writes its progress (when it moved) or
#: asks whether the job is still the worker's (a cancel is heard within about this long).
PROGRESS_S = 1.0
#: Pauses before storing a job's outcome again while the database cannot be written, the last
#: one repeated until it is back: no outage (a managed server's failover takes minutes) should
#: throw away a finished solve.
STORE_RETRY_S = (1.0, 2.0, 4.0, 8.0)
#: Pauses before claiming again while the database is out of reach, the last one repeated
#: until it is back: between jobs a worker waits out an outage of any length, without
#: hammering a server that is starting up.
CLAIM_RETRY_S = (0.5, 1.0, 2.0, 4.0, 8.0)
T = TypeVar("T")


class Worker:
    def __init__(
        self,
        settings: Settings,
        *,
        poll_s: float = 0.5,
        sweep_s: float = 5.0,
        progress_s: float = PROGRESS_S,
        store_retry_s: Sequence[float] = STORE_RETRY_S,
        claim_retry_s: Sequence[float] = CLAIM_RETRY_S,
    ) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.id = queue.worker_name()
        self.poll_s = poll_s
        self.sweep_s = sweep_s
        self.progress_s = progress_s
        self.store_retry_s = store_retry_s
        self.claim_retry_s = claim_retry_s
        self.last_sweep = 0.0
        self.took_over_dead = False
        self.stopping = threading.Event()

    def run(self, *, max_jobs: int | None = None) -> int:
        """Loop until stopped (or `max_jobs` done); returns the number of jobs run."""
        done = 0
        while not self.stopping.is_set() and (max_jobs is None or done < max_jobs):
            job = self._next_job()
            if job is None:
                self.stopping.wait(self.poll_s)
                continue
            self.run_one(job)
            done += 1
        return done

    def _next_job(self) -> queue.Claimed | None:
        """A claimed job, or None (none queued, or stopping). While the database is out of
        reach between jobs (a restart, a failover) the claim is made again after each pause of
        `claim_retry_s`, its last repeated, until the database is back or the worker is
        stopped: one line says when the outage began and one when it ended, not a traceback
        per claim."""
        began: list[float] = []

        def told(err: Exception, _pause: float | None) -> None:
            if not began:
                began.append(time.monotonic())
                log.warning(
                    "database out of reach, claiming again every %g s at most until it is back: %s",
                    self.claim_retry_s[-1],
                    first_line(err),
                )

        pauses = itertools.chain(self.claim_retry_s, itertools.repeat(self.claim_retry_s[-1]))
        job = self._retrying(self._sweep_and_claim, pauses, told, wait=self.stopping.wait)
        if began and not self.stopping.is_set():
            log.info("database back after %.1f s; claiming again", time.monotonic() - began[0])
        return job

    def _sweep_and_claim(self) -> queue.Claimed | None:
        """Take over the jobs of this host's dead workers (once, at the first claim: so a worker
        started while the database is down waits for it like any claim), release expired
        reservations when a sweep is due, then claim the next job."""
        if not self.took_over_dead:
            if queue.release_dead_local(self.db):
                log.info("took over the jobs of dead workers on this host")
            self.took_over_dead = True
        if time.monotonic() - self.last_sweep >= self.sweep_s:
            with self.db.writing() as session:
                released = release_expired(session)
            if released:
                log.info("released %d expired reservations", released)
            self.last_sweep = time.monotonic()
        try:
            return queue.claim(self.db, self.id, self.settings.job_lease_s)
        except UNREACHABLE:
            raise
        except DBAPIError as err:
            # refused, not out of reach: no pause mends it, and a worker that dies at every
            # start (restarted by `gongpei serve`) must say why in one line
            log.critical(
                "worker %s stops: the database refuses its claim: %s", self.id, first_line(err)
            )
            raise

    def run_one(self, job: queue.Claimed) -> None:
        """Run a claimed job with its lease renewed meanwhile, then store its result or error."""
        log.info("job %s (%s) attempt %d", job.id, job.kind, job.attempt)
        lease = self._lease_s(job)
        try:  # before the solve starts: it may hold the interpreter from its first moment
            queue.renew(self.db, job.id, self.id, lease, 0.0)
        except UNREACHABLE as err:
            log.warning("job %s: lease not lengthened: %s", job.id, first_line(err))
        progress = [0.0]
        beating, gone = threading.Event(), threading.Event()
        beat = threading.Thread(
            target=self._heartbeat, args=(job, progress, beating, lease, gone), daemon=True
        )
        beat.start()
        stored = None
        try:
            write = self._outcome(job, progress, gone)
            if write is None:
                log.info(
                    "job %s stopped: it was cancelled, handed back, or another worker took it",
                    job.id,
                )
            else:
                stored = self._store(job, write)
                if stored is False:
                    log.warning(
                        "job %s was cancelled or taken over by another worker; outcome dropped",
                        job.id,
                    )
        finally:
            beating.set()
            beat.join()
        if stored is not True:  # a job stored as done or failed holds no quota place
            self._let_go(job)

    def _let_go(self, job: queue.Claimed) -> None:
        """Free the firm's place in its quota if the job was cancelled while this worker ran it
        (a database out of reach leaves that to the lease, which lapses)."""
        try:
            queue.let_go(self.db, job.id, self.id)
        except UNREACHABLE as err:
            log.warning("job %s: not let go, its lease will lapse: %s", job.id, first_line(err))

    def _outcome(
        self, job: queue.Claimed, progress: list[float], gone: threading.Event
    ) -> Callable[[], bool] | None:
        """Run the job; the write that stores its result, or its error (a solver bug must not
        kill the worker: it is reported on the job); None where the job stopped because it is
        no longer this worker's (``gone``: cancelled, handed back, or its lease lost). The
        job's owner reads its own input's errors as they are; the server's faults (its map, a
        bug), whose text may name the server's files or tables, it reads as such, with the
        job's id to find their detail in this worker's log."""
        began = time.monotonic()
        try:
            result, geojson = run_job(
                job.kind, job.payload, lambda f: progress.__setitem__(0, f), stop=gone.is_set
            )
        except JobStopped:
            return None
        except ServerMapError as err:
            log.error("job %s: the server's map (GONGPEI_MAP_NETWORK) cannot be loaded: %s",
                      job.id, err)
            error = f"the server's map cannot be loaded (see the server log, job {job.id})"
        except GongpeiError as err:
            error = str(err)
        except Exception:
            log.exception("job %s crashed", job.id)
            error = f"internal error (see the server log, job {job.id})"
        else:
            took_s = time.monotonic() - began
            return lambda: self._finish(job, result, geojson, took_s)
        return lambda: self._fail(job, error)

    def _finish(
        self, job: queue.Claimed, result: dict[str, Any], geojson: dict[str, Any] | None,
        took_s: float,
    ) -> bool:
        """Store the job's result, and say in the log that it is done and how long it ran: the
        operator read only a job's start and its failures there, never its end."""
        done = queue.finish(self.db, job.id, self.id, result, geojson)
        if done:
            log.info("job %s (%s, firm %d) done in %.1f s", job.id, job.kind, job.firm_id, took_s)
        return done

    def _fail(self, job: queue.Claimed, error: str) -> bool:
        """Store the job's error, and say in the log that (and why) it failed: the operator
        read nothing of a failed job there, only the firm polling it did."""
        failed = queue.fail(self.db, job.id, self.id, error)
        if failed:
            reason = " ".join(error.splitlines())
            log.warning("job %s (%s, firm %d) failed: %s", job.id, job.kind, job.firm_id, reason)
        return failed

    def _lease_s(self, job: queue.Claimed) -> float:
        """The job's lease: `job_lease_s` plus three times its own time limit. OR-Tools holds
        the interpreter until its first plan, so the heartbeat thread cannot renew meanwhile:
        on 3,000 jobs that once took over 120 s (4-10 s since its dimensions are tables), the
        30 s lease lapsed, other workers ran the job again and a healthy job was failed as
        "stopped 3 times". A crashed worker on this
        host is still found at once (`queue.release_dead_local`); elsewhere, by this lease."""
        limit = job.payload.get("time_limit_s")
        return self.settings.job_lease_s + 3.0 * (float(limit) if limit else 0.0)

    def _heartbeat(
        self,
        job: queue.Claimed,
        progress: list[float],
        beating: threading.Event,
        lease: float,
        gone: threading.Event,
    ) -> None:
        """Every `progress_s`: hand the job back if the worker is stopping; else renew the
        lease when a third of it has passed, or write the progress when it moved; else ask
        whether the job is still this worker's. Runners report as often as they like, the job
        row is written at a steady rate. Asking at every beat lets a cancel be heard within
        about a second: heard only at renewals, it reached a pool run after its next routing
        solve had begun. A database that cannot be reached (a restart, a failover) is tried
        again at the next beat: were this thread to end, the lease would lapse mid-solve and
        another worker would run the job again while this one's result is dropped. A job
        handed back, or no longer this worker's (cancelled, or taken over), sets ``gone``,
        which the job's runner checks where it can stop."""
        written, renewed, away = 0.0, time.monotonic(), False
        while not beating.wait(min(self.progress_s, lease / 3)):
            moved = progress[0]
            try:
                if self.stopping.is_set():
                    self._hand_back(job)
                    mine = False
                elif moved != written or time.monotonic() - renewed >= lease / 3:
                    mine = queue.renew(self.db, job.id, self.id, lease, moved)
                    written, renewed = moved, time.monotonic()
                else:
                    mine = queue.still_mine(self.db, job.id, self.id)
            except UNREACHABLE as err:
                if not away:  # once per outage, not at every beat
                    log.warning(
                        "job %s: lease not renewed, trying again every beat: %s",
                        job.id,
                        first_line(err),
                    )
                away = True
                continue
            if away:
                log.info("job %s: lease renewed again", job.id)
                away = False
            if not mine:
                gone.set()
                return

    def _hand_back(self, job: queue.Claimed) -> None:
        """Queue the job again, its attempt not counted, as this worker is stopping: killed
        after `gongpei serve`'s grace, it used to count as dead, and three restarts during a
        long job failed the job for good. The job then stops where its runner asks ``gone``
        (a batch's search at its next plan, a pool run between its solves), so the worker
        ends within its grace, and the next worker runs it again; a run that does not ask (a
        siting run) runs on, its outcome stored if no other worker has claimed the job by
        then."""
        if queue.hand_back(self.db, job.id, self.id):
            log.info("job %s handed back to the queue: this worker is stopping", job.id)

    def _store(self, job: queue.Claimed, write: Callable[[], bool]) -> bool | None:
        """``write`` (finish or fail) run again after each pause of `store_retry_s` while the
        database is out of reach, and after repeats of its last pause for as long as the
        database does not answer at all; its answer, or None where the worker gave up: told to
        stop, or the database answers yet refuses the write (the job, its lease no longer
        renewed, is claimed and run again). Giving up after the pauses (15 s) in an outage
        threw a solve away in any longer one (a managed server's failover), and its job, still
        running under this worker's lease (30 min for a 600 s batch), waited that long to run
        again from the start as a new attempt, while this worker, holding its outcome, could
        do nothing else. One line says when the trouble began and one how it ended."""
        began: list[float] = []

        def told(err: Exception, _pause: float | None) -> None:
            if not began:
                began.append(time.monotonic())
                log.warning(
                    "job %s: outcome not stored, trying again while the database is out of "
                    "reach: %s",
                    job.id,
                    first_line(err),
                )

        pauses = itertools.chain(self.store_retry_s, itertools.repeat(self.store_retry_s[-1]))
        stored = self._retrying(write, pauses, told, wait=self._store_pause(job))
        if began and stored is None:
            log.error("job %s: outcome not stored, it will run again", job.id)
        elif began:
            log.info("job %s: database back after %.1f s", job.id, time.monotonic() - began[0])
        return stored

    def _store_pause(self, job: queue.Claimed) -> Callable[[float], bool]:
        """A pause between stores, true where the worker stops trying: the pauses of
        `store_retry_s` are taken whatever happens (`gongpei serve` gives a stopping worker
        30 s), the repeats of its last one while the worker is not told to stop and the
        database does not answer (`_answers`): a write it refuses while it answers (a result
        past its limits, say) is no outage, and retried for ever it would wedge the worker."""
        taken = itertools.count(1)

        def pause(seconds: float) -> bool:
            if next(taken) <= len(self.store_retry_s):
                time.sleep(seconds)
                return False
            # asked right after the refused write: asked after the pause, a database back
            # meanwhile was taken for one refusing the write, and the outcome was dropped
            return self._answers(job) or self.stopping.wait(seconds)

        return pause

    def _answers(self, job: queue.Claimed) -> bool:
        """Whether the database answers a read (of the job) at all."""
        try:
            queue.still_mine(self.db, job.id, self.id)
        except UNREACHABLE:
            return False
        return True

    @staticmethod
    def _retrying(
        action: Callable[[], T],
        pauses: Iterable[float],
        told: Callable[[Exception, float | None], None],
        *,
        wait: Callable[[float], Any] = time.sleep,
    ) -> T | None:
        """``action`` run again after each of ``pauses`` while the database is out of reach,
        ``told`` of each failure with the pause to come (None once they are spent); its
        answer, or None once the pauses are spent or ``wait`` returns true (a stopping
        worker's event: the pause is cut short and no claim made after it)."""
        left = iter(pauses)
        while True:
            try:
                return action()
            except UNREACHABLE as err:
                pause = next(left, None)
                told(err, pause)
                if pause is None:
                    return None
            if wait(pause):
                return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run one Gongpei job worker.")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    # the pid tells apart the lines of `gongpei serve --job-workers N`, which all go to its
    # stderr, and names the process that its "job worker PID exited" line speaks of
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(process)d %(message)s")
    try:
        settings = Settings(database_url=args.database_url) if args.database_url else Settings()
    except SettingsError as err:  # a bad GONGPEI_* variable: one line, as the CLI says it
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    worker = Worker(settings)
    try:  # a database out of reach is waited out by the claims; a schema not current is not
        check_schema(worker.db.engine)
    except SchemaError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except UnreachableError:
        pass
    signal.signal(signal.SIGTERM, lambda *_: worker.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: worker.stopping.set())
    worker.run()
    worker.db.dispose()


if __name__ == "__main__":
    main()
