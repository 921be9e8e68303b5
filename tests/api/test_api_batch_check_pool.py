"""A large batch is checked in a child process (`api.check_pool`), so that its check leaves the
API process's GIL to the public search: four 3,000-stop checks at once took the search's p99
from 9 to 99 ms. A small one is checked in-process."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

from api.app import create_app
from api.check_pool import NICENESS, CheckPool
from api.routers.jobs import LARGE_BATCH_STOPS


def _large() -> dict:
    """A batch past the threshold, timed by straight lines (a body of 80 kB, not 2 MB)."""
    jobs = [
        {"id": j, "location": [120.38 + j * 1e-5, 36.06], "delivery": [1]}
        for j in range(1, LARGE_BATCH_STOPS + 101)
    ]
    vehicles = [{"id": v, "start": [120.38, 36.07], "capacity": [len(jobs)]} for v in (1, 2)]
    return {"vehicles": vehicles, "jobs": jobs, "travel": {"source": "straight_line"}}


def _batch(client, headers, problem):
    body = {"format": "vroom", "problem": problem, "engine": "ortools", "time_limit_s": 1}
    return client.post("/v1/batches", json=body, headers=headers)


@pytest.mark.slow
def test_a_large_batch_is_checked_in_a_child_and_the_app_ends_its_children(
    db, settings, auth, vroom_problem, monkeypatch
):
    """A small batch never reaches the pool; a large one is checked there, at a lower CPU
    priority, its bad field still a 422 at its place; the pool's processes end with the app."""
    sent, real = [], CheckPool._in_child

    def spy(pool: CheckPool, payload: dict, estimate: bool) -> tuple[str, ...]:
        sent.append(len(payload["problem"]["jobs"]))
        return real(pool, payload, estimate)

    monkeypatch.setattr(CheckPool, "_in_child", spy)
    before = set(mp.active_children())
    large = _large()
    with TestClient(create_app(settings)) as client:
        assert _batch(client, auth["a"], vroom_problem(12)).status_code == 202
        assert sent == []
        assert _batch(client, auth["a"], large).status_code == 202
        large["jobs"][550]["time_windows"] = [[100, 50]]
        bad = _batch(client, auth["a"], large)
        children = set(mp.active_children()) - before
        niceness = {os.getpriority(os.PRIO_PROCESS, child.pid) for child in children}
    assert sent == [len(large["jobs"])] * 2
    assert bad.status_code == 422, bad.text
    (problem,) = bad.json()["detail"]
    assert problem["loc"] == ["body", "problem", "jobs", 550, "time_windows", 0]
    assert "time window ends (00:00:50) before it starts" in problem["msg"]
    assert niceness == {os.getpriority(os.PRIO_PROCESS, 0) + NICENESS}  # the search first
    assert children and not any(child.is_alive() for child in children)


@pytest.mark.slow
def test_a_check_whose_process_died_is_a_503_and_the_next_check_runs(vroom_problem):
    """A child killed under a check (the OOM killer) is a 503 to retry, not a hang, and the
    pool it broke is replaced at the next check."""
    payload = {"format": "vroom", "problem": vroom_problem(3)}
    pool = CheckPool(1)
    try:
        before = set(mp.active_children())
        assert pool.profiles(payload, estimate=False) == ("car", "car")
        for child in set(mp.active_children()) - before:
            os.kill(child.pid, signal.SIGKILL)
            child.join()
        with pytest.raises(HTTPException) as died:
            pool.profiles(payload, estimate=False)
        assert died.value.status_code == 503 and died.value.headers["Retry-After"]
        assert "send the batch again" in died.value.detail
        assert pool.profiles(payload, estimate=False) == ("car", "car")
    finally:
        pool.close()
