"""A siting run's progress moves while it runs: it read 0 until its result was in (its search
runs in a child process that told the worker nothing), so a planner polling a run of minutes
saw no sign of it. It is now the run's time over its limit, and 0.99 once the search is done."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from api.db.models import Job
from api.jobs.worker import Worker


def _body(n_demand: int, n_sites: int, time_limit_s: float) -> dict:
    """A p-median of straight-line points over 3 km: large enough (60,000 pairs) that its
    search runs to its limit."""
    rng = np.random.default_rng(0)
    lat = 36.06 + 0.03 * rng.random(n_demand + n_sites)
    lon = 120.38 + 0.03 * rng.random(n_demand + n_sites)
    return {
        "model": {"kind": "pmedian", "p": 20},
        "radius_m": 400,
        "distance": "straight_line",
        "demand": [
            {"id": f"d{i}", "lat": lat[i], "lon": lon[i], "parcels": 5 + i % 7}
            for i in range(n_demand)
        ],
        "candidates": [
            {"id": f"s{j}", "lat": lat[n_demand + j], "lon": lon[n_demand + j]}
            for j in range(n_sites)
        ],
        "time_limit_s": time_limit_s,
    }


@pytest.mark.slow
def test_a_siting_runs_progress_moves_before_its_result(client, auth, db, settings) -> None:
    r = client.post("/v1/siting-runs", json=_body(3000, 400, 3.0), headers=auth["planner"])
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    worker = Worker(settings, progress_s=0.05, poll_s=0.01)
    thread = threading.Thread(target=worker.run, kwargs={"max_jobs": 1})
    thread.start()
    seen: list[tuple[str, float]] = []
    try:
        while thread.is_alive():
            with db.reading() as session:
                job = session.get(Job, job_id)
                seen.append((job.status, job.progress))
            time.sleep(0.05)
    finally:
        thread.join(timeout=120)
    with db.reading() as session:
        job = session.get(Job, job_id)
        assert (job.status, job.progress) == ("done", 1.0), job.error
    running = [progress for status, progress in seen if status == "running"]
    assert any(0 < progress < 1 for progress in running), seen
    assert running == sorted(running)  # it never goes back
