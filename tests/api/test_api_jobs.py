"""Batches solved by worker processes: status, solution, isolation, and restart after a crash."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, make_url, select
from sqlalchemy.exc import OperationalError

from api.db.models import Job, Solution
from api.jobs import queue
from api.jobs.worker import Worker
from api.security import create_firm
from network.geo import haversine_m


def _submit(client, headers, problem, **options):
    body = {
        "format": "vroom",
        "problem": problem,
        "engine": "ortools",
        "time_limit_s": 1,
        **options,
    }
    return client.post("/v1/batches", json=body, headers=headers)


def test_batch_is_solved_by_a_worker_and_isolated(client, settings, auth, vroom_problem):
    r = _submit(client, auth["a"], vroom_problem(10))
    assert r.status_code == 202 and r.json()["status"] == "queued"
    job_id = r.json()["id"]
    status = client.get(f"/v1/batches/{job_id}", headers=auth["a"]).json()
    assert status["status"] == "queued"
    assert client.get(f"/v1/batches/{job_id}/solution", headers=auth["a"]).status_code == 409

    assert Worker(settings).run(max_jobs=1) == 1

    status = client.get(f"/v1/batches/{job_id}", headers=auth["a"]).json()
    assert status["status"] == "done" and status["progress"] == 1.0 and status["attempts"] == 1
    solution = client.get(f"/v1/batches/{job_id}/solution", headers=auth["a"]).json()
    assert solution["summary"]["unassigned"] == 0
    served = sorted(s["id"] for r in solution["routes"] for s in r["steps"] if s["type"] == "job")
    assert served == list(range(1, 11))
    geo = client.get(f"/v1/batches/{job_id}/solution?format=geojson", headers=auth["a"])
    assert geo.headers["content-type"].startswith("application/geo+json")
    assert any(f["geometry"]["type"] == "LineString" for f in geo.json()["features"])
    for path in (f"/v1/batches/{job_id}", f"/v1/batches/{job_id}/solution"):
        assert client.get(path, headers=auth["b"]).status_code == 404
    assert client.get(f"/v1/batches/{job_id}", headers=auth["planner"]).status_code == 403


def test_a_job_no_vehicle_can_carry_is_left_out_not_the_batch(client, settings, auth,
                                                               vroom_problem):
    """It was a 422 for the whole batch; VROOM (whose JSON this is) lists it unassigned."""
    problem = vroom_problem(5)
    capacity = problem["vehicles"][0]["capacity"][0]
    problem["jobs"][2]["delivery"] = [10 * capacity]
    r = _submit(client, auth["a"], problem)
    assert r.status_code == 202
    assert Worker(settings).run(max_jobs=1) == 1
    solution = client.get(f"/v1/batches/{r.json()['id']}/solution", headers=auth["a"]).json()
    (left,) = solution["unassigned"]
    assert left["id"] == problem["jobs"][2]["id"] and "too large for its capacity" in left["reason"]
    served = sorted(s["id"] for r in solution["routes"] for s in r["steps"] if s["type"] == "job")
    assert len(served) == 4 and solution["summary"]["checker"]["ok"]


def test_invalid_batch_is_422_naming_the_item(client, auth, vroom_problem):
    problem = vroom_problem(3)
    problem["jobs"][1]["location_index"] = 99
    r = _submit(client, auth["a"], problem)
    assert r.status_code == 422
    (problem_error,) = r.json()["detail"]
    assert problem_error["loc"] == ["body", "problem", "jobs", 1, "location_index"]
    assert "job '2'" in problem_error["msg"]
    r = client.post("/v1/batches", json={"format": "csv", "problem": {}}, headers=auth["a"])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "format"]


def test_a_batch_of_more_stops_than_the_api_takes_is_refused_before_it_is_built(
    client, auth, vroom_problem, monkeypatch
):
    """A batch's check built its N x N travel estimate in the API process: 10,000 jobs took
    4.8 GiB and the body limit admits ~48,000, so any firm could exhaust the server."""
    from api.routers import jobs

    monkeypatch.setattr(jobs, "read_batch", lambda *a, **kw: pytest.fail("built it"))
    problem = vroom_problem(2)
    problem["jobs"] = [{**problem["jobs"][0], "id": k} for k in range(1, 3_002)]
    r = _submit(client, auth["a"], problem)
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "problem", "jobs"]
    assert error["msg"].startswith("3,001 stops (a job is one, a shipment two); a batch holds")


def test_batch_errors_are_a_422_list_with_their_path(client, auth):
    """A batch the routing model refused was `{"detail": "location: lon: ..."}`, a string with
    no `loc`; and one without matrices on a server without a map was told of the CLI's
    `--network OSM_FILE`, which an API caller cannot use."""
    problem = json.dumps(VROOM_BATCH).replace("120.39", "200.39")  # no longitude
    r = client.post(
        "/v1/batches",
        content=f'{{"format": "vroom", "problem": {problem}}}',
        headers={**auth["a"], "Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text
    (problem_error,) = r.json()["detail"]
    assert problem_error["loc"] == ["body", "problem", "jobs", 0, "location"]
    assert problem_error["msg"].startswith("location: lon: ") and "180" in problem_error["msg"]
    for fmt, batch in (("vroom", VROOM_BATCH), ("native", NATIVE_BATCH)):
        r = client.post("/v1/batches", json={"format": fmt, "problem": batch}, headers=auth["a"])
        assert r.status_code == 422, r.text
        (no_map,) = r.json()["detail"]
        assert no_map["loc"] == ["body", "problem", "matrices"]
        assert '"travel": {"source": "straight_line"}' in no_map["msg"]
        assert "GONGPEI_MAP_NETWORK" in no_map["msg"] and "--network" not in no_map["msg"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda p: p["matrices"]["car"].update(durations=None), "matrices 'car': durations"),
        (lambda p: p.update(jobs={"a": 1}), "jobs: "),
        (lambda p: p.update(jobs=[1, 2]), "job #0: an object is required"),
        (lambda p: p["vehicles"][0].update(costs=None), "vehicle #0: costs"),
        (lambda p: p["vehicles"][0].update(capacity=[]), "capacity dimensions"),
    ],
)
def test_malformed_vroom_batch_is_422_naming_the_member(client, auth, vroom_problem, change, named):
    problem = vroom_problem(3)
    change(problem)
    r = _submit(client, auth["a"], problem)
    assert r.status_code == 422 and named in r.json()["detail"][0]["msg"], r.text


def _native_batch() -> dict:
    """A native batch with its matrices: a hub, two vans and four stops a minute apart."""
    table = [[60 * abs(i - j) for j in range(5)] for i in range(5)]
    return {
        "centres": [{"id": "hub", "location": 0, "opening": ["07:00", "20:00"]}],
        "vehicles": [
            {"id": v, "start": "hub", "end": "hub", "capacity": [4]} for v in ("v1", "v2")
        ],
        "jobs": [{"id": f"j{k}", "location": k, "delivery": [1]} for k in range(1, 5)],
        "matrices": {"van": {"durations": table, "distances": table}},
    }


@pytest.mark.parametrize(
    ("fmt", "change", "loc", "msg"),
    [
        ("native", lambda p: p["jobs"][3].update(time_windows=[["08:00", "09:00"], [900, 600]]),
         ["jobs", 3, "time_windows", 1],
         "job 'j4': time_windows[1]: time window ends (00:10) before it starts (00:15)"),
        ("native", lambda p: p["vehicles"][1].update(breaks=[{"id": "lunch", "duration": -600}]),
         ["vehicles", 1, "breaks", 0, "duration"],
         "vehicle 'v2': break 'lunch': duration: Input should be greater than or equal to 0 "
         "(got -600)"),
        ("native", lambda p: p["vehicles"][0].update(shift=["05:00", "06:30"]),
         ["vehicles", 0, "shift"],
         "vehicle 'v1': shift: 05:00-06:30 never meets the opening hours of its start centre "
         "'hub' (07:00-20:00): it could never leave it"),
        ("vroom", lambda p: p["jobs"][2].update(service="soon"), ["jobs", 2, "service"],
         "job '3': service: expected a number, not the text 'soon'"),
        ("vroom", lambda p: p["jobs"][0].update(time_windows=[[0, 60], [900, 600]]),
         ["jobs", 0, "time_windows", 1],
         "job '1': time_windows[1]: time window ends (00:10) before it starts (00:15)"),
        ("vroom", lambda p: p["vehicles"][1].update(time_window=[900, 600]),
         ["vehicles", 1, "time_window"],
         "vehicle '2': shift: time window ends (00:10) before it starts (00:15)"),
    ],
)  # fmt: skip
def test_a_batch_error_points_at_its_field(client, auth, vroom_problem, fmt, change, loc, msg):
    """Every error in reading a batch was at `["body", "problem"]`, the field named only in the
    message: it now points at the field as posted (a VROOM batch's `time_window`, not the
    model's `shift`), with the message as it was."""
    problem = _native_batch() if fmt == "native" else vroom_problem(3)
    change(problem)
    r = _submit(client, auth["a"], problem, format=fmt)
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == [
        {"loc": ["body", "problem", *loc], "type": "value_error", "msg": msg}
    ]


def test_failed_job_reports_its_error(make_client, settings, auth):
    client = make_client(map_network="synthetic:60")
    r = _submit(client, auth["a"], {"vehicles": [], "jobs": []})
    assert r.status_code == 422 and "vehicles" in r.json()["detail"][0]["msg"]  # when posted
    # what only the map can tell (stops far off its roads) fails the job, which says why
    problem = {
        "vehicles": [{"id": 1, "start": [24.94, 60.17]}],
        "jobs": [{"id": 1, "location": [116.31, 39.99]}],
    }
    r = _submit(client, auth["a"], problem)
    assert r.status_code == 202
    Worker(settings).run(max_jobs=1)
    status = client.get(f"/v1/batches/{r.json()['id']}", headers=auth["a"]).json()
    assert status["status"] == "failed" and "snap" in status["error"], status
    r = client.get(f"/v1/batches/{r.json()['id']}/solution", headers=auth["a"])
    assert r.status_code == 409 and "failed" in r.json()["detail"]


def _worker(database_url: str) -> subprocess.Popen:
    env = {**os.environ, "GONGPEI_JOB_LEASE_S": "60"}
    return subprocess.Popen(
        [sys.executable, "-m", "api.jobs.worker", "--database-url", database_url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for(client, job_id, headers, states, timeout_s=60.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = client.get(f"/v1/batches/{job_id}", headers=headers).json()
        if status["status"] in states:
            return status
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} never reached {states}: {status}")


def test_a_jobs_lease_covers_three_times_its_time_limit_before_it_starts(
    db, auth, client, settings, vroom_problem, monkeypatch
):
    """OR-Tools holds the interpreter until its first plan, so the heartbeat could not renew a
    30 s lease: on 3,000 jobs the lease lapsed, two more workers ran the job and it was failed
    as "stopped 3 times". The lease now covers the job's own limit, set before it starts."""
    job_id = _submit(client, auth["a"], vroom_problem(3), time_limit_s=20).json()["id"]
    seen = []

    def holding_the_interpreter(kind, payload, progress, stop):
        with db.reading() as session:
            seen.append(session.get(Job, job_id).lease_expires_at)
        return {"ok": True}, None

    monkeypatch.setattr("api.jobs.worker.run_job", holding_the_interpreter)
    began = datetime.now(UTC)
    assert Worker(settings).run(max_jobs=1) == 1
    (lease,) = seen
    assert lease >= began + timedelta(seconds=settings.job_lease_s + 3 * 20 - 1)


def test_expired_lease_is_claimed_by_another_worker(db, auth, client, vroom_problem):
    job_id = _submit(client, auth["a"], vroom_problem(3)).json()["id"]
    first = queue.claim(db, "elsewhere:1:aaaaaa", lease_s=0.2)
    assert first.id == job_id and first.attempt == 1
    assert queue.claim(db, "elsewhere:2:bbbbbb", lease_s=0.2) is None  # lease still held
    time.sleep(0.3)  # the first worker stops renewing: its lease runs out
    second = queue.claim(db, "elsewhere:2:bbbbbb", lease_s=30)
    assert second.id == job_id and second.attempt == 2
    assert not queue.renew(db, job_id, "elsewhere:1:aaaaaa", 30, 0.5)  # no longer its job
    assert not queue.finish(db, job_id, "elsewhere:1:aaaaaa", {"late": True}, None)
    assert queue.finish(db, job_id, "elsewhere:2:bbbbbb", {"ok": True}, None)


def test_a_retried_job_reports_the_new_attempts_progress_from_zero(client, db, auth, vroom_problem):
    """Progress is per attempt: a job taken over after its worker stopped reads 0 with its
    attempt number, not the old attempt's progress, which its own would then undercut."""
    job_id = _submit(client, auth["a"], vroom_problem(3)).json()["id"]
    queue.claim(db, "elsewhere:1:aaaaaa", lease_s=30)
    queue.renew(db, job_id, "elsewhere:1:aaaaaa", -1, 0.667)  # its last renewal: lease run out
    status = client.get(f"/v1/batches/{job_id}", headers=auth["a"]).json()
    assert (status["progress"], status["attempts"]) == (0.667, 1)
    assert queue.claim(db, "elsewhere:2:bbbbbb", lease_s=30).attempt == 2
    status = client.get(f"/v1/batches/{job_id}", headers=auth["a"]).json()
    assert (status["status"], status["progress"], status["attempts"]) == ("running", 0.0, 2)


def _queued_job(db) -> str:
    with db.writing() as session:
        firm, _ = create_firm(session, "firm-a", "firm")
    return queue.submit(db, kind="batch", firm_id=firm.id, payload={})


def _outage() -> OperationalError:
    """What SQLAlchemy raises while the database server is down or restarting."""
    return OperationalError("UPDATE jobs", {}, ConnectionRefusedError("connection refused"))


def test_a_lease_renewal_the_database_refuses_is_tried_again(db, settings, monkeypatch, caplog):
    """One failed renewal must not end the heartbeat: the lease would lapse mid-solve, another
    worker would run the job again and this one's result would be dropped."""
    job_id, lease, rivals = _queued_job(db), 0.6, []
    renew, renewals = queue.renew, []

    def renew_after_a_blip(*args, **kwargs) -> bool:
        renewals.append(args)
        if len(renewals) == 2:  # the heartbeat's first (the first sets the job's lease)
            raise _outage()
        return renew(*args, **kwargs)

    def solve_past_the_first_lease(kind, payload, progress, stop):
        time.sleep(lease + 0.4)
        rivals.append(queue.claim(db, "elsewhere:2:bbbbbb", lease))  # None: the lease holds
        return {"ok": True}, None

    monkeypatch.setattr(queue, "renew", renew_after_a_blip)
    monkeypatch.setattr("api.jobs.worker.run_job", solve_past_the_first_lease)
    assert Worker(replace(settings, job_lease_s=lease)).run(max_jobs=1) == 1
    assert rivals == [None] and len(renewals) >= 4
    with db.reading() as session:
        job = session.get(Job, job_id)
        assert (job.status, job.attempts) == ("done", 1)
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 1 and "lease not renewed" in warned[0] and "\n" not in warned[0]


@pytest.mark.parametrize(("blips", "status"), [(2, "done"), (3, "running")])
def test_an_outcome_the_database_refuses_is_stored_again(db, settings, monkeypatch, blips, status):
    """The result is written again after each pause while the database is out of reach; past
    the last pause the worker goes on and leaves the job, still running, to run again."""
    job_id, finish, tries = _queued_job(db), queue.finish, []

    def finish_after_blips(*args, **kwargs) -> bool:
        tries.append(args)
        if len(tries) <= blips:
            raise _outage()
        return finish(*args, **kwargs)

    monkeypatch.setattr(queue, "finish", finish_after_blips)
    monkeypatch.setattr("api.jobs.worker.run_job", lambda *_, **__: ({"ok": True}, None))
    assert Worker(settings, store_retry_s=(0.0, 0.0)).run(max_jobs=1) == 1
    assert len(tries) == 3
    with db.reading() as session:
        assert session.get(Job, job_id).status == status
        assert (session.get(Solution, job_id) is not None) == (status == "done")


def _worker_lines(caplog) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "gongpei.worker"]


def test_the_claim_loop_waits_out_a_database_outage(db, settings, monkeypatch, caplog):
    """A claim the database refuses between jobs (a restart, a failover) used to kill the
    worker; it is tried again after growing pauses, the last repeated, and told once."""
    caplog.set_level("INFO", logger="gongpei.worker")
    job_id, claim, claims = _queued_job(db), queue.claim, []

    def claim_after_an_outage(*args, **kwargs) -> queue.Claimed | None:
        claims.append(time.monotonic())
        if len(claims) <= 3:
            raise _outage()
        return claim(*args, **kwargs)

    monkeypatch.setattr(queue, "claim", claim_after_an_outage)
    monkeypatch.setattr("api.jobs.worker.run_job", lambda *_, **__: ({"ok": True}, None))
    assert Worker(settings, claim_retry_s=(0.1, 0.2)).run(max_jobs=1) == 1
    pauses = [later - sooner for sooner, later in itertools.pairwise(claims)]
    assert len(pauses) == 3
    assert all(p >= least for p, least in zip(pauses, (0.1, 0.2, 0.2), strict=True)), pauses
    with db.reading() as session:
        assert session.get(Job, job_id).status == "done"
    warned = [msg for level, msg in _worker_lines(caplog) if level != "INFO"]
    assert len(warned) == 1 and "database out of reach" in warned[0] and "\n" not in warned[0]
    assert any("database back" in msg for _, msg in _worker_lines(caplog))


def test_a_worker_started_while_the_database_is_down_waits_for_it(db, settings, monkeypatch):
    """Its first act, taking over dead workers' jobs, met the outage with a raw traceback and
    the worker died; it is now the first claim's, and waited out like the others."""
    job_id, release, calls = _queued_job(db), queue.release_dead_local, []

    def release_after_an_outage(*args, **kwargs) -> int:
        calls.append(1)
        if len(calls) <= 2:
            raise _outage()
        return release(*args, **kwargs)

    monkeypatch.setattr(queue, "release_dead_local", release_after_an_outage)
    monkeypatch.setattr("api.jobs.worker.run_job", lambda *_, **__: ({"ok": True}, None))
    assert Worker(settings, claim_retry_s=(0.05,)).run(max_jobs=1) == 1
    assert len(calls) == 3  # twice refused, then once only
    with db.reading() as session:
        assert session.get(Job, job_id).status == "done"


def test_a_worker_stops_at_once_while_the_database_is_out_of_reach(settings, monkeypatch, caplog):
    """A shutdown signal ends the pauses between claims, however long; and an outage of many
    claims is one line in the log, not one (or a traceback) per claim."""
    claims = []

    def unreachable(*_args, **_kwargs) -> None:
        claims.append(1)
        raise _outage()

    monkeypatch.setattr(queue, "claim", unreachable)
    worker = Worker(settings, claim_retry_s=(0.01,) * 5 + (60.0,))
    threading.Timer(0.5, worker.stopping.set).start()
    began = time.monotonic()
    assert worker.run() == 0
    assert time.monotonic() - began < 5 and len(claims) == 6
    assert [level for level, _ in _worker_lines(caplog) if level != "INFO"] == ["WARNING"]


class _Door:
    """A loopback port in front of a database server: while shut nothing listens on it (a
    connection is refused) and the connections through it are cut, as in a server restart."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream, self.port = upstream, 0  # any free port, then the same one again
        self.listening = threading.Event()
        self.open_sockets: list[socket.socket] = []

    def open(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port))
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self.listening.set()
        threading.Thread(target=self._serve, args=(listener,), daemon=True).start()

    def shut(self) -> None:
        self.listening.clear()
        time.sleep(0.2)  # the listener closes
        for sock in self.open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.open_sockets.clear()

    def _serve(self, listener: socket.socket) -> None:
        with listener:
            while self.listening.is_set():
                try:
                    near, _ = listener.accept()
                except TimeoutError:
                    continue
                far = socket.create_connection(self.upstream)
                self.open_sockets += [near, far]
                for a, b in ((near, far), (far, near)):
                    threading.Thread(target=_pipe, args=(a, b), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)


def test_a_worker_outlives_a_database_restart_between_jobs(
    database_url, db, settings, monkeypatch, caplog
):
    """For real: the worker's connections are cut and its server refuses new ones for a while,
    then a job is queued; the worker claims and runs it once the server is back."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs a database server to cut off")
    monkeypatch.setattr("api.jobs.worker.run_job", lambda *_, **__: ({"ok": True}, None))
    url = make_url(database_url)
    door = _Door((url.host, url.port))
    door.open()
    through_door = url.set(port=door.port).render_as_string(hide_password=False)
    worker = Worker(
        replace(settings, database_url=through_door), poll_s=0.05, claim_retry_s=(0.1, 0.2)
    )
    ran: list[int] = []
    thread = threading.Thread(target=lambda: ran.append(worker.run(max_jobs=1)), daemon=True)
    try:
        thread.start()
        time.sleep(0.5)  # claiming, nothing queued yet
        door.shut()
        deadline = time.monotonic() + 10
        while thread.is_alive() and not _worker_lines(caplog) and time.monotonic() < deadline:
            time.sleep(0.05)
        job_id = _queued_job(db)  # through the server's own port
        time.sleep(0.5)
        door.open()
        thread.join(timeout=30)
        assert ran == [1], _worker_lines(caplog)
        with db.reading() as session:
            assert session.get(Job, job_id).status == "done", session.get(Job, job_id).error
        warned = [msg for level, msg in _worker_lines(caplog) if level != "INFO"]
        assert len(warned) == 1 and "database out of reach" in warned[0], warned
    finally:
        worker.stopping.set()
        thread.join(timeout=10)
        door.shut()
        worker.db.dispose()


@pytest.mark.slow
def test_job_of_killed_worker_is_completed_after_restart(client, database_url, auth, vroom_problem):
    job_id = _submit(client, auth["a"], vroom_problem(30), time_limit_s=4).json()["id"]
    first = _worker(database_url)
    try:
        _wait_for(client, job_id, auth["a"], {"running"})
        time.sleep(0.5)
        first.send_signal(signal.SIGKILL)  # dies mid-solve, holding a 60 s lease
        first.wait(timeout=10)
        assert client.get(f"/v1/batches/{job_id}", headers=auth["a"]).json()["status"] == "running"
        second = _worker(database_url)  # sees the dead pid on this host: no 60 s wait
        try:
            status = _wait_for(client, job_id, auth["a"], {"done", "failed"}, timeout_s=40)
        finally:
            second.terminate()
            second.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert status["status"] == "done" and status["attempts"] == 2
    solution = client.get(f"/v1/batches/{job_id}/solution", headers=auth["a"]).json()
    assert solution["summary"]["unassigned"] == 0


def _siting_body(**changes):
    body = {
        "model": {"kind": "maxcover", "p": 1},
        "radius_m": 400,
        "distance": "straight_line",
        "demand": [
            {"id": "dorm", "lat": 36.0670, "lon": 120.3830, "parcels": 100},
            {"id": "lab", "lat": 36.0672, "lon": 120.3835, "parcels": 50},
            {"id": "far", "lat": 36.0800, "lon": 120.4000, "parcels": 30},
        ],
        "candidates": [
            {"id": "gate", "lat": 36.0671, "lon": 120.3832, "fixed_cost": 1000},
            {"id": "hill", "lat": 36.0801, "lon": 120.4001, "fixed_cost": 1000},
        ],
        "time_limit_s": 5,
    }
    return {**body, **changes}


def test_siting_run_by_planner(client, settings, auth, db):
    r = client.post("/v1/siting-runs", json=_siting_body(), headers=auth["planner"])
    assert r.status_code == 202
    job_id = r.json()["id"]
    assert client.post("/v1/siting-runs", json=_siting_body(), headers=auth["a"]).status_code == 403
    Worker(settings).run(max_jobs=1)
    status = client.get(f"/v1/siting-runs/{job_id}", headers=auth["planner"]).json()
    assert status["status"] == "done", status
    result = client.get(f"/v1/siting-runs/{job_id}/result", headers=auth["planner"]).json()
    assert result["open_site_ids"] == ["gate"]  # covers 150 of 180 parcels; "hill" only 30
    assert result["summary"]["optimal"] and result["summary"]["served_parcels"] == 150
    geo = client.get(f"/v1/siting-runs/{job_id}/result?format=geojson", headers=auth["planner"])
    assert geo.json()["type"] == "FeatureCollection"
    # the OpenAPI example is shaped like a real plan (it once showed a batch's routes)
    op = client.get("/openapi.json").json()["paths"]["/v1/siting-runs/{job_id}/result"]["get"]
    example = op["responses"]["200"]["content"]["application/json"]["example"]
    assert set(example) == set(result)
    assert set(example["summary"]) <= set(result["summary"])
    assert set(example["sites"][0]) <= set(result["sites"][0])
    assert set(example["assignment"][0]) == set(result["assignment"][0])
    with db.writing() as session:
        _, other = create_firm(session, "other-planner", "planner")
    other_headers = {"X-API-Key": other}
    assert client.get(f"/v1/siting-runs/{job_id}", headers=other_headers).status_code == 404


def test_a_siting_runs_size_mix_may_be_a_list_as_gongpei_site_reads_it(client, settings, auth):
    """README: the API takes `gongpei site`'s runs; its `mix` was an object only (a 422)."""
    body = _siting_body(model={"kind": "maxcover", "p": 1, "sizing": {}})
    body["demand"][0]["mix"] = [0.5, 0.3, 0.2]
    body["demand"][1]["mix"] = {"S": 1, "M": 0, "L": 0}
    r = client.post("/v1/siting-runs", json=body, headers=auth["planner"])
    assert r.status_code == 202, r.json()
    Worker(settings).run(max_jobs=1)
    status = client.get(f"/v1/siting-runs/{r.json()['id']}", headers=auth["planner"]).json()
    assert status["status"] == "done", status
    body["demand"][0]["mix"] = [0.5, 0.5]
    r = client.post("/v1/siting-runs", json=body, headers=auth["planner"])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][:4] == ["body", "demand", 0, "mix"]


def test_siting_input_errors(client, db, auth):
    r = client.post("/v1/siting-runs", json=_siting_body(distance="walk"), headers=auth["planner"])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "distance"]
    body = _siting_body()
    lab_twice = [*body["demand"], {**body["demand"][1], "lat": 36.07}]
    standing = [{**c, "existing": True} for c in body["candidates"]]
    mix = {"S": 0.5, "M": 0.3, "L": 0.1}
    # each refused when posted, naming the item, instead of a job that fails later
    for changes, loc, needle in (
        ({"model": {"kind": "pmedian"}}, ["body", "model"], "p (number of lockers) is required"),
        ({"model": {"kind": "maxcover", "p": 3}}, ["body", "model"], "p=3 is larger than the 2"),
        (
            {"model": {"kind": "maxcover", "budget": 1500}, "candidates": standing},
            ["body", "model"],
            "budget 1500 is below the 2000 that the lockers which must stay open already cost",
        ),
        (
            {"model": {"kind": "maxcover", "p": 1, "capacitated": True}},
            ["body", "model"],
            "capacitated needs finite site capacities or a sizing",
        ),
        (
            {"demand": lab_twice},
            ["body", "demand", 3, "id"],
            "demand point 'lab': id appears more than once",
        ),
        (
            {"demand": [{**body["demand"][0], "mix": mix}]},
            ["body", "demand", 0],
            "demand point 'dorm': size mix S/M/L must be 3 shares >= 0 summing to 1",
        ),
    ):
        r = client.post("/v1/siting-runs", json=_siting_body(**changes), headers=auth["planner"])
        assert r.status_code == 422, (changes, r.text)
        detail = r.json()["detail"][0]
        assert detail["loc"] == loc and needle in detail["msg"], detail
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0


def _siting_body_with_every_number():
    """A siting body giving every number the schema has: a sized p-median with a budget and a
    penalty, a point's mix, and a standing locker's capacity and compartments."""
    sizing = {"dwell_days": 1, "max_compartments": 200, "costs": {"S": 300}}
    body = _siting_body(
        model={"kind": "pmedian", "p": 1, "budget": 5000, "unserved_penalty": 900, "sizing": sizing}
    )
    body["demand"][0]["mix"] = {"S": 0.6, "M": 0.3, "L": 0.1}
    body["candidates"][1] |= {"existing": True, "capacity": 500, "compartments": {"S": 10}}
    return body


def test_siting_numbers_refuse_true_and_false(client, db, auth):
    """`"p": true` was a 202 and a run with one locker, `"parcels": true` one parcel a day:
    every number of a siting run is a 422 naming it, as a locker's or a centre's is."""
    intact = client.post(
        "/v1/siting-runs", json=_siting_body_with_every_number(), headers=auth["planner"]
    )
    assert intact.status_code == 202, intact.text
    for path in (
        ("model", "p"),
        ("model", "budget"),
        ("model", "unserved_penalty"),
        ("model", "sizing", "dwell_days"),
        ("model", "sizing", "max_compartments"),
        ("model", "sizing", "costs", "S"),
        ("radius_m",),
        ("time_limit_s",),
        ("demand", 0, "lat"),
        ("demand", 0, "parcels"),
        ("demand", 0, "mix", "S"),
        ("candidates", 1, "lon"),
        ("candidates", 1, "fixed_cost"),
        ("candidates", 1, "capacity"),
        ("candidates", 1, "compartments", "S"),
    ):
        body = target = _siting_body_with_every_number()
        *parents, field = path
        for key in parents:
            target = target[key]
        target[field] = True
        r = client.post("/v1/siting-runs", json=body, headers=auth["planner"])
        assert r.status_code == 422, (path, r.text)
        detail = r.json()["detail"][0]
        assert detail["loc"] == ["body", *path] and "not true or false" in detail["msg"], detail
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 1  # the intact body's


def test_siting_run_sizes_lockers_by_parcel_size(client, settings, auth):
    # "gate" reaches dorm (100 parcels, default mix 60/30/10 %) and lab (50, all L); "hill"
    # stands with 10 S compartments and reaches "far" (30: 18 S, 9 M, 3 L). A compartment turns
    # over one parcel a day. gate is sized to hold all 150: 60 S, 30 M, 60 L; hill's 10 S take
    # 10 of far's small parcels, which no share of far in its own mix would fit.
    body = _siting_body(
        model={"kind": "maxcover", "p": 2, "sizing": {"dwell_days": 1, "max_compartments": 200}}
    )
    body["demand"][1]["mix"] = {"S": 0, "M": 0, "L": 1}
    body["candidates"][1] |= {"existing": True, "compartments": {"S": 10}}
    r = client.post("/v1/siting-runs", json=body, headers=auth["planner"])
    assert r.status_code == 202, r.text
    Worker(settings).run(max_jobs=1)
    result = client.get(f"/v1/siting-runs/{r.json()['id']}/result", headers=auth["planner"])
    result = result.json()
    assert result["summary"]["optimal"] and result["summary"]["served_parcels"] == 160
    sites = {s["id"]: s for s in result["sites"]}
    assert sites["gate"]["compartments"] == {"S": 60, "M": 30, "L": 60}
    assert sites["hill"]["compartments"] == {"S": 10, "M": 0, "L": 0}
    far = [a for a in result["assignment"] if a["demand"] == "far"]
    assert far == [
        {
            "demand": "far",
            "site": "hill",
            "fraction": pytest.approx(1 / 3),
            "parcels": 10.0,
            "by_size": {"S": 10.0, "M": 0.0, "L": 0.0},
        }
    ]
    geo = client.get(
        f"/v1/siting-runs/{r.json()['id']}/result?format=geojson", headers=auth["planner"]
    ).json()
    lines = [f["properties"] for f in geo["features"] if f["properties"]["kind"] == "catchment"]
    assert {(p["demand"], p["site"]): p["by_size"]["L"] for p in lines} == {
        ("dorm", "gate"): 10.0,
        ("lab", "gate"): 50.0,
        ("far", "hill"): 0.0,
    }


def test_batch_without_matrices_is_timed_and_drawn_on_the_server_map(make_client, settings, auth):
    from network.graph import build_graph

    graph = build_graph("synthetic:60")
    nodes = list(graph.nodes(data=True))
    picks = [nodes[0], nodes[len(nodes) // 3], nodes[2 * len(nodes) // 3]]
    problem = {
        "locations": [{"lat": d["y"], "lon": d["x"]} for _, d in picks],
        "centres": [{"id": "hub", "location": 0}],
        "vehicles": [{"id": "v1", "start": "hub", "end": "hub"}],
        "jobs": [{"id": "a", "location": 1}, {"id": "b", "location": 2}],
    }
    client = make_client(map_network="synthetic:60")
    body = {"format": "native", "problem": problem, "engine": "ortools", "time_limit_s": 1}
    r = client.post("/v1/batches", json=body, headers=auth["a"])
    assert r.status_code == 202
    assert Worker(settings).run(max_jobs=1) == 1
    path = f"/v1/batches/{r.json()['id']}/solution"
    assert client.get(path, headers=auth["a"]).json()["summary"]["unassigned"] == 0
    geo = client.get(f"{path}?format=geojson", headers=auth["a"]).json()
    (route,) = [f for f in geo["features"] if f["geometry"]["type"] == "LineString"]
    road = {(round(d["x"], 6), round(d["y"], 6)) for _, d in nodes}
    coords = route["geometry"]["coordinates"]
    assert len(coords) > 8 and all(tuple(c) in road for c in coords)  # along the roads

    # a firm cannot name a file for the server to read, nor ask for roads the server lacks
    body["problem"] = {**problem, "travel": {"source": "network", "osm": "/etc/passwd"}}
    r = client.post("/v1/batches", json=body, headers=auth["a"])
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "problem", "travel", "osm"]
    vehicles = [*problem["vehicles"], {"id": "v2", "start": "hub", "profile": "bike"}]
    body["problem"] = {**problem, "vehicles": vehicles}
    r = client.post("/v1/batches", json=body, headers=auth["a"])
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "problem", "vehicles", 1, "profile"]
    body["problem"] = {**problem, "travel": {"source": "network"}}
    r = make_client(map_network="").post("/v1/batches", json=body, headers=auth["a"])
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "problem", "travel", "source"]


def test_server_map_built_for_one_profile_turns_down_the_others_at_submission(
    make_client, settings, auth, tmp_path
):
    """A `gongpei network build` folder holds one profile's roads: a batch for another profile,
    or a walking siting run on a van map, is a 422 naming the field, not a failed job."""
    from network.graph import build_graph
    from network.store import save_graph_dir, source_profiles

    roads = build_graph("synthetic:60", profile="van")
    van = save_graph_dir(roads, tmp_path / "van")
    walk = save_graph_dir(build_graph("synthetic:60", profile="walk"), tmp_path / "walk")
    assert source_profiles(van) == ("van",) and "e-tricycle" in source_profiles("synthetic:60")
    client = make_client(map_network=str(van))
    nodes = [d for _, d in roads.nodes(data=True)]
    problem = {
        "locations": [{"lat": d["y"], "lon": d["x"]} for d in (nodes[0], nodes[len(nodes) // 2])],
        "centres": [{"id": "hub", "location": 0}],
        "vehicles": [{"id": "v1", "start": "hub", "profile": "e-tricycle"}],
        "jobs": [{"id": "a", "location": 1}],
    }
    body = {"format": "native", "problem": problem, "engine": "ortools", "time_limit_s": 1}
    r = client.post("/v1/batches", json=body, headers=auth["a"])
    assert r.status_code == 422, r.text
    detail = r.json()["detail"][0]
    assert detail["loc"] == ["body", "problem", "vehicles", 0, "profile"]
    assert "choose one of van " in detail["msg"]
    body["problem"] = {**problem, "vehicles": [{"id": "v1", "start": "hub", "profile": "van"}]}
    r = client.post("/v1/batches", json=body, headers=auth["a"])
    assert r.status_code == 202
    batch = r.json()["id"]
    siting = _siting_body(distance="walk")
    r = client.post("/v1/siting-runs", json=siting, headers=auth["planner"])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "distance"]

    # a walk folder serves walking siting runs, timed on its own graph in the worker
    siting["demand"] = [
        {"id": f"d{k}", "lat": d["y"], "lon": d["x"], "parcels": 10}
        for k, d in enumerate(nodes[:3])
    ]
    siting["candidates"] = [{"id": "c0", "lat": nodes[1]["y"], "lon": nodes[1]["x"]}]
    r = make_client(map_network=str(walk)).post(
        "/v1/siting-runs", json=siting, headers=auth["planner"]
    )
    assert r.status_code == 202, r.text
    assert Worker(settings).run(max_jobs=2) == 2
    status = client.get(f"/v1/batches/{batch}", headers=auth["a"]).json()
    assert status["status"] == "done", status.get("error")
    status = client.get(f"/v1/siting-runs/{r.json()['id']}", headers=auth["planner"]).json()
    assert status["status"] == "done", status


NATIVE_BATCH = {
    "locations": [{"lat": 36.066, "lon": 120.383}, {"lat": 36.070, "lon": 120.390}],
    "centres": [{"id": "hub", "location": 0}],
    "vehicles": [{"id": "v1", "start": "hub", "end": "hub"}],
    "jobs": [{"id": "a", "location": 1}],
}


def test_bad_travel_is_a_422_when_posted_with_or_without_a_map(make_client, auth, db):
    """A malformed `travel` used to fail the job with an internal error, and an unknown source
    was timed on the server's map without a word."""
    for map_network in ("", "synthetic:60"):
        client = make_client(map_network=map_network)
        for travel, loc in (
            ("straight_line", ["body", "problem", "travel"]),
            ({"source": "teleport"}, ["body", "problem", "travel", "source"]),
            ({"source": "straight_line", "speed_kmh": "fast"},
             ["body", "problem", "travel", "speed_kmh"]),
        ):  # fmt: skip
            body = {"format": "native", "problem": {**NATIVE_BATCH, "travel": travel}}
            r = client.post("/v1/batches", json=body, headers=auth["a"])
            assert r.status_code == 422, (map_network, travel, r.text)
            detail = r.json()["detail"][0]
            assert detail["loc"] == loc, detail
            assert detail["msg"].startswith(".".join(loc[2:]) + ": ")
            if len(loc) <= 4 and loc[-1] != "speed_kmh":
                assert "network, straight_line" in detail["msg"]
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0


def test_straight_line_batch_is_still_accepted(client, auth):
    problem = {**NATIVE_BATCH, "travel": {"source": "straight_line", "speed_kmh": 20}}
    r = client.post("/v1/batches", json={"format": "native", "problem": problem}, headers=auth["a"])
    assert r.status_code == 202, r.text


#: NATIVE_BATCH in VROOM's format: the same hub and stop, as [lon, lat].
VROOM_BATCH = {
    "vehicles": [{"id": 1, "start": [120.383, 36.066], "end": [120.383, 36.066]}],
    "jobs": [{"id": 1, "location": [120.390, 36.070]}],
}


def _post_in_both_formats(client, headers, travel, **options) -> list:
    """The answers to NATIVE_BATCH and VROOM_BATCH, each with ``travel``."""
    return [
        client.post(
            "/v1/batches",
            json={"format": fmt, "problem": {**problem, "travel": travel}, **options},
            headers=headers,
        )
        for fmt, problem in (("native", NATIVE_BATCH), ("vroom", VROOM_BATCH))
    ]


@pytest.mark.parametrize("map_network", ["", "synthetic:60"])
def test_a_vroom_batchs_travel_is_checked_as_a_native_ones(make_client, auth, db, map_network):
    """`travel` in a VROOM batch (Gongpei's extension, which the CLI honours) was ignored: a map
    file's name or a malformed travel was accepted and timed on the server's map, or refused
    for missing matrices without naming the field."""
    client = make_client(map_network=map_network)
    for travel, loc in (
        ({"osm": "x.osm"}, ["body", "problem", "travel", "source"]),
        ({"source": "network", "osm": "x.osm"}, ["body", "problem", "travel", "osm"]),
        ("straight_line", ["body", "problem", "travel"]),
        ({"source": "teleport"}, ["body", "problem", "travel", "source"]),
        ({"source": "straight_line", "speed_kmh": "fast"},
         ["body", "problem", "travel", "speed_kmh"]),
    ):  # fmt: skip
        native, vroom = _post_in_both_formats(client, auth["a"], travel)
        assert vroom.status_code == 422, (map_network, travel, vroom.text)
        assert vroom.json()["detail"][0]["loc"] == loc, vroom.text
        assert vroom.json() == native.json()
    native, vroom = _post_in_both_formats(client, auth["a"], {"source": "network"})
    assert vroom.status_code == native.status_code == (202 if map_network else 422), vroom.text
    if not map_network:
        assert vroom.json() == native.json()
        assert vroom.json()["detail"][0]["loc"] == ["body", "problem", "travel", "source"]


@pytest.mark.parametrize("map_network", ["", "synthetic:60"])
def test_a_vroom_batch_asking_for_straight_lines_is_timed_by_them(
    make_client, settings, auth, map_network
):
    """Asked for by name, straight lines time a VROOM batch as they do a native one, at the
    speed it gives, rather than the server's map (or a 422 for want of matrices)."""
    client = make_client(map_network=map_network)
    travel = {"source": "straight_line", "speed_kmh": 20, "circuity": 1.0}
    answers = _post_in_both_formats(client, auth["a"], travel, engine="ortools", time_limit_s=1)
    assert [r.status_code for r in answers] == [202, 202], answers[1].text
    assert Worker(settings).run(max_jobs=2) == 2
    durations = [
        client.get(f"/v1/batches/{r.json()['id']}/solution", headers=auth["a"]).json()["summary"][
            "duration"
        ]
        for r in answers
    ]
    there = haversine_m(36.066, 120.383, 36.070, 120.390) / (20 / 3.6)
    assert durations == [pytest.approx(2 * there, abs=1)] * 2


def test_unknown_engine_is_a_422_listing_every_engine(client, auth, vroom_problem):
    from typing import get_args

    from api.schemas.jobs import BatchSubmit
    from routing.engines import ENGINES

    r = _submit(client, auth["a"], vroom_problem(3), engine="gurobi")
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["loc"] == ["body", "engine"]
    assert all(f"'{name}'" in detail["msg"] for name in ("auto", "ortools", "pyvrp")), detail
    # the choices offered are the engines there are, and `auto` (the default)
    engine = BatchSubmit.model_fields["engine"]
    assert set(get_args(engine.annotation)) == {"auto", *ENGINES} and engine.default == "auto"
    schema = client.get("/openapi.json").json()["components"]["schemas"]["BatchSubmit"]
    assert set(schema["properties"]["engine"]["enum"]) == {"auto", *ENGINES}


def test_a_running_batch_reports_its_progress_on_the_job_row(
    client, settings, db, auth, vroom_problem, monkeypatch
):
    """Progress moves with the search's time (elapsed over the time limit), written to the
    row every `progress_s` while the job runs, not only 0.0 then 1.0 at the end."""
    job_id = _submit(client, auth["a"], vroom_problem(10), time_limit_s=2).json()["id"]
    seen: list[float] = []
    renew = queue.renew

    def renew_and_read(*args, **kwargs) -> bool:
        renewed = renew(*args, **kwargs)
        with db.reading() as session:
            seen.append(session.get(Job, job_id).progress)
        return renewed

    monkeypatch.setattr(queue, "renew", renew_and_read)
    assert Worker(settings, progress_s=0.25).run(max_jobs=1) == 1
    assert any(0.2 < p < 1.0 for p in seen), seen
    assert seen == sorted(seen) and len(seen) < 30  # a steady rate, not per search step
    status = client.get(f"/v1/batches/{job_id}", headers=auth["a"]).json()
    assert status["status"] == "done" and status["progress"] == 1.0


def test_progress_is_documented_in_the_openapi_schema(client):
    progress = client.get("/openapi.json").json()["components"]["schemas"]["JobStatus"]
    description = progress["properties"]["progress"]["description"]
    assert "time limit" in description and "coalition" in description
    assert "attempt" in description
    assert "from 0" in progress["properties"]["attempts"]["description"]
