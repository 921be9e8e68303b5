"""A batch's GeoJSON names its figures with their units, as a pooling run's does.

An audit read a route's `distance`/`duration` in a batch's GeoJSON and `distance_m`/
`duration_s` in a pooling run's, for the same figures drawn by one producer
(`Solution.to_geojson`, which the pool's output renamed after the fact).
"""

from __future__ import annotations

from api.jobs.runner import solve_batch
from api.schemas import jobs as job_bodies

ROUTE_KEYS = {"vehicle", "cost", "distance_m", "duration_s", "walked_m"}


def _day() -> dict:
    return {
        "travel": {"source": "straight_line", "speed_kmh": 25},
        "locations": [{"lat": 36.06 + 0.002 * i, "lon": 120.38 + 0.003 * i} for i in range(4)],
        "centres": [{"id": "hub", "location": 0}],
        "vehicles": [{"id": "van-1", "start": "hub", "end": "hub", "cost_per_km": 1.2}],
        "jobs": [{"id": f"p{i}", "location": i} for i in range(1, 4)],
    }


def test_a_batch_routes_figures_carry_their_units():
    payload = {"format": "native", "problem": _day(), "engine": "ortools", "time_limit_s": 1}
    solution, geojson = solve_batch(payload, lambda _share: None)
    (line,) = [f["properties"] for f in geojson["features"]
               if f["geometry"]["type"] == "LineString"]  # fmt: skip
    (route,) = solution["routes"]
    assert set(line) == ROUTE_KEYS
    assert (line["distance_m"], line["duration_s"], line["cost"]) == (
        route["distance"], route["duration"], route["cost"]) and line["distance_m"] > 0


def test_the_openapi_geojson_example_is_the_json_examples_answer(client):
    """The solution's GeoJSON example is documented (it was an empty collection) and drawn
    from the same plan as the JSON example, in the names the producer writes."""
    responses = client.get("/openapi.json").json()["paths"][
        "/v1/batches/{job_id}/solution"]["get"]["responses"]  # fmt: skip
    example = responses["200"]["content"]["application/geo+json"]["example"]
    assert example == job_bodies.SOLUTION_GEOJSON_EXAMPLE
    lines = [f["properties"] for f in example["features"] if f["geometry"]["type"] == "LineString"]
    assert [set(p) for p in lines] == [ROUTE_KEYS] * len(job_bodies.SOLUTION_EXAMPLE["routes"])
    for props, route in zip(lines, job_bodies.SOLUTION_EXAMPLE["routes"], strict=True):
        assert (props["vehicle"], props["distance_m"], props["duration_s"]) == (
            route["vehicle"], route["distance"], route["duration"])
    left_out = [f["properties"]["id"] for f in example["features"]
                if f["properties"].get("type") == "unassigned"]  # fmt: skip
    assert left_out == [u["id"] for u in job_bodies.SOLUTION_EXAMPLE["unassigned"]]
    assert "`distance_m`" in responses["200"]["description"]
