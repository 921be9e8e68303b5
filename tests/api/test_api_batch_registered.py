"""A batch names the firm's registered vehicles instead of repeating them.

An audit found that a firm registering its vans (`POST /v1/vehicles`) still had to repeat
each one in every batch: a batch could not refer to the register at all.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from api.db.models import Centre, Job
from api.jobs.worker import Worker
from network.datum import from_wgs84

#: A platform centre in Qingdao, where the vans work from.
DEPOT = {"name": "Licang depot", "lat": 36.0600, "lon": 120.3800}


def _day(**changes) -> dict:
    """A native day of four parcels near the depot, timed by straight lines."""
    return {
        "travel": {"source": "straight_line", "speed_kmh": 25},
        "locations": [{"lat": 36.0600 + 0.002 * i, "lon": 120.3800 + 0.003 * i}
                      for i in range(1, 5)],
        "jobs": [{"id": f"p{i}", "location": i, "delivery": [1]} for i in range(4)],
        **changes,
    }  # fmt: skip


@pytest.fixture
def depot(db) -> int:
    with db.writing() as session:
        centre = Centre(**DEPOT)
        session.add(centre)
        session.flush()
        return centre.id


def _register(client, headers, name: str, **fields) -> dict:
    body = {"name": name, "profile": "van", "capacity_parcels": 3, **fields}
    r = client.post("/v1/vehicles", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def _post(client, headers, problem: dict, fmt: str = "native"):
    body = {"format": fmt, "problem": problem, "engine": "ortools", "time_limit_s": 1}
    return client.post("/v1/batches", json=body, headers=headers)


def _stored(db, job_id: str) -> dict:
    with db.reading() as session:
        return session.scalar(select(Job.payload).where(Job.id == job_id))["problem"]


def test_a_native_batch_takes_its_vans_from_the_register(client, settings, auth, db, depot):
    """Named in any case: name, profile, capacity and the centre (added to the batch's
    locations and centres), the day's shift given beside the name; routes name the plates."""
    _register(client, auth["a"], "苏A12345", centre_id=depot)
    _register(client, auth["a"], "苏A67890", centre_id=depot, profile="e-tricycle",
              capacity_parcels=2)  # fmt: skip
    problem = _day(vehicles=[{"registered": "苏a12345", "shift": ["08:00", "18:00"]},
                             {"registered": "苏Ａ67890"}])  # fmt: skip
    r = _post(client, auth["a"], problem)
    assert r.status_code == 202, r.text
    stored = _stored(db, r.json()["id"])
    assert stored["vehicles"] == [
        {"id": "苏A12345", "name": "苏A12345", "profile": "van", "capacity": [3],
         "start": "Licang depot", "end": "Licang depot", "shift": ["08:00", "18:00"]},
        {"id": "苏A67890", "name": "苏A67890", "profile": "e-tricycle", "capacity": [2],
         "start": "Licang depot", "end": "Licang depot"},
    ]  # fmt: skip
    assert stored["centres"] == [{"id": "Licang depot", "location": 4}]  # added once
    assert stored["locations"][4] == {**DEPOT, "lat": 36.06, "lon": 120.38}
    assert Worker(settings).run(max_jobs=1) == 1
    solution = client.get(f"/v1/batches/{r.json()['id']}/solution", headers=auth["a"]).json()
    assert solution["summary"]["unassigned"] == 0 and solution["summary"]["checker"]["ok"]
    routes = {route["vehicle"]: route for route in solution["routes"]}
    assert set(routes) <= {"苏A12345", "苏A67890"} and routes
    for route in routes.values():
        assert route["steps"][0]["location"] == [120.38, 36.06]


def test_the_batch_keeps_the_vehicle_as_it_was_when_posted(client, settings, auth, db, depot):
    """A change or removal of the registered vehicle after the batch was posted does not
    change the queued batch, nor its solution."""
    van = _register(client, auth["a"], "Lu B-12345", capacity_parcels=4, centre_id=depot)
    r = _post(client, auth["a"], _day(vehicles=[{"registered": "Lu B-12345"}]))
    assert r.status_code == 202, r.text
    patch = {"name": "Lu B-99999", "capacity_parcels": 1, "centre_id": None}
    assert client.patch(f"/v1/vehicles/{van['id']}", json=patch,
                        headers=auth["a"]).status_code == 200  # fmt: skip
    assert client.delete(f"/v1/vehicles/{van['id']}", headers=auth["a"]).status_code == 204
    assert Worker(settings).run(max_jobs=1) == 1
    solution = client.get(f"/v1/batches/{r.json()['id']}/solution", headers=auth["a"]).json()
    (route,) = solution["routes"]
    assert route["vehicle"] == "Lu B-12345" and solution["summary"]["unassigned"] == 0
    assert route["steps"][0]["location"] == [120.38, 36.06]


def test_fields_given_beside_the_name_override_the_register(client, auth, db, depot):
    """The batch's own start, end, capacity and id win; a batch's own centre of the depot's
    name is used as it stands (with its opening hours), not added again."""
    _register(client, auth["a"], "Lu B-12345", centre_id=depot)
    hub = {"id": "Licang depot", "location": 0, "opening": ["07:00", "20:00"]}
    problem = _day(centres=[hub], vehicles=[
        {"registered": "Lu B-12345", "id": "early", "capacity": [9]},
        {"registered": "Lu B-12345", "id": "late", "start": "Licang depot", "end": None},
    ])  # fmt: skip
    r = _post(client, auth["a"], problem)
    assert r.status_code == 202, r.text
    stored = _stored(db, r.json()["id"])
    assert stored["centres"] == [hub] and len(stored["locations"]) == 4
    early, late = stored["vehicles"]
    assert early | {"capacity": None} == {"id": "early", "name": "Lu B-12345", "profile": "van",
        "capacity": None, "start": "Licang depot", "end": "Licang depot"}  # fmt: skip
    assert early["capacity"] == [9]
    assert (late["id"], late["capacity"], late["start"], late["end"]) == (
        "late", [3], "Licang depot", None)


@pytest.mark.parametrize(
    ("name", "hint"),
    [("Lu B-1234", "; did you mean 'Lu B-12345'?"), ("Trike 9", ""), (" ", None), (7, None)],
)
def test_a_name_the_firm_has_not_registered_is_a_422_naming_it(client, auth, name, hint):
    _register(client, auth["a"], "Lu B-12345")
    _register(client, auth["b"], "Trike 9")  # another firm's: not this firm's to name
    vehicles = [{"registered": "Lu B-12345"}, {"registered": name}]
    r = _post(client, auth["a"], _day(vehicles=vehicles))
    assert r.status_code == 422, r.text
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "problem", "vehicles", 1, "registered"]
    if hint is None:
        assert "the name of one of the firm's registered vehicles is required" in error["msg"]
    else:
        assert error["msg"] == (f"vehicle #1: registered: the firm has no vehicle '{name}' "
                                f"(GET /v1/vehicles lists them){hint}")  # fmt: skip


def test_what_the_register_cannot_tell_is_a_422_at_the_vehicle(client, auth, depot):
    """A capacity counted in more than parcels, and a centre that a batch's own matrices
    cannot hold, are asked for by name."""
    _register(client, auth["a"], "Lu B-12345", centre_id=depot)
    kg = _day(capacity_names=["parcels", "kg"], vehicles=[{"registered": "Lu B-12345"}])
    kg["jobs"] = [{**job, "delivery": [1, 5]} for job in kg["jobs"]]
    r = _post(client, auth["a"], kg)
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "problem", "vehicles", 0]
    assert "holds 3 parcels, but this batch counts its capacity as ['parcels', 'kg']" in (
        error["msg"])
    kg["vehicles"][0]["capacity"] = [3, 40]
    assert _post(client, auth["a"], kg).status_code == 202

    fixed = _day(vehicles=[{"registered": "Lu B-12345"}])
    del fixed["travel"]
    fixed["matrices"] = {"van": {"durations": [[0] * 5] * 5, "distances": [[0] * 5] * 5}}
    r = _post(client, auth["a"], fixed)
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "problem", "vehicles", 0]
    assert "works from centre 'Licang depot', which this batch's matrices do not hold" in (
        error["msg"])


def test_a_vroom_batch_takes_its_vans_from_the_register(client, auth, db, depot, vroom_problem):
    """VROOM's ids are integers: the register's id, the plate its description; the centre is
    its start and end in the batch's datum."""
    van = _register(client, auth["a"], "Lu B-12345", centre_id=depot)
    problem = vroom_problem(4)
    del problem["matrices"]
    problem["jobs"] = [{k: v for k, v in job.items() if k != "location_index"}
                       for job in problem["jobs"]]  # fmt: skip
    problem |= {"datum": "gcj02", "travel": {"source": "straight_line"},
                "vehicles": [{"registered": "LU B-12345", "time_window": [0, 36000]}]}  # fmt: skip
    r = _post(client, auth["a"], problem, fmt="vroom")
    assert r.status_code == 202, r.text
    (vehicle,) = _stored(db, r.json()["id"])["vehicles"]
    lat, lon = from_wgs84("gcj02", DEPOT["lat"], DEPOT["lon"])
    assert vehicle == {"id": van["id"], "description": "Lu B-12345", "capacity": [3],
                       "start": [lon, lat], "end": [lon, lat], "time_window": [0, 36000]}


def test_the_batch_documents_registered_vehicles(client):
    post = client.get("/openapi.json").json()["paths"]["/v1/batches"]["post"]
    assert "registered" in post["description"]
    schema = client.get("/openapi.json").json()["components"]["schemas"]["BatchSubmit"]
    assert '{"registered": "Lu B-12345"}' in schema["properties"]["problem"]["description"]


DAY = {"shift": ["08:00", "18:00"], "fixed_cost": 50, "cost_per_km": 1.2, "cost_per_hour": 30}


def test_a_vehicle_registers_its_usual_shift_and_costs(client, auth):
    """Given as a native batch gives them (clock text or seconds), shown in seconds; null
    clears one; a shift that ends before it starts, or a clock like 10:75, is a 422."""
    van = _register(client, auth["a"], "Lu B-12345", **DAY)
    assert {k: van[k] for k in DAY} == {**DAY, "shift": [28800, 64800]}
    r = client.patch(f"/v1/vehicles/{van['id']}", json={"shift": None, "cost_per_km": 2},
                     headers=auth["a"])  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["shift"], r.json()["cost_per_km"], r.json()["fixed_cost"]) == (None, 2, 50)
    for shift in (["18:00", "08:00"], ["08:00", "10:75"], [True, 3600], ["8 am", "18:00"]):
        r = client.patch(f"/v1/vehicles/{van['id']}", json={"shift": shift}, headers=auth["a"])
        assert r.status_code == 422, (shift, r.text)
        assert r.json()["detail"][0]["loc"][:2] == ["body", "shift"], shift


def test_a_batch_takes_the_registered_shift_and_costs_unless_it_gives_its_own(client, auth, db):
    _register(client, auth["a"], "Lu B-12345", **DAY)
    r = _post(client, auth["a"], _day(vehicles=[{"registered": "Lu B-12345", "cost_per_km": 2}]))
    assert r.status_code == 202, r.text
    (vehicle,) = _stored(db, r.json()["id"])["vehicles"]
    assert {k: vehicle[k] for k in DAY} == {**DAY, "shift": [28800, 64800], "cost_per_km": 2}

    vroom = {"vehicles": [{"registered": "Lu B-12345", "costs": {"per_km": 2}}],
             "jobs": [{"id": 1, "location": [120.381, 36.061]}],
             "travel": {"source": "straight_line"}}  # fmt: skip
    r = _post(client, auth["a"], vroom, fmt="vroom")
    assert r.status_code == 202, r.text
    (vehicle,) = _stored(db, r.json()["id"])["vehicles"]
    assert vehicle["time_window"] == [28800, 64800]
    assert vehicle["costs"] == {"fixed": 50, "per_km": 2, "per_hour": 30}
