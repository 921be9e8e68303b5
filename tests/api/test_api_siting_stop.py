"""A siting run's search runs in a spawned child that the worker kills when the run is
cancelled (its MIP solvers and threads ask nobody: a cancelled run of 600 s held its worker to
the end), and whose errors come back as raised."""

from __future__ import annotations

import time

import pytest

from api.jobs.runner import JobStopped, _stoppable
from network.errors import GongpeiError
from routing.siting.native import model_from_dict


def test_a_stop_kills_the_search_at_once() -> None:
    began = time.monotonic()

    def after_a_second() -> bool:
        return time.monotonic() - began > 1.0

    with pytest.raises(JobStopped):
        _stoppable(time.sleep, (60,), after_a_second)
    assert time.monotonic() - began < 10.0  # the child's start-up, a poll, the kill


def test_the_outcome_and_errors_come_back_as_the_child_made_them() -> None:
    assert _stoppable(divmod, (7, 2), lambda: False) == (3, 1)
    with pytest.raises(GongpeiError, match="field 'kind' must be one of"):
        _stoppable(model_from_dict, ({"kind": "nope"},), lambda: False)


def test_a_search_that_dies_says_so() -> None:
    import os

    with pytest.raises(RuntimeError, match="ended with no outcome"):
        _stoppable(os._exit, (3,), lambda: False)


def test_a_signal_to_the_workers_group_is_left_to_the_worker() -> None:
    # Ctrl-C reaches the whole process group: a search that died of it failed its job as a
    # crash, before the worker could hand the job back
    import os
    import signal
    import threading

    def interrupt_the_child() -> None:
        # at once, while the child is still starting (importing), and once it runs the search
        while not _children():
            time.sleep(0.001)
        for wait in (0.0, 1.0):
            time.sleep(wait)
            for pid in _children():
                os.kill(pid, signal.SIGINT)

    threading.Thread(target=interrupt_the_child, daemon=True).start()
    assert _stoppable(_sleep_then, (2.0, "done"), lambda: False) == "done"


def _sleep_then(seconds: float, value: str) -> str:
    time.sleep(seconds)
    return value


def _children() -> list[int]:
    import multiprocessing

    return [child.pid for child in multiprocessing.active_children()]
