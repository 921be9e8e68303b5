"""A batch cancelled while it is solved stops within a plan or two of its worker hearing the
cancel, not at its time limit: the engines and `routing.solve` take a `should_stop` callable,
asked at each new plan (OR-Tools runs no Python code of ours otherwise), and the batch runner
passes its job's stop to them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import pytest
from sqlalchemy import select

from api.db.models import Job, Solution
from api.jobs.worker import Worker
from routing import solve as solving
from routing.check import check
from routing.engines import STOPPED, get_engine
from routing.model import Centre, Problem, Vehicle
from routing.model import Job as Task

LIMIT_S = 60.0  # what each solve would run without a stop


def _day(n: int, *, windows: bool = False) -> Problem:
    """`n` jobs around one depot, four vans: a search that improves for a long while."""
    rng = np.random.default_rng(7)
    points = rng.uniform(0, 10_000, (n + 1, 2))
    metres = np.rint(np.linalg.norm(points[:, None, :] - points[None, :, :], axis=2))
    jobs = tuple(
        Task(id=f"j{i}", location=i, delivery=(1,), service=120.0,
             time_windows=((8 * 3600.0, 12 * 3600.0),) if windows and i % 2 else ())
        for i in range(1, n + 1)
    )  # fmt: skip
    day = (6 * 3600.0, 20 * 3600.0)
    vans = tuple(
        Vehicle(id=f"v{k}", start="d", end="d", capacity=(n // 3,), shift=day) for k in range(4)
    )
    return Problem(
        centres=(Centre(id="d", location=0),), vehicles=vans, jobs=jobs,
        matrices={"van": {"durations": np.rint(metres / 8), "distances": metres}},
    )  # fmt: skip


def _after(calls: int) -> tuple[Callable[[], bool], list[int]]:
    """A `should_stop` that says stop from its `calls`-th question on, and its count."""
    asked = [0]

    def should_stop() -> bool:
        asked[0] += 1
        return asked[0] >= calls

    return should_stop, asked


@pytest.mark.parametrize("engine", ["ortools", "pyvrp"])
def test_an_engine_stops_soon_after_should_stop_says_so(engine: str) -> None:
    problem = _day(150)
    should_stop, asked = _after(5)
    began = time.monotonic()
    solution = get_engine(engine).solve(problem, time_limit_s=LIMIT_S, should_stop=should_stop)
    assert time.monotonic() - began < LIMIT_S / 6
    assert solution.meta["stopped"] is True and asked[0] == 5  # not asked again once stopped
    assert check(problem, solution).ok  # the plan it had by then, sound
    assert all(u.reason.startswith(STOPPED) for u in solution.unassigned)


def test_a_should_stop_that_never_says_stop_changes_no_plan() -> None:
    """OR-Tools' search is deterministic: with or without the check at each plan, the same
    plans come in the same order (what the check costs: benchmarks/ortools_scale.py --speed)."""
    problem = _day(40, windows=True)
    runs: list[list[float]] = []
    for should_stop in (None, lambda: False):
        costs: list[float] = []
        get_engine("ortools").solve(
            problem, time_limit_s=1.0, progress=lambda p, c=costs: c.append(p.cost),
            should_stop=should_stop,
        )  # fmt: skip
        runs.append(costs)
    common = min(map(len, runs))
    assert common >= 10 and runs[0][:common] == runs[1][:common]


def test_a_stopped_race_does_not_wait_for_its_other_search() -> None:
    problem = _day(150)
    should_stop, _ = _after(3)

    def slow(problem: Problem, *, time_limit_s: float, seed: int, **_: object) -> None:
        time.sleep(time_limit_s)  # a child that keeps running (it took no `stop=` and died)

    began = time.monotonic()
    solution = solving._race(
        problem, get_engine("ortools").solve, slow, "test", time_limit_s=LIMIT_S, seed=0,
        progress=None, should_stop=should_stop,
    )  # fmt: skip
    # only its short wait for the child's plan (`RACE_STOP_WAIT_S`), not the child's limit
    # nor the 2 s it once gave a child before killing it (the review's race of 2.1 s)
    assert time.monotonic() - began < solving.RACE_STOP_WAIT_S + 0.9
    assert solution.meta["stopped"] is True


def test_auto_stops_without_its_fallback_search() -> None:
    should_stop, _ = _after(3)
    began = time.monotonic()
    solution = solving.solve(
        _day(150), time_limit_s=LIMIT_S, race=False, should_stop=should_stop
    )
    assert time.monotonic() - began < LIMIT_S / 6
    assert solution.engine == "pyvrp" and solution.meta["stopped"] is True


def _batch(n_jobs: int) -> dict:
    """A VROOM batch of `n_jobs` deliveries for four vans, a minute of service each."""
    rng = np.random.default_rng(1)
    pts = np.c_[120.38 + rng.uniform(0, 0.05, n_jobs + 1), 36.06 + rng.uniform(0, 0.05, n_jobs + 1)]
    seconds = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1)) * 111_000 / 8.0
    return {
        "vehicles": [{"id": v, "start_index": 0, "end_index": 0, "capacity": [n_jobs // 3]}
                     for v in (1, 2, 3, 4)],
        "jobs": [{"id": j, "location_index": j, "delivery": [1], "service": 60}
                 for j in range(1, n_jobs + 1)],
        "matrices": {"car": {"durations": seconds.round().astype(int).tolist()}},
    }  # fmt: skip


@pytest.mark.slow
def test_a_batch_cancelled_while_solved_stops_within_seconds(client, auth, db, settings) -> None:
    """Before: the search ran to its time limit (here 60 s, up to 600 s) after the cancel."""
    body = {"format": "vroom", "problem": _batch(200), "engine": "ortools",
            "time_limit_s": LIMIT_S}  # fmt: skip
    r = client.post("/v1/batches", json=body, headers=auth["a"])
    assert r.status_code in (200, 201, 202), r.text
    job_id = r.json()["id"]
    worker = Worker(settings, progress_s=0.05, poll_s=0.01)
    thread = threading.Thread(target=worker.run, kwargs={"max_jobs": 1})
    thread.start()
    try:
        while _progress(db, job_id) < 0.02:  # searching: a first plan is in, time is passing
            time.sleep(0.05)
        assert client.post(f"/v1/batches/{job_id}/cancel", headers=auth["a"]).status_code == 200
        cancelled = time.monotonic()
    finally:
        thread.join(timeout=LIMIT_S + 30)
    stopped_after = time.monotonic() - cancelled
    assert not thread.is_alive()
    assert stopped_after < 10.0, stopped_after  # a plan or two after the next beat
    with db.reading() as session:
        assert session.get(Job, job_id).status == "cancelled"
        assert session.scalars(select(Solution).where(Solution.job_id == job_id)).first() is None


def _progress(db, job_id: str) -> float:
    with db.reading() as session:
        job = session.get(Job, job_id)
        assert job.status in ("queued", "running"), job.status
        return job.progress or 0.0
