"""The courier's walk between the road and a stop off it: road-network legs are timed door to
door (walking at `ACCESS_WALK_KMH`), not snap spot to snap spot, while the distance stays what
the vehicle drives; vehicles park at their starts and ends, so those get no walk."""

from __future__ import annotations

import math

import numpy as np
import pytest

from network.geo import haversine_m
from network.graph import build_graph
from network.matrix import travel_matrix
from routing.check import check
from routing.io.native import problem_from_dict
from routing.io.vroom import vroom_to_problem
from routing.model import Location, Problem
from routing.pooling.compare import SolveSettings, compare_day
from routing.pooling.day import parse_day
from routing.pooling.output import route_features
from routing.pooling.plans import pooled_plan
from routing.pooling.travel import day_travel
from routing.solve import solve
from routing.travel import ACCESS_WALK_KMH, DEFAULT_SPEED_KMH, matrices_for

WALK_MS = ACCESS_WALK_KMH / 3.6
ROAD_LAT = 31.0
OFF_LAT = 31.0005  # a door about 55 m north of the road
DEPOT = (ROAD_LAT, 121.0005)  # on the road
DOOR = (OFF_LAT, 121.0025)  # off it
KERB = (ROAD_LAT, 121.0015)  # on it: no walk


@pytest.fixture(scope="module")
def street(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An OSM file of one straight two-way street along lat 31.0, four nodes ~95 m apart."""
    folder = tmp_path_factory.mktemp("street")
    nodes = "".join(
        f' <node id="{i}" lat="{ROAD_LAT}" lon="{121 + i / 1000}"/>\n' for i in range(4)
    )
    refs = "".join(f'<nd ref="{i}"/>' for i in range(4))
    way = f' <way id="10">{refs}<tag k="highway" v="residential"/></way>\n'
    path = folder / "street.osm"
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n{nodes}{way}</osm>\n',
        encoding="utf-8",
    )
    return str(path)


def _road(street: str, points: list[tuple[float, float]]):
    """The plain road matrices (snap spot to snap spot) the walk is added to."""
    return travel_matrix(build_graph(street, profile="van"), points)


def _off_road_m() -> float:
    """How far the door lies from the street: straight north of it."""
    return float(haversine_m(OFF_LAT, DOOR[1], ROAD_LAT, DOOR[1]))


def test_the_walk_is_in_the_duration_not_the_distance_and_not_at_the_depot(street: str) -> None:
    points = [DEPOT, DOOR, KERB]
    locations = [Location(lat=lat, lon=lon) for lat, lon in points]
    van = matrices_for(locations, ["van"], network=street, parked={0})["van"]
    road = _road(street, points)
    walk_s = road.snap_m[1] / WALK_MS  # exactly: the network's own distance from the road
    assert road.snap_m[1] == pytest.approx(_off_road_m(), abs=0.5)  # the door is ~55 m off
    grown = van.durations[0, 1] - road.duration_s[0, 1]
    assert grown == pytest.approx(_off_road_m() / (4.5 / 3.6), abs=0.5)  # ~44 s on foot
    assert van.durations[0, 1] == pytest.approx(road.duration_s[0, 1] + walk_s, abs=1e-9)
    assert van.durations[1, 0] == pytest.approx(road.duration_s[1, 0] + walk_s, abs=1e-9)
    assert van.durations[0, 2] == pytest.approx(road.duration_s[0, 2], abs=1e-6)  # on the road
    assert van.durations[1, 2] == pytest.approx(road.duration_s[1, 2] + walk_s, abs=1e-6)
    assert np.array_equal(van.distances, road.distance_m)  # what the van drives
    assert np.diag(van.durations).tolist() == [0.0, 0.0, 0.0]
    assert van.access_m == pytest.approx((0.0, road.snap_m[1], road.snap_m[2]))
    assert ACCESS_WALK_KMH == DEFAULT_SPEED_KMH["walk"] == 4.5


def test_straight_lines_and_given_matrices_have_no_walk() -> None:
    locations = [Location(lat=lat, lon=lon) for lat, lon in (DEPOT, DOOR)]
    straight = matrices_for(locations, ["van"], travel={"source": "straight_line"})["van"]
    assert straight.access_m is None
    given = _native({"matrices": {"van": {"durations": [[0, 60], [60, 0]],
                                          "distances": [[0, 500], [500, 0]]}}})  # fmt: skip
    assert given.travel("van").access_m is None
    solution = solve(given, engine="ortools", time_limit_s=1, race=False)
    assert solution.routes[0].walked is None and solution.routes[0].duration == 120
    (line,) = [f for f in solution.to_geojson()["features"]
               if f["geometry"]["type"] == "LineString"]  # fmt: skip
    assert line["properties"]["walked_m"] is None
    assert "walked_m" not in solution.to_vroom(given)["routes"][0]  # VROOM's shape, as given


def _native(extra: dict) -> Problem:
    """A native problem: a van from a depot on the street to a door off it and back."""
    data = {
        "locations": [{"lat": lat, "lon": lon} for lat, lon in (DEPOT, DOOR)],
        "centres": [{"id": "depot", "location": 0}],
        "vehicles": [{"id": "v", "start": "depot", "end": "depot"}],
        "jobs": [{"id": "door", "location": 1, "service": 30}],
        **extra,
    }
    return problem_from_dict(data)


@pytest.mark.parametrize("engine", ["ortools", "pyvrp"])
def test_a_route_walks_there_and_back_and_says_so(street: str, engine: str) -> None:
    problem = _native({"travel": {"source": "network", "osm": street}})
    road = _road(street, [DEPOT, DOOR])
    access = float(road.snap_m[1])
    solution = solve(problem, engine=engine, time_limit_s=1, race=False)
    assert check(problem, solution).ok
    (route,) = solution.routes
    drive = road.duration_s[0, 1] + road.duration_s[1, 0]
    assert route.duration == pytest.approx(drive + 2 * access / WALK_MS, abs=1e-6)
    assert route.distance == pytest.approx(road.distance_m[0, 1] + road.distance_m[1, 0])
    assert route.walked == pytest.approx(2 * access)
    door = route.task_steps()[0]
    assert door.arrival - route.start_time == pytest.approx(
        road.duration_s[0, 1] + access / WALK_MS, abs=1e-6
    )  # the ETA is at the door, not at the kerb
    features = solution.to_geojson()["features"]
    line = next(f["properties"] for f in features if f["geometry"]["type"] == "LineString")
    assert line["walked_m"] == pytest.approx(2 * access, abs=0.001)
    stops = {f["properties"]["type"]: f["properties"] for f in features
             if f["geometry"]["type"] == "Point"}  # fmt: skip
    assert stops["job"]["access_m"] == pytest.approx(access, abs=0.001)
    assert stops["start"]["access_m"] == stops["end"]["access_m"] == 0
    assert solution.to_vroom(problem)["routes"][0]["walked_m"] == pytest.approx(2 * access, 0.001)


def test_two_parcels_for_one_door_are_one_walk(street: str) -> None:
    # the review: two locations at one position (a pooling day's parcels, each its own place)
    # were timed as two walks, back to the van and out again, and walked_m said so
    data = {
        "locations": [{"lat": lat, "lon": lon} for lat, lon in (DEPOT, DOOR, DOOR)],
        "centres": [{"id": "depot", "location": 0}],
        "vehicles": [{"id": "v", "start": "depot", "end": "depot"}],
        "jobs": [{"id": "a", "location": 1}, {"id": "b", "location": 2}],
        "travel": {"source": "network", "osm": street},
    }
    problem = problem_from_dict(data)
    travel = problem.travel("van")
    assert travel.durations[1, 2] == travel.durations[2, 1] == 0.0
    access = travel.access_m[1]
    solution = solve(problem, engine="ortools", time_limit_s=1, race=False)
    assert check(problem, solution).ok
    (route,) = solution.routes
    assert route.walked == pytest.approx(2 * access)  # out once, back once


def test_a_vroom_vehicle_parks_at_its_start_and_end(street: str) -> None:
    data = {
        "vehicles": [{"id": 1, "start": DEPOT[::-1], "end": DEPOT[::-1]}],
        "jobs": [{"id": 7, "location": DOOR[::-1]}, {"id": 8, "location": KERB[::-1]}],
    }
    problem = vroom_to_problem(data, network=street)
    road = _road(street, [DEPOT, DOOR, KERB])
    depot = problem.centres[0].location
    door = problem.job("7").location
    access = problem.travel("van").access_m
    assert access is not None and access[depot] == 0
    assert access[door] == pytest.approx(road.snap_m[1])
    solution = solve(problem, engine="ortools", time_limit_s=1, race=False)
    assert check(problem, solution).ok
    assert solution.routes[0].walked == pytest.approx(2 * road.snap_m[1] + 2 * road.snap_m[2])


def _day(street: str) -> dict:
    """One firm delivering two parcels off the street from a depot on it, via a hub on it."""
    return {
        "name": "a street",
        "travel": {"source": street},
        "firms": [{"id": "sf", "depot": list(DEPOT), "fleet": [{"count": 1}]}],
        "centres": [{"id": "hub", "at": [ROAD_LAT, 121.0008], "fleet": [{"count": 1}]}],
        "parcels": [
            {"id": "p1", "firm": "sf", "at": list(DOOR)},
            {"id": "p2", "firm": "sf", "at": [OFF_LAT, 121.0012]},
        ],
    }


def test_a_pooling_day_on_a_road_graph_gets_the_same_walk(street: str) -> None:
    day = parse_day(_day(street))
    travel = day_travel(day)
    places = travel.places
    points = places.points
    road = _road(street, points)
    hub, depot = places.centre["hub"], places.depot["sf"]
    p1, p2 = places.parcel["p1"], places.parcel["p2"]
    walk_s = road.snap_m[p1] / WALK_MS
    van = travel.durations["van"]
    assert van[depot, p1] == pytest.approx(road.duration_s[depot, p1] + walk_s, abs=1e-9)
    assert van[p1, hub] == pytest.approx(road.duration_s[p1, hub] + walk_s, abs=1e-9)
    assert van[depot, hub] == pytest.approx(road.duration_s[depot, hub], abs=1e-6)  # line haul
    assert np.array_equal(travel.distances["van"], road.distance_m)
    assert travel.access_m["van"][[depot, hub]].tolist() == [0.0, 0.0]
    plan = pooled_plan(day, travel, ["sf"])
    cut = plan.problem.travel("van")
    assert cut.access_m is not None and sorted(cut.access_m) == pytest.approx(
        sorted([0.0, road.snap_m[p1], road.snap_m[p2]])
    )
    result = compare_day(
        day, travel, SolveSettings(engine="ortools", time_limit_s=0.3,
                                   coalition_time_limit_s=0.2, min_time_limit_s=0.1),
    )  # fmt: skip
    both = road.snap_m[p1] + road.snap_m[p2]
    for kind, features in route_features(result).items():
        routes = [f["properties"] for f in features
                  if f["geometry"]["type"] == "LineString" and "walked_m" in f["properties"]]
        assert routes, kind
        assert sum(r["walked_m"] for r in routes) == pytest.approx(2 * both, abs=1), kind
        doors = [f["properties"]["access_m"] for f in features
                 if f["geometry"]["type"] == "Point" and f["properties"].get("type") == "job"]
        assert sorted(doors) == pytest.approx(sorted(road.snap_m[[p1, p2]]), abs=0.001), kind
    assert math.isfinite(result.plan_figures()["pooled"].cost)
