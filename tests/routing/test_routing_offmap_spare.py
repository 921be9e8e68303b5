"""A location nothing visits may lie off the map; the stops that do are all named at once (the
firm audit's findings 3 and 4: a spare address in a batch's `locations`, 8 km from the roads,
failed the whole day, and of two stops off the map only the first was named)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest

from routing.io.native import problem_from_dict
from routing.io.vroom import vroom_to_problem
from routing.model import ProblemError

NATIVE = json.loads(
    (Path(__file__).parents[2] / "routing" / "examples" / "problem.json").read_text()
)
SHANGHAI = {"lat": 31.23, "lon": 121.47, "name": "spare Shanghai address"}


def _on_demo(*extra: dict) -> dict:
    """The example day (central Helsinki) timed on the demo map, with extra locations."""
    data = copy.deepcopy(NATIVE)
    del data["travel"]
    data["locations"] += list(extra)
    return data


def test_a_location_nothing_visits_may_lie_off_the_map() -> None:
    problem = problem_from_dict(_on_demo(SHANGHAI), network="demo")
    van = problem.matrices["van"]
    assert list(van.off_map) == [7]
    assert van.off_map[7].startswith("point 'location 7': (lat=31.23, lon=121.47) is ")
    assert van.durations[7, 7] == 0 and math.isinf(van.durations[7, 0])
    assert math.isinf(van.distances[1, 7]) and van.access_m[7] == 0
    assert problem.locations[7].name == "spare Shanghai address"
    assert [j.location for j in problem.jobs] == [1, 2, 3, 4, 5, 6]
    # the rest is timed as without the spare location
    alone = problem_from_dict(_on_demo(), network="demo").matrices["van"]
    assert (van.durations[:7, :7] == alone.durations).all()
    assert van.access_m[:7] == alone.access_m


def test_every_stop_off_the_map_is_named_and_the_first_located() -> None:
    data = _on_demo(SHANGHAI, {"lat": 61.5, "lon": 24.94})
    data["jobs"][4]["location"] = 8
    data["jobs"][2]["location"] = 7
    with pytest.raises(ProblemError) as err:
        problem_from_dict(data, network="demo")
    said = str(err.value)
    assert said.startswith("point 'job p3': (lat=31.23, lon=121.47) is ")
    assert "; point 'job p5': (lat=61.5, lon=24.94) is " in said
    assert said.count("from the nearest usable road") == 2
    assert err.value.loc == ("jobs", 2, "location")


def test_past_five_stops_off_the_map_the_rest_are_counted() -> None:
    near = [24.9384, 60.1699]
    data = {
        "vehicles": [{"id": 1, "start": near, "end": near}],
        "jobs": [{"id": 101, "location": [24.9414, 60.1705]}]
        + [{"id": 700 + k, "location": [24.94, 61.5 + k / 100]} for k in range(7)],
    }
    with pytest.raises(ProblemError) as err:
        vroom_to_problem(data, network="demo")
    said = str(err.value)
    assert said.startswith("point 'job 700': ") and said.endswith("; and 2 more")
    assert said.count("point 'job ") == 5
    assert err.value.loc == ("jobs", 1, "location")
