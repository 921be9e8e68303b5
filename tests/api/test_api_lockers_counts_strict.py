"""A locker's compartment counts in `POST /v1/lockers` and `PATCH /v1/lockers/{id}` are JSON
whole numbers, as a locker file's import reads them: "3" and 2.0 were stored as 3 and 2 doors
(pydantic's lax mode), where the import refused them."""

from __future__ import annotations

import pytest

BODY = {"name": "Tower A lobby", "lat": 36.06, "lon": 120.38}


@pytest.mark.parametrize("count", ["3", 2.0, True, 2.5])
def test_a_count_that_is_not_a_json_whole_number_is_a_422_naming_it(
    client, auth, count: object
) -> None:
    r = client.post(
        "/v1/lockers", json={**BODY, "compartments": {"S": count}}, headers=auth["admin"]
    )
    assert r.status_code == 422, r.text
    assert [e["loc"] for e in r.json()["detail"]] == [["body", "compartments", "S"]]
    created = client.post("/v1/lockers", json={**BODY, "compartments": {"M": 3}},
                          headers=auth["admin"])  # fmt: skip
    assert created.status_code == 201
    locker = created.json()["id"]
    r = client.patch(
        f"/v1/lockers/{locker}", json={"add_compartments": {"L": count}}, headers=auth["admin"]
    )
    assert r.status_code == 422, r.text
    assert [e["loc"] for e in r.json()["detail"]] == [["body", "add_compartments", "L"]]
    total = client.get(f"/v1/lockers/{locker}").json()["total"]
    assert total == {"S": 0, "M": 3, "L": 0}


def test_the_schema_still_shows_the_bounds_of_a_count(client) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]["LockerCreate"]
    counts = schema["properties"]["compartments"]["additionalProperties"]
    assert (counts["type"], counts["minimum"], counts["maximum"]) == ("integer", 0, 500)
