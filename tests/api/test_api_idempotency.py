"""`Idempotency-Key` on job submissions: a firm retrying after a timeout gets one job, not two
(IETF httpapi draft: the first answer again; 422 for the key with another body; 409 while
the first request is still being processed)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select, update

from api import idempotency
from api.db.models import IdempotencyKey, Job, utcnow
from api.housekeeping import prune
from api.routers import jobs

KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"


def _batch(vroom_problem, jobs: int = 6) -> dict:
    return {"format": "vroom", "problem": vroom_problem(jobs), "engine": "ortools",
            "time_limit_s": 1}  # fmt: skip


def _siting() -> dict:
    return {
        "model": {"kind": "maxcover", "p": 1},
        "radius_m": 400,
        "distance": "straight_line",
        "demand": [{"id": "dorm", "lat": 36.0670, "lon": 120.3830, "parcels": 100}],
        "candidates": [{"id": "gate", "lat": 36.0671, "lon": 120.3832}],
        "time_limit_s": 5,
    }


def _jobs(db) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Job))


def _keyed(headers: dict, key: str = KEY) -> dict:
    return {**headers, "Idempotency-Key": f'"{key}"'}


def test_a_retry_with_the_same_key_gets_the_first_job(client, db, auth, vroom_problem):
    """The first answer again, with the same job id, and one job in the queue; a firm's
    client that timed out and retried used to get a second job, solved and counted twice."""
    body = _batch(vroom_problem)
    first = client.post("/v1/batches", json=body, headers=_keyed(auth["a"]))
    again = client.post("/v1/batches", json=body, headers=_keyed(auth["a"]))
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers[idempotency.REPLAYED_HEADER] == "true"
    assert idempotency.REPLAYED_HEADER not in first.headers
    assert _jobs(db) == 1
    # members in another order, and the bare key as Stripe's clients send it: the same request
    reordered = dict(reversed(list(body.items())))
    bare = client.post("/v1/batches", json=reordered, headers={**auth["a"], "Idempotency-Key": KEY})
    assert bare.json() == first.json() and _jobs(db) == 1
    # no key: a new job each time, as before
    assert client.post("/v1/batches", json=body, headers=auth["a"]).status_code == 202
    assert _jobs(db) == 2


def test_siting_runs_take_the_key_too(client, db, auth):
    first = client.post("/v1/siting-runs", json=_siting(), headers=_keyed(auth["planner"]))
    again = client.post("/v1/siting-runs", json=_siting(), headers=_keyed(auth["planner"]))
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and _jobs(db) == 1


def test_the_key_with_another_body_or_path_is_a_422_naming_it(client, db, auth, vroom_problem):
    made = client.post("/v1/batches", json=_batch(vroom_problem), headers=_keyed(auth["a"]))
    assert made.status_code == 202
    other = client.post("/v1/batches", json=_batch(vroom_problem, 7), headers=_keyed(auth["a"]))
    assert other.status_code == 422
    (problem,) = other.json()["detail"]
    assert problem["loc"] == ["header", "Idempotency-Key"]
    assert KEY in problem["msg"] and "another body" in problem["msg"]
    admin = client.post("/v1/siting-runs", json=_siting(), headers=_keyed(auth["admin"]))
    assert admin.status_code == 202  # another caller: its own keys
    with db.writing() as session:  # the firm's key sent to another endpoint
        session.execute(update(IdempotencyKey).values(path="/v1/siting-runs"))
    moved = client.post("/v1/batches", json=_batch(vroom_problem), headers=_keyed(auth["a"]))
    assert moved.status_code == 422 and "POST /v1/siting-runs" in moved.json()["detail"][0]["msg"]
    assert _jobs(db) == 2


def test_keys_are_each_firms_own(client, db, auth, vroom_problem):
    body = _batch(vroom_problem)
    a = client.post("/v1/batches", json=body, headers=_keyed(auth["a"])).json()
    b = client.post("/v1/batches", json=body, headers=_keyed(auth["b"])).json()
    assert a["id"] != b["id"] and _jobs(db) == 2
    assert client.get(f"/v1/batches/{a['id']}", headers=auth["b"]).status_code == 404


def test_a_request_that_made_no_job_keeps_no_key(make_client, db, auth, vroom_problem):
    """A 422 for a bad field, or the quota's 429, stores nothing: the corrected request (or
    the same one, once a place is free) goes through under the same key."""
    client = make_client(max_active_jobs=1)
    bad = _batch(vroom_problem)
    bad["problem"]["jobs"][0]["location_index"] = 99
    refused = client.post("/v1/batches", json=bad, headers=_keyed(auth["a"]))
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"][0] == "body"
    taken = client.post("/v1/batches", json=_batch(vroom_problem, 5), headers=auth["a"])
    assert taken.status_code == 202
    full = client.post("/v1/batches", json=_batch(vroom_problem), headers=_keyed(auth["a"]))
    assert full.status_code == 429
    client.post(f"/v1/batches/{taken.json()['id']}/cancel", headers=auth["a"])
    made = client.post("/v1/batches", json=_batch(vroom_problem), headers=_keyed(auth["a"]))
    assert made.status_code == 202 and _jobs(db) == 2


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "empty"),
        ('""', "empty"),
        ("has space", "' ' is none of them"),
        ('"quoted\\"escape"', "'\\\\' is none of them"),
        ("x" * 256, "it has 256"),
    ],
)
def test_a_key_out_of_form_is_a_422(client, db, auth, vroom_problem, value, why):
    r = client.post(
        "/v1/batches", json=_batch(vroom_problem), headers={**auth["a"], "Idempotency-Key": value}
    )
    assert r.status_code == 422
    (problem,) = r.json()["detail"]
    assert problem["loc"] == ["header", "Idempotency-Key"] and why in problem["msg"]
    assert _jobs(db) == 0


def test_a_key_sent_twice_is_a_422(client, db, auth, vroom_problem):
    headers = [(k, v) for k, v in auth["a"].items()]
    headers += [("Idempotency-Key", "one"), ("Idempotency-Key", "two")]
    r = client.post("/v1/batches", json=_batch(vroom_problem), headers=headers)
    assert r.status_code == 422 and "more than once" in r.json()["detail"][0]["msg"]
    assert _jobs(db) == 0


@pytest.fixture
def held_check(monkeypatch):
    """The first batch check waits until released: a request still being processed."""
    started, release = threading.Event(), threading.Event()
    real = jobs.read_batch
    first = [True]

    def slow(*args, **kwargs):
        if first[0]:
            first[0] = False
            started.set()
            assert release.wait(60), "never released"
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs, "read_batch", slow)
    return started, release


def test_a_retry_while_the_first_is_processed_is_a_409(client, db, auth, vroom_problem,
                                                       held_check):  # fmt: skip
    started, release = held_check
    body = _batch(vroom_problem)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.post, "/v1/batches", json=body, headers=_keyed(auth["a"]))
        assert started.wait(60)
        retry = client.post("/v1/batches", json=body, headers=_keyed(auth["a"]))
        assert retry.status_code == 409
        assert retry.headers["Retry-After"] == str(idempotency.RETRY_AFTER_S)
        assert KEY in retry.json()["detail"]
        release.set()
        assert first.result().status_code == 202
    later = client.post("/v1/batches", json=body, headers=_keyed(auth["a"]))
    assert later.json() == first.result().json() and _jobs(db) == 1


def test_a_dead_requests_hold_lapses_and_the_slow_one_makes_no_second_job(
    client, db, auth, vroom_problem, held_check
):
    """A hold older than HOLD is taken over by a retry, which makes the job; the first
    request, only slow, then answers with that job instead of making its own."""
    started, release = held_check
    body = _batch(vroom_problem)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.post, "/v1/batches", json=body, headers=_keyed(auth["a"]))
        assert started.wait(60)
        with db.writing() as session:
            session.execute(
                update(IdempotencyKey).values(claimed_at=utcnow() - idempotency.HOLD * 2)
            )
        retry = client.post("/v1/batches", json=body, headers=_keyed(auth["a"]))
        assert retry.status_code == 202 and idempotency.REPLAYED_HEADER not in retry.headers
        release.set()
        slow = first.result()
    assert slow.status_code == 202 and slow.json() == retry.json()
    assert slow.headers[idempotency.REPLAYED_HEADER] == "true"
    assert _jobs(db) == 1


def test_a_key_expires_and_is_pruned(client, db, auth, vroom_problem):
    body = _batch(vroom_problem)
    first = client.post("/v1/batches", json=body, headers=_keyed(auth["a"])).json()
    client.post("/v1/batches", json=body, headers=_keyed(auth["a"], "another"))
    with db.writing() as session:
        session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == KEY)
            .values(created_at=utcnow() - idempotency.RETENTION - timedelta(minutes=1))
        )
    with db.writing() as session:
        assert prune(session, older_than_days=31, dry_run=True).idempotency_keys == 1
    # past its retention the key makes a new job, and names it from then on
    renewed = client.post("/v1/batches", json=body, headers=_keyed(auth["a"])).json()
    assert renewed["id"] != first["id"] and _jobs(db) == 3
    assert client.post("/v1/batches", json=body, headers=_keyed(auth["a"])).json() == renewed
    with db.writing() as session:
        session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(days=2)))
    with db.writing() as session:
        pruned = prune(session, older_than_days=31)
    assert (pruned.idempotency_keys, pruned.jobs) == (2, 0)
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_openapi_documents_the_key_and_its_answers(client):
    doc = client.get("/openapi.json").json()
    for path in ("/v1/batches", "/v1/siting-runs"):
        operation = doc["paths"][path]["post"]
        (param,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert param["in"] == "header" and not param["required"]
        assert "24 h" in param["description"]
        responses = operation["responses"]
        assert "Retry-After" in responses["409"]["headers"]
        assert "Idempotency-Key" in responses["422"]["description"]
        assert idempotency.REPLAYED_HEADER in responses["202"]["description"]
        replayed = responses["202"]["headers"][idempotency.REPLAYED_HEADER]
        assert replayed["schema"] == {"type": "string", "enum": ["true"]}


def test_identical_requests_at_once_make_one_job(database_url, db, auth, vroom_problem,
                                                 start_servers):  # fmt: skip
    """Two server processes on PostgreSQL, identical requests at once: exactly one job; each
    answer is that job's 202 or a 409 (still being processed), and a later retry gets it."""
    if not database_url.startswith("postgresql"):
        pytest.skip("concurrency across server processes: PostgreSQL")
    urls = start_servers(2, cli=False)
    body, headers = _batch(vroom_problem, 40), _keyed(auth["a"])
    gate = threading.Barrier(8)

    def send(i: int, wait: bool = True) -> httpx.Response:
        if wait:
            gate.wait(30)
        return httpx.post(f"{urls[i % 2]}/v1/batches", json=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(8)))
    codes = sorted(r.status_code for r in answers)
    assert set(codes) <= {202, 409} and 202 in codes, codes
    assert len({r.json()["id"] for r in answers if r.status_code == 202}) == 1
    assert _jobs(db) == 1
    later = send(0, wait=False)
    deadline = time.monotonic() + 30
    while later.status_code == 409 and time.monotonic() < deadline:  # the first still checking
        time.sleep(0.2)
        later = send(0, wait=False)
    assert later.status_code == 202 and later.headers[idempotency.REPLAYED_HEADER] == "true"
    assert _jobs(db) == 1
    # distinct keys at once are distinct requests: each its own job, none held up
    headers_of = [_keyed(auth["a"], f"distinct-{i}") for i in range(8)]

    def distinct(i: int) -> int:
        gate.wait(30)
        url = f"{urls[i % 2]}/v1/batches"
        return httpx.post(url, json=body, headers=headers_of[i], timeout=60).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(distinct, range(8))) == [202] * 8
    assert _jobs(db) == 9


def test_the_prune_command_counts_the_keys_it_deletes(db, database_url):
    """`gongpei admin prune` said only jobs and reservations while it deleted keys too."""
    from typer.testing import CliRunner

    from api.cli.main import app

    args = ["admin", "prune", "--older-than", "31", "--dry-run", "--database-url", database_url]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "0 idempotency keys" in result.output
