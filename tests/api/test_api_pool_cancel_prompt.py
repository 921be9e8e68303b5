"""A pool run cancelled while one of its plans is solved stops within a plan or two of its
worker hearing the cancel, not when that solve reaches its time limit: `compare_day` hands
its ``should_stop`` to every routing solve (the engines ask it at each new plan) and raises
`PoolStopped` once it says so; the pool runner passes its job's stop to it."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from api.db.models import Job, Solution
from api.jobs.worker import Worker
from routing.pooling import compare
from routing.pooling.compare import PoolStopped, SolveSettings, compare_day
from routing.pooling.day import parse_day
from routing.pooling.travel import day_travel

LIMIT_S = 60.0  # each day plan's time limit: what a solve would run without a stop
FIRMS = ("sf", "yto")


def _day(parcels: int) -> dict[str, Any]:
    """Two firms with `parcels` parcels each over a few km: solo plans whose searches keep
    finding better plans for a long while."""
    rng = np.random.default_rng(3)
    spots = rng.uniform(0, 0.05, (2 * parcels, 2))
    return {
        "name": "two firms, many parcels",
        "travel": {"straight_line": True, "walk_radius_m": 300},
        "firms": [{"id": f, "depot": [36.09, 120.41], "fleet": [{"count": 2}]} for f in FIRMS],
        "centres": [{"id": "hub", "at": [36.08, 120.395], "fleet": [{"count": 2}]}],
        "parcels": [
            {"id": f"{f}-{k}", "firm": f,
             "at": [36.05 + spots[n * parcels + k][0], 120.37 + spots[n * parcels + k][1]]}
            for n, f in enumerate(FIRMS)
            for k in range(parcels)
        ],
    }  # fmt: skip


def test_compare_day_raises_soon_after_should_stop_says_so() -> None:
    day = parse_day(_day(100))
    asked = [0]

    def should_stop() -> bool:  # stop from the fifth question on: mid the first solo plan
        asked[0] += 1
        return asked[0] >= 5

    settings = SolveSettings(engine="ortools", time_limit_s=LIMIT_S, coalition_time_limit_s=5)
    began = time.monotonic()
    with pytest.raises(PoolStopped):
        compare_day(day, day_travel(day), settings, should_stop=should_stop)
    assert time.monotonic() - began < LIMIT_S / 6  # before: the solo plan's 30 s, and more


def test_a_should_stop_that_never_says_stop_changes_no_result() -> None:
    day = parse_day(_day(4))
    settings = SolveSettings(engine="ortools", time_limit_s=0.3, coalition_time_limit_s=0.2)
    runs = [
        compare_day(day, day_travel(day), settings, should_stop=stop, locker_drops=False)
        for stop in (None, lambda: False)
    ]
    assert runs[0].summary()["plans"] == runs[1].summary()["plans"]


@pytest.mark.slow
def test_a_pool_run_cancelled_mid_solve_stops_within_seconds(
    client, auth, db, settings, monkeypatch
) -> None:
    """Before: the run stopped only once the solo plan in progress reached its limit (30 s
    of the 60 s here, up to 300 s of 600)."""
    solving = threading.Event()
    real = compare.solve

    def solve(*args: Any, **kwargs: Any) -> Any:
        solving.set()
        return real(*args, **kwargs)

    monkeypatch.setattr(compare, "solve", solve)
    body = {"day": _day(100), "engine": "ortools", "time_limit_s": LIMIT_S,
            "coalition_time_limit_s": 5}  # fmt: skip
    r = client.post("/v1/pool-runs", json=body, headers=auth["planner"])
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    worker = Worker(settings, progress_s=0.05, poll_s=0.01)
    thread = threading.Thread(target=worker.run, kwargs={"max_jobs": 1})
    thread.start()
    try:
        assert solving.wait(timeout=60)
        time.sleep(2.0)  # well into the first solo plan's search
        r = client.post(f"/v1/pool-runs/{job_id}/cancel", headers=auth["planner"])
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        cancelled = time.monotonic()
    finally:
        thread.join(timeout=2 * LIMIT_S + 60)
    stopped_after = time.monotonic() - cancelled
    assert not thread.is_alive()
    assert stopped_after < 10.0, stopped_after  # a plan or two after the next beat
    with db.reading() as session:
        assert session.get(Job, job_id).status == "cancelled"
        assert session.scalars(select(Solution).where(Solution.job_id == job_id)).first() is None
