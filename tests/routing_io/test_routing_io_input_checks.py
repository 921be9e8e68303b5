"""Native and VROOM input refused early, naming the field as the input spells it: a native
`travel` that is not one of the sources, a VROOM file without vehicles, a bad `description`."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from routing.io import guess_format, read_problem
from routing.io.native import TravelError, check_travel, problem_from_dict
from routing.model import ProblemError

NATIVE = {
    "locations": [{"lat": 36.066, "lon": 120.383}, {"lat": 36.070, "lon": 120.390}],
    "centres": [{"id": "hub", "location": 0}],
    "vehicles": [{"id": "v1", "start": "hub", "end": "hub"}],
    "jobs": [{"id": "a", "location": 1}],
}
VROOM = {
    "vehicles": [{"id": 1, "start_index": 0, "end_index": 0, "capacity": [4]}],
    "jobs": [{"id": 10, "location_index": 1, "delivery": [1]}],
    "shipments": [
        {"amount": [1], "pickup": {"id": 20, "location_index": 1},
         "delivery": {"id": 21, "location_index": 0}},
    ],
    "matrices": {"car": {"durations": [[0, 100], [100, 0]]}},
}  # fmt: skip


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("travel", "field", "needle"),
    [
        ("straight_line", "travel", 'expected an object such as {"source": "straight_line"}'),
        ({"source": "teleport"}, "travel.source", "'teleport' is not a travel source"),
        ({"speed_kmh": 20}, "travel.source", "missing"),
        ({"source": ["network"]}, "travel.source", "is not a travel source"),
        ({"source": "straight_line", "osm": "x.osm"}, "travel.osm", "not a field of the"),
        ({"source": "straight_line", "speed_kmh": "fast"}, "travel.speed_kmh", "positive"),
        ({"source": "straight_line", "speed_kmh": {"van": 0}}, "travel.speed_kmh", "positive"),
        ({"source": "straight_line", "speed_kmh": 1e12}, "travel.speed_kmh", "1-200 km/h"),
        ({"source": "straight_line", "speed_kmh": {"van": 0.01}}, "travel.speed_kmh", "1-200"),
        ({"source": "straight_line", "circuity": 0.5}, "travel.circuity", "at least 1"),
        ({"source": "network", "osm": 3}, "travel.osm", "an OSM file"),
    ],
)
def test_bad_travel_is_named_with_the_allowed_sources(travel, field, needle) -> None:
    with pytest.raises(TravelError) as err:
        problem_from_dict({**NATIVE, "travel": travel})
    assert err.value.field == field
    message = str(err.value)
    assert message.startswith(f"{field}: ") and needle in message
    if field in ("travel", "travel.source"):
        assert "network, straight_line" in message


def test_unknown_travel_source_is_refused_even_with_a_network(tmp_path: Path) -> None:
    # it used to be timed on the --network without a word, or reported as "matrices: missing"
    path = write(tmp_path, {**NATIVE, "travel": {"source": "teleport"}})
    with pytest.raises(TravelError, match=r"^travel\.source: 'teleport'"):
        read_problem(path, network="synthetic:60")


def test_good_travel_passes_unchanged() -> None:
    travel = {"source": "straight_line", "speed_kmh": {"van": 20}, "circuity": 1.2}
    assert check_travel(travel) == travel and check_travel(None) is None
    problem = problem_from_dict({**NATIVE, "travel": travel})
    assert problem.matrices["van"].durations[0, 1] > 0


def test_non_list_locations_or_vehicles_are_named() -> None:
    for key in ("locations", "vehicles"):
        data = {**NATIVE, key: 5, "travel": {"source": "straight_line"}}
        with pytest.raises(ProblemError, match=f"^{key}: a list is required"):
            problem_from_dict(data)


def test_vroom_file_without_vehicles_is_read_as_vroom(tmp_path: Path) -> None:
    data = copy.deepcopy(VROOM)
    del data["vehicles"]
    path = write(tmp_path, data)
    assert guess_format(path) == "vroom"
    with pytest.raises(ProblemError, match=r"^vehicles: missing"):
        read_problem(path)
    del data["jobs"]  # the shipments' integer ids tell as well
    assert guess_format(write(tmp_path, data)) == "vroom"


def test_native_files_are_still_guessed_native(tmp_path: Path) -> None:
    assert guess_format(write(tmp_path, NATIVE)) == "native"
    assert guess_format(write(tmp_path, {**NATIVE, "vehicles": []})) == "native"
    assert guess_format(write(tmp_path, {"jobs": [{"id": True}]})) == "native"


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (lambda d: d["jobs"][0], "job '10': description: a string is required (got 5)"),
        (lambda d: d["vehicles"][0], "vehicle '1': description: a string is required"),
        (lambda d: d["shipments"][0]["pickup"], "shipment #0: pickup: description: a string"),
    ],
)
def test_vroom_description_errors_name_description(tmp_path: Path, where, expected) -> None:
    data = copy.deepcopy(VROOM)
    where(data)["description"] = 5
    with pytest.raises(ProblemError) as err:
        read_problem(write(tmp_path, data))
    assert expected in str(err.value) and "name:" not in str(err.value)


def test_vroom_descriptions_become_names(tmp_path: Path) -> None:
    data = copy.deepcopy(VROOM)
    data["jobs"][0]["description"] = "front desk"
    data["shipments"][0]["pickup"]["description"] = "shop"
    problem = read_problem(write(tmp_path, data))
    assert problem.job("10").name == "front desk"
    assert problem.shipment("20-21").pickup.name == "shop"


def test_a_true_capacity_is_not_one(tmp_path: Path) -> None:
    data = copy.deepcopy(VROOM)
    data["vehicles"][0]["capacity"] = [True]  # was read as a capacity of one
    with pytest.raises(ProblemError, match=r"capacity.*not true or false"):
        read_problem(write(tmp_path, data))
