"""`Idempotency-Key` on pooling runs (needs /work/notes/helperL/pooling.patch in
api/routers/pooling.py): a planner retrying gets the run it made, its firms listed once."""

from __future__ import annotations

import copy

from sqlalchemy import func, select

from api.db.models import Job, PoolParticipant

DAY = {
    "name": "two firms",
    "travel": {"straight_line": True},
    "firms": [
        {"id": "firm-a", "depot": [36.0900, 120.4100], "fleet": [{"count": 1}]},
        {"id": "sf", "depot": [36.0950, 120.4050], "fleet": [{"count": 1}]},
    ],
    "centres": [{"id": "hub", "at": [36.0800, 120.3950], "fleet": [{"count": 2}]}],
    "parcels": [
        {"id": f"{firm}-{k}", "firm": firm, "at": [36.0670 + 0.0002 * k, 120.3830 + 0.0003 * k]}
        for firm in ("firm-a", "sf")
        for k in range(1, 3)
    ],
}
KEY = {"Idempotency-Key": '"pool-run-2026-11-28"'}


def _count(db, model) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_pool_run_retried_with_its_key_is_made_once(client, db, auth):
    body = {"day": copy.deepcopy(DAY), "engine": "ortools", "time_limit_s": 0.5}
    headers = {**auth["planner"], **KEY}
    first = client.post("/v1/pool-runs", json=body, headers=headers)
    again = client.post("/v1/pool-runs", json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert (_count(db, Job), _count(db, PoolParticipant)) == (1, 1)  # firm-a takes part
    other = client.post("/v1/pool-runs", json={**body, "time_limit_s": 1}, headers=headers)
    assert other.status_code == 422
    assert other.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert _count(db, Job) == 1


def test_openapi_documents_the_key_on_pool_runs(client):
    operation = client.get("/openapi.json").json()["paths"]["/v1/pool-runs"]["post"]
    assert [p["name"] for p in operation["parameters"]] == ["Idempotency-Key"]
    assert {"409", "422"} <= set(operation["responses"])
