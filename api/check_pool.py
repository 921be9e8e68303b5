"""A large batch's check at submission, run in a child process of the API process.

Checking a batch builds its N x N travel estimate (`api.jobs.runner.read_batch`): 0.5 to 1.3
s of CPU at 3,000 stops. Run in the API process's threadpool it held the GIL, so every other
request waited on it: with four 3,000-stop checks at once, the public locker search's p99
went from 9 to 99 ms. A large batch is checked here instead, in a small pool of spawned
processes (spawned, not forked: the API process runs threads, and a fork copies the locks
they hold); a small one stays in-process, where sending it to a child would cost more than
its check. At most `workers` checks run at once, each in its own process with its own
estimate (0.4 GiB at 3,000 stops); the others wait for a turn here, unsent (`CheckPool.profiles`).
A child that dies (the OOM killer) fails only the checks it and its siblings held, as a 503:
the next check starts a new pool.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException

if TYPE_CHECKING:
    from routing.model import Problem

#: Seconds a client is told to wait after a check whose process died.
RETRY_AFTER_S = 5


def vehicle_profiles(problem: Problem) -> tuple[str, ...]:
    """A checked batch's vehicles' travel profiles: all the API keeps of the parsed problem, so
    that a child sends back a few words, not the estimate."""
    return tuple(vehicle.profile for vehicle in problem.vehicles)


def checked_profiles(payload: dict[str, Any], estimate: bool) -> tuple[str, ...]:
    """A child's work: the batch checked as `read_batch` reads it (a `ProblemError` naming
    its field where it is bad), and its `vehicle_profiles`."""
    from api.jobs.runner import read_batch

    return vehicle_profiles(read_batch(payload, estimate=estimate))


class CheckPool:
    """Up to ``workers`` child processes checking large batches, started at the first one."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._turns = threading.BoundedSemaphore(workers)
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def profiles(self, payload: dict[str, Any], *, estimate: bool) -> tuple[str, ...]:
        """`checked_profiles` in a child, once one of the pool's turns is free; its errors are
        raised here as the child raised them (a `ProblemError` keeps its `loc`)."""
        with self._turns:
            return self._in_child(payload, estimate)

    def _in_child(self, payload: dict[str, Any], estimate: bool) -> tuple[str, ...]:
        executor = self._started()
        try:
            return executor.submit(checked_profiles, payload, estimate).result()
        except BrokenProcessPool:
            self._discard(executor)
            raise HTTPException(
                503,
                "the batch's check stopped: the process checking it ended (out of memory?); "
                "send the batch again",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            ) from None

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    self.workers,
                    mp_context=mp.get_context("spawn"),
                    initializer=_child_start,
                    initargs=(os.getpid(),),
                )
            return self._executor

    def _discard(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """End the children, once the checks they hold are done (the app's shutdown)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


#: How often a child asks whether the API process that started it is still there.
PARENT_POLL_S = 1.0

#: How much lower a child's CPU priority is than the API process's: where the cores are all
#: busy, a firm's check waits for the public search, not the search for the check.
NICENESS = 10


def _child_start(parent: int) -> None:
    """A child runs at a lower priority (`NICENESS`); it leaves Ctrl-C and SIGTERM sent to the
    server's process group to the API process, which ends the pool as it shuts down, and it
    ends itself once that process is gone however it ended (killed outright, its pool never
    shut down)."""
    os.nice(NICENESS)
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_IGN)
    threading.Thread(target=_end_with, args=(parent,), daemon=True).start()


def _end_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)
