"""`Solution.to_geojson` draws the tasks a plan leaves out, with their reasons: a map of the
plan showed only what was delivered."""

from __future__ import annotations

from routing_helpers import line_model, solved
from shapely.geometry import shape


def test_a_task_left_out_is_a_point_with_its_id_and_reason() -> None:
    m = line_model(3)
    m.add_vehicle("v1", start="hub", end="hub", capacity=(5,))
    m.add_job("small", location=1, delivery=(3,))
    m.add_job("huge", location=2, delivery=(20,))  # more than the van holds
    m.add_shipment("box", pickup={"location": 2}, delivery={"location": 1}, amount=(9,))
    solution = solved(m.build())
    features = solution.to_geojson()["features"]
    kinds = [f["properties"].get("type") for f in features]  # a route's line has no type
    left = {
        f["properties"]["id"]: f for f, k in zip(features, kinds, strict=True) if k == "unassigned"
    }
    assert set(left) == {u.id for u in solution.unassigned} == {"huge", "box"}
    reasons = {u.id: u.reason for u in solution.unassigned}
    for task, kind in (("huge", "job"), ("box", "shipment")):
        props = left[task]["properties"]
        assert props == {
            "vehicle": None, "type": "unassigned", "id": task, "task": kind,
            "reason": reasons[task],
        }  # fmt: skip
        # at the job's place, or the shipment's pickup: location 2 of the line
        assert left[task]["geometry"] == {"type": "Point", "coordinates": [120.3, 36.002]}
    assert all(shape(f["geometry"]).is_valid for f in features)
    # the stops are as before: the served job, the start and the end
    assert sorted(k for k in kinds if k not in (None, "unassigned")) == ["end", "job", "start"]
