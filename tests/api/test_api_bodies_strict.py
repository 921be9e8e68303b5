"""A request body's numbers are JSON numbers and its true/false JSON true or false, as a file's
are read (`gongpei site`'s native file, a locker file's import): pydantic's lax mode took "3"
and 2.0 for 3 compartments or lockers, "36.07" for a latitude and "false" for false."""

from __future__ import annotations

import pytest
from dict_edits import changed

SITING = {
    "model": {"kind": "maxcover", "p": 1, "capacitated": False, "sizing": {"max_compartments": 9}},
    "radius_m": 400,
    "distance": "straight_line",
    "demand": [{"id": "d1", "lat": 32.0402, "lon": 118.7815, "parcels": 10}],
    "candidates": [
        {"id": "c1", "lat": 32.0402, "lon": 118.7809, "existing": True,
         "compartments": {"S": 3, "M": 2, "L": 1}},
    ],
    "time_limit_s": 5,
}  # fmt: skip
LOCKER = {"name": "L", "lat": 36.06, "lon": 120.38, "compartments": {"S": 1}}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("model", "p"), "1"),
        (("model", "p"), 1.0),
        (("model", "sizing", "max_compartments"), 9.0),
        (("candidates", 0, "compartments", "S"), "3"),
        (("candidates", 0, "compartments", "M"), 2.0),
        (("demand", 0, "lat"), "32.0402"),
        (("demand", 0, "parcels"), "10"),
        (("candidates", 0, "existing"), "true"),
        (("candidates", 0, "existing"), 1),
        (("model", "capacitated"), "false"),
        (("radius_m",), "400"),
    ],
)
def test_a_siting_run_refuses_a_number_or_true_false_written_otherwise(
    client, auth, path: tuple, value: object
) -> None:
    r = client.post("/v1/siting-runs", json=changed(SITING, path, value), headers=auth["planner"])
    assert r.status_code == 422, r.text
    assert [e["loc"] for e in r.json()["detail"]] == [["body", *path]]


def test_a_siting_run_written_with_json_numbers_is_taken(client, auth) -> None:
    r = client.post("/v1/siting-runs", json=SITING, headers=auth["planner"])
    assert r.status_code == 202, r.text


@pytest.mark.parametrize(
    ("route", "role", "body", "field", "value"),
    [
        ("/v1/centres", "admin", {"name": "C", "lat": 36.1, "lon": 120.4}, "lat", "36.1"),
        ("/v1/centres", "admin", {"name": "C", "lat": 36.1, "lon": 120.4},
         "capacity_parcels", 4.0e4),
        ("/v1/vehicles", "a", {"name": "V", "capacity_parcels": 180}, "capacity_parcels", "180"),
        ("/v1/lockers", "admin", LOCKER, "lon", "120.38"),
        ("/v1/lockers/{locker}/reservations", "a", {"size": "M", "parcel_ref": "SF1"},
         "allow_larger", "true"),
        ("/v1/pool-runs", "planner", {"day": {}}, "live_lockers", "false"),
        ("/v1/pool-runs", "planner", {"day": {}}, "time_limit_s", "5"),
        ("/v1/batches", "a", {"format": "vroom", "problem": {}}, "time_limit_s", "5"),
    ],
)  # fmt: skip
def test_other_bodies_refuse_a_number_or_true_false_written_otherwise(
    client, auth, lockers, route: str, role: str, body: dict, field: str, value: object
) -> None:
    route = route.format(locker=lockers[0])
    r = client.post(route, json={**body, field: value}, headers=auth[role])
    assert r.status_code == 422, r.text
    assert [e["loc"] for e in r.json()["detail"]] == [["body", field]]


def test_the_schema_still_shows_the_bounds_of_a_strict_number(client) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    counts = schemas["Compartments"]["properties"]["S"]
    assert (counts["type"], counts["minimum"], counts["maximum"]) == ("integer", 0, 10_000)
    p = schemas["SitingModelSpec"]["properties"]["p"]["anyOf"][0]
    assert (p["type"], p["minimum"], p["maximum"]) == ("integer", 1, 10_000)
    lat = schemas["DemandPoint"]["properties"]["lat"]
    assert (lat["type"], lat["minimum"], lat["maximum"]) == ("number", -90, 90)
