"""Native and VROOM input refused early, naming the field as the input spells it: a native
`travel` that is not one of the sources, a VROOM file without vehicles, a bad `description`."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from routing.io import guess_format, read_problem
from routing.io.native import TravelError, check_travel, problem_from_dict
from routing.io.vroom import vroom_to_problem
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
        ({"source": "straight_line", "circuity": 0.5}, "travel.circuity", "of 1-5 is required"),
        ({"source": "straight_line", "circuity": 1e10}, "travel.circuity", "of 1-5 is required"),
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


@pytest.mark.parametrize("empty", [None, {}])
def test_matrices_sent_as_null_or_empty_are_none_given(empty) -> None:
    # as the API reads a batch, and as VROOM reads its own: null was "matrices: Input should
    # be a valid dictionary", though the file asked for straight lines
    data = {**NATIVE, "matrices": empty, "travel": {"source": "straight_line"}}
    assert problem_from_dict(data).matrices["van"].durations[0, 1] > 0


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


def _set(path: tuple, value: object):
    """A change to a copy of VROOM: `value` at `path` (None deletes the field)."""

    def change(data: dict) -> None:
        *head, last = path
        for key in head:
            data = data[key]
        if value is None:
            del data[last]
        else:
            data[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "loc", "message"),
    [
        # the reader's own checks
        (_set(("jobs", 0, "id"), "x"), ("jobs", 0, "id"),
         "job #0: id: an integer is required (got 'x')"),
        (_set(("vehicles", 0, "max_tasks"), 3), ("vehicles", 0, "max_tasks"),
         "vehicle '1': max_tasks: not supported by gongpei's model"),
        (_set(("shipments", 0, "pickup", "location_index"), -1),
         ("shipments", 0, "pickup", "location_index"),
         "shipment #0: pickup: location_index: a non-negative integer is required when "
         "matrices are given"),
        (_set(("vehicles", 0, "breaks"), [{"id": 1, "max_load": [1]}]),
         ("vehicles", 0, "breaks", 0, "max_load"),
         "vehicle '1': break '1': max_load: not supported by gongpei's model"),
        (_set(("jobs", 0), 5), ("jobs", 0), "job #0: an object is required"),
        # the model's checks, at the VROOM field the reader read
        (_set(("jobs", 0, "time_windows"), [[0, 10], [90, 50]]), ("jobs", 0, "time_windows", 1),
         "job '10': time_windows[1]: time window ends (00:00:50) before it starts (00:01:30)"),
        (_set(("jobs", 0, "location_index"), 5), ("jobs", 0, "location_index"),
         "job '10': location 5 is outside the travel matrices (2x2)"),
        (_set(("vehicles", 0, "time_window"), [90, 50]), ("vehicles", 0, "time_window"),
         "vehicle '1': shift: time window ends (00:00:50) before it starts (00:01:30)"),
        (_set(("vehicles", 0, "costs"), {"per_hour": -1}), ("vehicles", 0, "costs", "per_hour"),
         "vehicle '1': cost_per_hour: Input should be greater than or equal to 0 (got -1)"),
        (_set(("vehicles", 0, "breaks"), [{"id": 1, "service": -5}]),
         ("vehicles", 0, "breaks", 0, "service"),
         "vehicle '1': break '1': duration: Input should be greater than or equal to 0 (got -5)"),
        (_set(("shipments", 0, "delivery", "service"), "x"),
         ("shipments", 0, "delivery", "service"),
         "shipment '20-21': delivery.service: expected a number, not the text 'x'"),
        (lambda d: d["jobs"][0].update(amount=d["jobs"][0].pop("delivery") * 2),
         ("jobs", 0, "amount"), "job '10': delivery: 2 capacity dimensions but others have 1"),
        (lambda d: d["jobs"].append(d["jobs"][0]), ("jobs", 1, "id"), "task '10': id repeats"),
        (lambda d: d["shipments"].append(d["shipments"][0]), ("shipments", 1),
         "task '20-21': id repeats"),  # the reader's id, made of the stops' ids
        # a path into what the reader made up ends where the input does
        (_set(("vehicles", 0, "max_distance"), 5), ("matrices", "car", "distances"),
         "matrices 'car': distances: needed for per_km costs or max_distance"),
        (lambda d: d.update(matrix=d.pop("matrices")["car"]["durations"], vehicles=[
            {**d["vehicles"][0], "max_distance": 5}]), ("matrix",),
         "matrices 'car': distances: needed for per_km costs or max_distance"),
    ],
)  # fmt: skip
def test_vroom_errors_carry_the_path_of_the_field_as_posted(change, loc, message) -> None:
    """`loc` names the field as the VROOM input spells it (`time_window`, not the model's
    `shift`), with the input's list positions, whichever check refused it."""
    data = copy.deepcopy(VROOM)
    change(data)
    with pytest.raises(ProblemError) as err:
        vroom_to_problem(data)
    assert (err.value.loc, str(err.value)) == (loc, message)


def test_vroom_coordinates_out_of_range_are_located_at_the_pair() -> None:
    data = {
        "vehicles": [{"id": 1, "start": [120.38, 36.06]}],
        "jobs": [{"id": 1, "location": [120.39, 36.07]}, {"id": 2, "location": [120.4, 91.0]}],
    }
    with pytest.raises(ProblemError) as err:
        vroom_to_problem(data, travel={"source": "straight_line"})
    assert err.value.loc == ("jobs", 1, "location")
    assert str(err.value).startswith("location: lat: Input should be less than or equal to 90")


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (lambda d: d["locations"][1].update(lat=91), ("locations", 1, "lat")),
        (lambda d: d["locations"][1].pop("lon"), ("locations", 1)),
        # no coordinates to time: refused where a job stands, by the job (a spare one is not)
        (lambda d: d["locations"][1].clear(), ("jobs", 0, "location")),
        (lambda d: d["jobs"][0].update(location=5), ("jobs", 0, "location")),
        # refused as posted, before the matrices it would make reach past the model's bounds
        (lambda d: d["travel"].update(circuity=1e10), ("travel", "circuity")),
    ],
)
def test_native_errors_carry_the_path_of_the_field(change, loc) -> None:
    data = copy.deepcopy({**NATIVE, "travel": {"source": "straight_line"}})
    change(data)
    with pytest.raises(ProblemError) as err:
        problem_from_dict(data)
    assert err.value.loc == loc, str(err.value)
