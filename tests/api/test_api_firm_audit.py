"""The HTTP API as a logistics firm sees it (the firm audit's API findings): what OpenAPI says a
cancel does, a firm's own saving given once, its batches listed, the pool runs it takes part
in readable, its own locker drops, input errors that say what to fix, and datums honoured."""

from __future__ import annotations

import copy

import jsonschema_rs
import pytest
from sqlalchemy import update

from api.db.models import Job
from api.jobs.worker import Worker
from api.routers.pooling import own_savings
from api.schemas.jobs import NATIVE_DAY
from network.datum import from_wgs84, to_wgs84
from routing.pooling.day import parse_day
from tests.api.test_api_pooling import DAY, FAST

NATIVE = {"format": "native", "problem": NATIVE_DAY, "time_limit_s": 0.5}


def _spec(client) -> dict:
    return client.get("/openapi.json").json()


def test_openapi_cancel_says_a_running_batch_stops_at_its_next_plan(client):
    """It said a batch stops "when its search ends (its time limit)": up to 600 s of a
    worker, where it stops within a fraction of a second, as the README says."""
    paths = _spec(client)["paths"]
    for path in ("/v1/batches", "/v1/siting-runs", "/v1/pool-runs"):
        text = paths[f"{path}/{{job_id}}/cancel"]["post"]["description"]
        assert "time limit" not in text and "search's next plan" in text
        assert "a siting run at once" in text and "within its solve in progress" in text


def test_a_firms_own_saving_is_the_rows_own():
    """`own_savings` worked the saving out again from the rounded cost and share: 47.13 beside
    the row's 47.14 in the same answer."""
    row = {
        "solo_cost": 131.23, "pooled_shapley": 84.1,  # 131.234 - 84.096: 47.138
        "pooled_saving": 47.14, "pooled_saving_pct": 35.92,
        "solo_vehicle_km": 20.0, "pooled_vehicle_km": 12.5,
    }  # fmt: skip
    own = own_savings(row, "pooled")
    assert own["cost"] == {"solo": 131.23, "pooled": 84.1, "saved": 47.14, "percent": 35.92}
    assert own["vehicle_km"]["saved"] == 7.5


def test_a_firm_lists_its_own_batches_newest_first(client, auth):
    """`GET /v1/batches` was a 405: a firm that lost a job id could not find its batch."""
    ids = []
    for _ in range(3):
        r = client.post("/v1/batches", json=NATIVE, headers=auth["a"])
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    client.post("/v1/batches", json=NATIVE, headers=auth["b"])
    page = client.get("/v1/batches?limit=2", headers=auth["a"])
    assert page.status_code == 200, page.text
    assert [b["id"] for b in page.json()["items"]] == [ids[2], ids[1]]
    assert page.json()["items"][0]["status"] == "queued"
    assert page.json()["items"][0]["attempts"] == 0
    rest = client.get(f"/v1/batches?limit=2&cursor={page.json()['next_cursor']}",
                      headers=auth["a"]).json()  # fmt: skip
    assert [b["id"] for b in rest["items"]] == [ids[0]] and rest["next_cursor"] is None
    assert client.get("/v1/batches", headers=auth["planner"]).status_code == 403
    r = client.get("/v1/batches?cursor=bogus", headers=auth["a"])
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "cursor"]


def test_a_firm_reads_the_status_of_a_pool_run_it_takes_part_in(client, db, auth):
    """`GET /v1/pool-runs` listed the run with its status, `GET /v1/pool-runs/{id}` was a 403
    for the same firm; a failed run's reason (which may name other firms' parcels) stays the
    planner's."""
    body = {"day": copy.deepcopy(DAY), **FAST, "firms_on_platform": {"sf": "firm-a"}}
    job_id = client.post("/v1/pool-runs", json=body, headers=auth["planner"]).json()["id"]
    r = client.get(f"/v1/pool-runs/{job_id}", headers=auth["a"])
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "queued" and r.json()["id"] == job_id
    assert client.get(f"/v1/pool-runs/{job_id}", headers=auth["b"]).status_code == 404
    secret = "parcel yto-2: no vehicle reaches it"
    with db.writing() as session:
        session.execute(update(Job).where(Job.id == job_id).values(status="failed", error=secret))
    mine = client.get(f"/v1/pool-runs/{job_id}", headers=auth["a"]).json()
    assert mine["status"] == "failed" and "yto" not in mine["error"]
    planner = client.get(f"/v1/pool-runs/{job_id}", headers=auth["planner"]).json()
    assert planner["error"] == secret


def test_a_firm_result_names_its_own_locker_drops_only(client, settings, auth, lockers):
    """The firm learnt how many of its parcels go to lockers, not which nor to which locker."""
    body = {"day": copy.deepcopy(DAY), **FAST, "live_lockers": True,
            "firms_on_platform": {"sf": "firm-a"}}  # fmt: skip
    job_id = client.post("/v1/pool-runs", json=body, headers=auth["planner"]).json()["id"]
    assert Worker(settings).run(max_jobs=1) == 1
    mine = client.get(f"/v1/pool-runs/{job_id}/firm-result", headers=auth["a"]).json()
    drops = mine["locker_drops"]
    assert drops, mine
    assert {p for d in drops for p in d["parcels"]} <= {"sf-1", "sf-2", "sf-3"}
    assert sum(len(d["parcels"]) for d in drops) == mine["figures"]["parcels_in_lockers"]
    assert {d["platform_locker_id"] for d in drops} <= set(lockers)
    assert all(d["locker"] == f"platform-{d['platform_locker_id']}" for d in drops)
    assert "yto" not in str(mine)
    # the planner's result example is a real answer: shaped as this one
    day = client.get(f"/v1/pool-runs/{job_id}/result", headers=auth["planner"]).json()
    op = _spec(client)["paths"]["/v1/pool-runs/{job_id}/result"]["get"]
    example = op["responses"]["200"]["content"]["application/json"]["example"]
    assert set(example) == set(day) and set(example["firms_table"][0]) == set(day["firms_table"][0])


def test_firms_on_platform_naming_a_planner_says_it_is_not_a_firm_key(client, auth):
    body = {"day": copy.deepcopy(DAY), **FAST, "firms_on_platform": {"sf": "firm-planner"}}
    r = client.post("/v1/pool-runs", json=body, headers=auth["planner"])
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "firms_on_platform", "sf"]
    assert "planner key, not a firm-role key" in error["msg"], error


def test_a_pickup_with_an_unknown_key_names_the_one_meant(client, auth, lockers):
    body = {"size": "S", "parcel_ref": "SF1"}
    reservation = client.post(f"/v1/lockers/{lockers[0]}/reservations", json=body,
                              headers=auth["a"]).json()  # fmt: skip
    r = client.post(f"/v1/reservations/{reservation['id']}/pickup",
                    json={"code": reservation["pickup_code"]}, headers=auth["a"])  # fmt: skip
    assert r.status_code == 422
    (hint,) = [e for e in r.json()["detail"] if e["loc"] == ["body", "code"]]
    assert hint["msg"] == "unknown field 'code'; did you mean 'pickup_code'?"


def test_live_lockers_are_stored_in_the_days_datum(client, db, auth, lockers):
    """The platform's WGS 84 lockers were appended to a GCJ-02 day as they were: the worker,
    reading the stored day, converted them again, about 500 m off their place."""
    day = copy.deepcopy(DAY)
    day["datum"] = "gcj02"
    for items, at in ((day["firms"], "depot"), (day["centres"], "at"),
                      (day["parcels"], "at")):  # fmt: skip
        for item in items:
            item[at] = list(from_wgs84("gcj02", *item[at]))
    body = {"day": day, **FAST, "live_lockers": True}
    r = client.post("/v1/pool-runs", json=body, headers=auth["planner"])
    assert r.status_code == 202, r.text
    with db.reading() as session:
        stored = session.get(Job, r.json()["id"]).payload["day"]
    read = {locker.id: locker for locker in parse_day(stored).lockers}
    assert f"platform-{lockers[0]}" in read
    for i, locker_id in enumerate(lockers):
        if (locker := read.get(f"platform-{locker_id}")) is not None:  # those in reach
            at = (locker.at.lat, locker.at.lon)
            assert at == pytest.approx((36.0670, 120.3830 + i * 0.0011), abs=1e-6)
    bad = client.post("/v1/pool-runs", json={**body, "day": {**day, "datum": "gcj"}},
                      headers=auth["planner"])  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "day", "datum"]


def test_a_siting_run_reads_its_points_in_their_datum(client, settings, auth):
    """A siting run had no `datum`: GCJ-02 points were a 422, or read as WGS 84 (300-700 m
    off the walk network in Chinese cities) if the client left the datum out."""
    from api.schemas.jobs import SitingSubmit

    example = copy.deepcopy(SitingSubmit.model_config["json_schema_extra"]["examples"][0])
    example["time_limit_s"] = 5
    r = client.post("/v1/siting-runs", json={**example, "datum": "GCJ-02"},
                    headers=auth["planner"])  # fmt: skip
    assert r.status_code == 202, r.text
    assert Worker(settings).run(max_jobs=1) == 1
    result = client.get(f"/v1/siting-runs/{r.json()['id']}/result", headers=auth["planner"])
    (site,) = result.json()["sites"]
    (given,) = [c for c in example["candidates"] if c["id"] == site["id"]]
    assert (site["lat"], site["lon"]) == pytest.approx(
        to_wgs84("gcj02", given["lat"], given["lon"]), abs=1e-6
    )
    bad = client.post("/v1/siting-runs", json={**example, "datum": "wsg84"},
                      headers=auth["planner"])  # fmt: skip
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "datum"]
    assert "did you mean 'wgs84'" in bad.json()["detail"][0]["msg"]


def test_openapi_describes_the_batch_a_firm_sends_and_gets_back(client, settings, auth):
    """No native example, a solution `schema: {}` with a route of no steps as its example,
    operations without a description, `time_limit_s` undescribed, and `attempts` said to be
    1 where a queued job shows 0."""
    spec = _spec(client)
    schemas = spec["components"]["schemas"]
    submit = schemas["BatchSubmit"]
    assert [e["format"] for e in submit["examples"]] == ["native", "vroom"]
    assert all("lat" in place for place in submit["examples"][0]["problem"]["locations"])
    assert submit["properties"]["time_limit_s"]["description"]
    assert "0 while queued" in schemas["JobStatus"]["properties"]["attempts"]["description"]
    for path, method in (("/v1/batches", "post"), ("/v1/batches/{job_id}", "get"),
                         ("/v1/batches/{job_id}/solution", "get"), ("/v1/reservations", "get"),
                         ("/v1/reservations/{reservation_id}", "get"),
                         ("/v1/reservations/{reservation_id}", "delete"),
                         ("/v1/reservations/{reservation_id}/deposit", "post"),
                         ("/v1/vehicles", "get"), ("/v1/vehicles", "post"),
                         ("/v1/vehicles/{vehicle_id}", "patch")):  # fmt: skip
        assert spec["paths"][path][method].get("description"), (method, path)
    answer = spec["paths"]["/v1/batches/{job_id}/solution"]["get"]["responses"]["200"]
    content = answer["content"]["application/json"]
    example = content["example"]
    assert all(route["steps"] for route in example["routes"])
    assert example["unassigned"][0]["reason"]
    # each request example is accepted as sent, and a real answer fits the schema
    validator = jsonschema_rs.validator_for({**content["schema"], "components": spec["components"]})
    validator.validate(example)
    ids = []
    for body in submit["examples"]:
        r = client.post("/v1/batches", json={**body, "time_limit_s": 0.5}, headers=auth["a"])
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    assert Worker(settings).run(max_jobs=2) == 2
    for job_id in ids:
        solution = client.get(f"/v1/batches/{job_id}/solution", headers=auth["a"])
        assert solution.status_code == 200, solution.text
        validator.validate(solution.json())
