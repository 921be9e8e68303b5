"""Cancelling a job: a queued one never runs, a running pool run stops between its solves."""

from __future__ import annotations

import copy
import logging
import threading
import time

from sqlalchemy import select

from api.db.models import Job, Solution
from api.jobs import queue
from api.jobs.runner import expected_solves
from api.jobs.worker import Worker
from routing.pooling.compare import SolveSettings

GATE = (36.0670, 120.3830)
FIRMS = ("sf", "yto", "zto", "ems", "jd")
#: Five firms, two parcels each: exact Shapley solves 30 coalitions for each of two plans.
DAY = {
    "name": "five firms at the gate",
    "travel": {"straight_line": True, "walk_radius_m": 300},
    "firms": [{"id": f, "depot": [36.09, 120.41], "fleet": [{"count": 1}]} for f in FIRMS],
    "centres": [{"id": "hub", "at": [36.08, 120.395], "fleet": [{"count": 2}]}],
    "parcels": [
        {"id": f"{f}-{k}", "firm": f, "at": [GATE[0] + 0.0002 * k, GATE[1] + 0.0003 * n]}
        for n, f in enumerate(FIRMS)
        for k in range(1, 3)
    ],
}


def _batch(client, headers, problem):
    body = {"format": "vroom", "problem": problem, "engine": "ortools", "time_limit_s": 1}
    return client.post("/v1/batches", json=body, headers=headers)


def test_a_queued_batch_cancelled_never_runs(client, auth, db, vroom_problem):
    job_id = _batch(client, auth["a"], vroom_problem(3)).json()["id"]
    r = client.post(f"/v1/batches/{job_id}/cancel", headers=auth["a"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and r.json()["finished_at"]
    assert queue.claim(db, "host:1:aaaaaa", 30) is None  # nothing left to run
    result = client.get(f"/v1/batches/{job_id}/solution", headers=auth["a"])
    assert result.status_code == 409 and "cancelled" in result.json()["detail"]
    again = client.post(f"/v1/batches/{job_id}/cancel", headers=auth["a"])
    assert again.status_code == 409
    assert again.json()["detail"] == f"batch {job_id} is cancelled: there is nothing to cancel"


def test_only_the_owner_cancels_and_an_ended_job_stays_as_it_is(
    client, auth, db, settings, vroom_problem
):
    job_id = _batch(client, auth["a"], vroom_problem(3)).json()["id"]
    assert client.post(f"/v1/batches/{job_id}/cancel", headers=auth["b"]).status_code == 404
    not_a_siting_run = client.post(f"/v1/siting-runs/{job_id}/cancel", headers=auth["planner"])
    assert not_a_siting_run.status_code == 404
    assert Worker(settings).run(max_jobs=1) == 1
    r = client.post(f"/v1/batches/{job_id}/cancel", headers=auth["a"])
    assert r.status_code == 409
    assert r.json()["detail"] == f"batch {job_id} is done: there is nothing to cancel"
    assert client.get(f"/v1/batches/{job_id}", headers=auth["a"]).json()["status"] == "done"


def test_a_running_pool_run_stops_between_its_solves(
    client, auth, db, settings, monkeypatch, caplog
):
    import routing.pooling.compare as compare

    solves = []
    real = compare.solve
    monkeypatch.setattr(compare, "solve", lambda *a, **k: solves.append(1) or real(*a, **k))
    body = {"day": copy.deepcopy(DAY), "engine": "ortools", "time_limit_s": 0.5,
            "coalition_time_limit_s": 0.3}  # fmt: skip
    job_id = client.post("/v1/pool-runs", json=body, headers=auth["planner"]).json()["id"]
    worker = Worker(settings, progress_s=0.05)
    caplog.set_level(logging.INFO, logger="gongpei.worker")
    thread = threading.Thread(target=worker.run, kwargs={"max_jobs": 1})
    thread.start()
    try:
        while len(solves) < 3:  # the solo plans are under way
            time.sleep(0.05)
        r = client.post(f"/v1/pool-runs/{job_id}/cancel", headers=auth["planner"])
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
    finally:
        thread.join(timeout=300)
    assert not thread.is_alive()
    # it stopped long before the 5 + 2 + 2 x 30 solves the run needs (centre retries aside)
    assert len(solves) < expected_solves(len(FIRMS), SolveSettings()) / 2
    assert f"job {job_id} stopped: it was cancelled" in caplog.text
    with db.reading() as session:
        assert session.get(Job, job_id).status == "cancelled"
        assert session.scalars(select(Solution).where(Solution.job_id == job_id)).first() is None
