"""A location without coordinates that nothing stands at does not fail a batch.

An audit posted a day timed on the server's map whose list of addresses held one with no
lat/lon that no task used: it was a 422 ("locations[3]: no coordinates"), while a spare
address off the map is left unreachable (README: "a spare location nothing stands at does not
fail it"). A task or centre at such a location is still refused, by the item's name.
"""

from __future__ import annotations

import pytest

from api.jobs.worker import Worker
from network.graph import build_graph


@pytest.fixture(scope="module")
def day() -> dict:
    """Two parcels and a hub on the synthetic map, and a spare address with no coordinates."""
    nodes = list(build_graph("synthetic:60").nodes(data=True))
    picks = [nodes[0], nodes[len(nodes) // 3], nodes[2 * len(nodes) // 3]]
    return {
        "locations": [*({"lat": d["y"], "lon": d["x"]} for _, d in picks), {"name": "spare"}],
        "centres": [{"id": "hub", "location": 0}],
        "vehicles": [{"id": "v1", "start": "hub", "end": "hub"}],
        "jobs": [{"id": "a", "location": 1}, {"id": "b", "location": 2}],
    }


def _post(client, headers, problem: dict):
    body = {"format": "native", "problem": problem, "engine": "ortools", "time_limit_s": 1}
    return client.post("/v1/batches", json=body, headers=headers)


@pytest.mark.parametrize("travel", [None, {"source": "straight_line"}])
def test_a_spare_location_without_coordinates_is_left_unreachable(
    make_client, settings, auth, day, travel
):
    """On the server's map (checked at submission by straight lines, then timed on the
    roads by the worker) and by straight lines alike."""
    client = make_client(map_network="synthetic:60")
    problem = day if travel is None else {**day, "travel": travel}
    r = _post(client, auth["a"], problem)
    assert r.status_code == 202, r.text
    assert Worker(settings).run(max_jobs=1) == 1
    solution = client.get(f"/v1/batches/{r.json()['id']}/solution", headers=auth["a"]).json()
    assert solution["summary"]["unassigned"] == 0 and solution["summary"]["checker"]["ok"]


def test_a_task_at_a_location_without_coordinates_is_a_422_naming_it(make_client, auth, day):
    client = make_client(map_network="synthetic:60")
    problem = {**day, "jobs": [day["jobs"][0], {"id": "b", "location": 3}]}
    r = _post(client, auth["a"], problem)
    assert r.status_code == 422, r.text
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "problem", "jobs", 1, "location"]
    assert error["msg"].startswith("point 'job b': no coordinates (lat/lon)")
