"""A stop too far from the roads is named by its job or centre id (the OSM audit's finding 9:
it was "point 4", its place in an internal list). The problem's check says so, once it knows
a task or a centre stands there (see test_routing_offmap_spare.py)."""

import pytest

from routing.io.native import problem_from_dict
from routing.io.vroom import vroom_to_problem
from routing.model import ProblemError

NEAR, FAR = [24.9384, 60.1699], [24.94, 61.5]  # central Helsinki (the demo map); 150 km north


def test_vroom_job_off_the_map_is_named_by_its_id():
    data = {
        "vehicles": [{"id": 1, "start": NEAR, "end": NEAR}],
        "jobs": [{"id": 101, "location": [24.9414, 60.1705]}, {"id": 777, "location": FAR}],
    }
    with pytest.raises(ProblemError, match=r"^point 'job 777': \(lat=61.5, lon=24.94\) is \d+ m"):
        vroom_to_problem(data, network="demo")
    data["vehicles"][0]["start"] = FAR
    with pytest.raises(ProblemError, match=r"^point 'vehicle 1 start'"):
        vroom_to_problem(data, network="demo")


def test_native_centre_off_the_map_is_named_by_its_id():
    data = {
        "locations": [{"lon": FAR[0], "lat": FAR[1]}, {"lon": NEAR[0], "lat": NEAR[1]}],
        "centres": [{"id": "hub", "location": 0}],
        "vehicles": [{"id": "v", "start": "hub", "end": "hub"}],
        "jobs": [{"id": "a", "location": 1}],
    }
    with pytest.raises(ProblemError, match=r"^point 'centre hub': \(lat=61.5"):
        problem_from_dict(data, network="demo")
