"""API keys can be rotated and revoked; firms take turns at the workers and have a job quota."""

from __future__ import annotations

import sys
import threading

import pytest

from api.cli.main import run
from api.db.engine import Database
from api.db.migrate import upgrade
from api.jobs import queue
from api.routers.jobs import LARGE_BATCH_STOPS
from api.security import authenticate, create_firm
from api.settings import Settings, SettingsError


def _batch(client, headers, problem):
    body = {"format": "vroom", "problem": problem, "engine": "ortools", "time_limit_s": 1}
    return client.post("/v1/batches", json=body, headers=headers)


def _firm_id(client, auth, name):
    with_keys = client.post("/v1/firms", json={"name": name, "role": "firm"}, headers=auth)
    assert with_keys.status_code == 201, with_keys.text
    return with_keys.json()["id"], {"X-API-Key": with_keys.json()["api_key"]}


def test_an_admin_rotates_a_firms_key_and_the_old_one_stops_working(client, auth, vroom_problem):
    firm_id, old = _firm_id(client, auth["admin"], "Leaky Express")
    assert _batch(client, old, vroom_problem(2)).status_code == 202
    issued = client.post(f"/v1/firms/{firm_id}/keys", headers=auth["admin"])
    assert issued.status_code == 201, issued.text
    new = {"X-API-Key": issued.json()["api_key"]}
    assert issued.json()["prefix"] == new["X-API-Key"][:10]
    keys = client.get(f"/v1/firms/{firm_id}/keys", headers=auth["admin"]).json()
    assert [k["revoked_at"] for k in keys] == [None, None]
    assert all("api_key" not in k for k in keys)  # never the keys themselves
    first = keys[0]["id"]
    revoked = client.delete(f"/v1/firms/{firm_id}/keys/{first}", headers=auth["admin"])
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert _batch(client, old, vroom_problem(2)).status_code == 401
    assert _batch(client, new, vroom_problem(2)).status_code == 202
    missing = client.delete(f"/v1/firms/{firm_id}/keys/999999", headers=auth["admin"])
    assert missing.status_code == 404
    assert client.get(f"/v1/firms/{firm_id}/keys", headers=auth["a"]).status_code == 403
    assert client.get("/v1/firms/999999/keys", headers=auth["admin"]).status_code == 404


def test_an_admin_cannot_revoke_the_key_it_calls_with(client, auth, db):
    with db.reading() as session:
        admin = authenticate(session, auth["admin"]["X-API-Key"])
    keys = client.get(f"/v1/firms/{admin.id}/keys", headers=auth["admin"]).json()
    (own,) = keys
    r = client.delete(f"/v1/firms/{admin.id}/keys/{own['id']}", headers=auth["admin"])
    assert r.status_code == 409 and "this request is made with" in r.json()["detail"]


def _gongpei(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["gongpei", *args])
    with pytest.raises(SystemExit) as stop:
        run()
    out = capsys.readouterr()
    return stop.value.code, out.out.strip(), out.err.strip()


def test_the_cli_lists_issues_and_revokes_keys(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    db = Database(url)
    upgrade(db.engine)
    with db.writing() as session:
        _, first = create_firm(session, "Yunda Qingdao", "firm")
    code, second, _ = _gongpei(monkeypatch, capsys, "admin", "new-key", "Yunda Qingdao",
                               "--database-url", url)  # fmt: skip
    assert code in (0, None) and second.startswith("gp_")
    code, listing, _ = _gongpei(monkeypatch, capsys, "admin", "keys", "Yunda Qingdao",
                                "--database-url", url)  # fmt: skip
    rows = [line.split("\t") for line in listing.splitlines()]
    assert [r[1] for r in rows] == [first[:10], second[:10]]
    assert [r[3] for r in rows] == ["active", "active"]
    code, said, _ = _gongpei(monkeypatch, capsys, "admin", "revoke-key", "Yunda Qingdao",
                             first[:10], "--database-url", url)  # fmt: skip
    assert code in (0, None) and "revoked" in said
    with db.reading() as session:
        assert authenticate(session, first) is None
        assert authenticate(session, second) is not None
    code, said, _ = _gongpei(monkeypatch, capsys, "admin", "revoke-key", "Yunda Qingdao",
                             "--all", "--database-url", url)  # fmt: skip
    assert said.endswith(": 1 keys revoked")
    with db.reading() as session:
        assert authenticate(session, second) is None
    code, _, err = _gongpei(monkeypatch, capsys, "admin", "keys", "Nobody",
                            "--database-url", url)  # fmt: skip
    assert (code, err) == (2, "error: firm 'Nobody': no such firm")
    code, _, err = _gongpei(monkeypatch, capsys, "admin", "revoke-key", "Yunda Qingdao",
                            "--database-url", url)  # fmt: skip
    assert (code, err) == (2, "error: give either a key (its id or prefix) or --all")
    db.dispose()


def test_firms_take_turns_at_the_workers(client, auth, db, vroom_problem):
    a_jobs = [_batch(client, auth["a"], vroom_problem(2)).json()["id"] for _ in range(3)]
    b_job = _batch(client, auth["b"], vroom_problem(2)).json()["id"]
    first = queue.claim(db, "host:1:aaaaaa", 60)
    assert first.id == a_jobs[0]  # the oldest, while no firm has a job running
    # firm a has one running now: firm b's job goes before a's older ones
    assert queue.claim(db, "host:2:bbbbbb", 60).id == b_job
    assert queue.claim(db, "host:3:cccccc", 60).id == a_jobs[1]


def test_a_firm_with_its_quota_of_jobs_gets_a_429(make_client, auth, vroom_problem):
    client = make_client(max_active_jobs=2)
    posted = [_batch(client, auth["a"], vroom_problem(2)) for _ in range(2)]
    assert [r.status_code for r in posted] == [202, 202]
    r = _batch(client, auth["a"], vroom_problem(2))
    assert r.status_code == 429 and r.headers["Retry-After"] == "60"
    assert "2 jobs of this firm are queued or running" in r.json()["detail"]
    assert _batch(client, auth["b"], vroom_problem(2)).status_code == 202  # another firm's own
    # cancelling one makes room again
    cancel = client.post(f"/v1/batches/{posted[0].json()['id']}/cancel", headers=auth["a"])
    assert cancel.status_code == 200
    assert _batch(client, auth["a"], vroom_problem(2)).status_code == 202


def test_a_batch_naming_a_map_file_is_refused_whatever_else_it_holds(client, auth):
    problem = {
        "travel": {"source": "network", "osm": "/etc/hostname"},
        "matrix": {},  # this key used to skip the check: the server then opened the file
        "locations": [{"lat": 60.17, "lon": 24.94}],
        "vehicles": [],
        "jobs": [],
    }
    r = client.post("/v1/batches", json={"format": "native", "problem": problem},
                    headers=auth["a"])  # fmt: skip
    assert r.status_code == 422
    (detail,) = r.json()["detail"]
    assert detail["loc"] == ["body", "problem", "travel", "osm"]
    assert "cannot name a map file" in detail["msg"]


def test_a_reservation_hold_beyond_30_days_is_a_settings_error(monkeypatch):
    monkeypatch.setenv("GONGPEI_RESERVATION_TTL_S", "1e12")
    # the bound as people write it (it printed 2.592e+06)
    with pytest.raises(SettingsError, match=r"RESERVATION_TTL_S: 1e12 must be at most 2592000$"):
        Settings(database_url="sqlite://")
    monkeypatch.setenv("GONGPEI_MAX_ACTIVE_JOBS", "0")
    monkeypatch.delenv("GONGPEI_RESERVATION_TTL_S")
    with pytest.raises(SettingsError, match="GONGPEI_MAX_ACTIVE_JOBS"):
        Settings(database_url="sqlite://")


def test_large_batches_are_checked_two_at_a_time(client, auth, vroom_problem, monkeypatch):
    """Each large batch's check holds its N x N estimate (in a child process, `api.check_pool`):
    four at once took 1.3 GiB. Each check here stays in until a third is in beside it (or a
    second has passed): without the turns, the four posted at once crowd in together."""
    lock, inside, most, calls = threading.Lock(), [0], [0], []
    crowded = threading.Event()

    def checking(pool, payload, estimate):
        with lock:
            calls.append(1)
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            if inside[0] >= 3:
                crowded.set()
        crowded.wait(timeout=1.0)
        with lock:
            inside[0] -= 1
        return ("car",)

    monkeypatch.setattr("api.check_pool.CheckPool._in_child", checking)
    problem = vroom_problem(LARGE_BATCH_STOPS + 1)
    threads = [threading.Thread(target=_batch, args=(client, auth["a"], problem)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(calls) == 4 and most[0] <= 2


def test_every_job_submission_documents_its_429(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/batches", "/v1/siting-runs", "/v1/pool-runs"):
        assert "429" in paths[path]["post"]["responses"], path


def test_a_revocation_checks_the_callers_own_key_in_its_transaction(client, auth, db):
    """Two admins revoking each other's keys at once both passed their key checks before
    either revocation committed, and no admin key was left. The revocation's own transaction
    now checks the caller's key: here the key check is passed over, as if the other admin's
    revocation of this key had committed just after it."""
    from api.deps import admin_key
    from api.security import firm_named, revoke_all_keys

    with db.writing() as session:
        admin = firm_named(session, "firm-admin")
        target = firm_named(session, "firm-a").id
        revoke_all_keys(session, admin)
    client.app.dependency_overrides[admin_key] = lambda: admin
    try:
        keys = client.get(f"/v1/firms/{target}/keys", headers=auth["admin"]).json()
        r = client.delete(f"/v1/firms/{target}/keys/{keys[0]['id']}", headers=auth["admin"])
    finally:
        client.app.dependency_overrides.clear()
    assert r.status_code == 401, r.text
    assert _batch(client, auth["a"], {"vehicles": [], "jobs": []}).status_code != 401  # kept


def test_a_cancelled_job_holds_its_quota_place_while_its_worker_is_busy(
    make_client, auth, db, vroom_problem
):
    """A firm could cancel a running batch and post it again at once: the worker kept solving
    the cancelled one (until its time limit), so the firm kept every worker busy past its
    quota."""
    client = make_client(max_active_jobs=1)
    job_id = _batch(client, auth["a"], vroom_problem(2)).json()["id"]
    worker = "host:1:aaaaaa"
    assert queue.claim(db, worker, 60).id == job_id
    assert client.post(f"/v1/batches/{job_id}/cancel", headers=auth["a"]).status_code == 200
    assert _batch(client, auth["a"], vroom_problem(2)).status_code == 429  # still solving
    queue.let_go(db, job_id, worker)  # its worker is done with it
    second = _batch(client, auth["a"], vroom_problem(2))
    assert second.status_code == 202
    # a queued job cancelled frees its place at once
    cancel = client.post(f"/v1/batches/{second.json()['id']}/cancel", headers=auth["a"])
    assert cancel.status_code == 200
    assert _batch(client, auth["a"], vroom_problem(2)).status_code == 202
