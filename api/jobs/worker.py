"""A job worker process: claims jobs from the database, runs them, renews its lease meanwhile.

Run several (`gongpei serve --job-workers N` or `python -m api.jobs.worker`) on one or more
machines: they coordinate through the database only. Between jobs a worker also sweeps
expired reservations.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time

from api.booking import release_expired
from api.db.engine import Database
from api.jobs import queue
from api.jobs.runner import run_job
from api.settings import Settings
from network.errors import GongpeiError

log = logging.getLogger("gongpei.worker")

#: Seconds between writes of a running job's progress (when it moved) to its row.
PROGRESS_S = 1.0


class Worker:
    def __init__(
        self,
        settings: Settings,
        *,
        poll_s: float = 0.5,
        sweep_s: float = 5.0,
        progress_s: float = PROGRESS_S,
    ) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.id = queue.worker_name()
        self.poll_s = poll_s
        self.sweep_s = sweep_s
        self.progress_s = progress_s
        self.stopping = threading.Event()

    def run(self, *, max_jobs: int | None = None) -> int:
        """Loop until stopped (or `max_jobs` done); returns the number of jobs run."""
        done, last_sweep = 0, 0.0
        if queue.release_dead_local(self.db):
            log.info("took over the jobs of dead workers on this host")
        while not self.stopping.is_set() and (max_jobs is None or done < max_jobs):
            if time.monotonic() - last_sweep >= self.sweep_s:
                with self.db.writing() as session:
                    released = release_expired(session)
                if released:
                    log.info("released %d expired reservations", released)
                last_sweep = time.monotonic()
            job = queue.claim(self.db, self.id, self.settings.job_lease_s)
            if job is None:
                self.stopping.wait(self.poll_s)
                continue
            self.run_one(job)
            done += 1
        return done

    def run_one(self, job: queue.Claimed) -> None:
        log.info("job %s (%s) attempt %d", job.id, job.kind, job.attempt)
        progress = [0.0]
        beating = threading.Event()
        lease = self.settings.job_lease_s

        def heartbeat() -> None:
            """Renew the lease every third of it, and write progress when it has moved, at most
            every `progress_s`: runners report as often as they like, the job row is written
            at a steady rate."""
            written, renewed = 0.0, time.monotonic()
            while not beating.wait(min(self.progress_s, lease / 3)):
                due = time.monotonic() - renewed >= lease / 3
                if progress[0] == written and not due:
                    continue
                written, renewed = progress[0], time.monotonic()
                if not queue.renew(self.db, job.id, self.id, lease, written):
                    return

        beat = threading.Thread(target=heartbeat, daemon=True)
        beat.start()
        try:
            result, geojson = run_job(job.kind, job.payload, lambda f: progress.__setitem__(0, f))
        except GongpeiError as err:
            queue.fail(self.db, job.id, self.id, str(err))
        except Exception as err:  # a solver bug must not kill the worker; report it on the job
            log.exception("job %s crashed", job.id)
            queue.fail(self.db, job.id, self.id, f"internal error: {type(err).__name__}: {err}")
        else:
            if not queue.finish(self.db, job.id, self.id, result, geojson):
                log.warning("job %s was taken over by another worker; result dropped", job.id)
        finally:
            beating.set()
            beat.join()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run one Gongpei job worker.")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    settings = Settings(database_url=args.database_url) if args.database_url else Settings()
    worker = Worker(settings)
    signal.signal(signal.SIGTERM, lambda *_: worker.stopping.set())
    signal.signal(signal.SIGINT, lambda *_: worker.stopping.set())
    worker.run()
    worker.db.dispose()


if __name__ == "__main__":
    main()
