"""Native and VROOM problem files, travel from straight lines or a road graph, format guessing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from routing_helpers import line_model, solved

from routing.io import guess_format, read_problem, read_vroom, write_native
from routing.model import ProblemError
from routing.travel import straight_line_matrices

VROOM = {
    "vehicles": [
        {
            "id": 1,
            "start_index": 0,
            "end_index": 0,
            "capacity": [4],
            "skills": [7],
            "time_window": [0, 10000],
            "costs": {"fixed": 50},
            "breaks": [{"id": 9, "time_windows": [[100, 400]], "service": 60}],
        },
        {"id": 2, "start_index": 0, "capacity": [4]},
    ],
    "jobs": [
        {
            "id": 10,
            "location_index": 1,
            "delivery": [2],
            "service": 30,
            "time_windows": [[0, 500], [800, 900]],
        },
        {"id": 11, "location_index": 2, "amount": [1], "skills": [7], "priority": 10},
        {"id": 12, "location_index": 3, "pickup": [3]},
    ],
    "shipments": [
        {
            "amount": [1],
            "pickup": {"id": 20, "location_index": 3},
            "delivery": {"id": 21, "location_index": 1},
        },
    ],
    "matrices": {
        "car": {
            "durations": [
                [0, 100, 200, 300],
                [100, 0, 100, 200],
                [200, 100, 0, 100],
                [300, 200, 100, 0],
            ]
        }
    },
}


def write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_vroom_problem_reads_with_its_semantics(tmp_path: Path) -> None:
    problem = read_vroom(write(tmp_path, "p.json", VROOM))
    v1, v2 = problem.vehicles
    assert (v1.id, v1.start, v1.end, v1.profile) == ("1", "location 0", "location 0", "car")
    assert v1.fixed_cost == 50 and v1.cost_per_hour == 3600 and v1.skills == {"7"}
    assert v1.breaks[0].duration == 60 and v2.end is None
    assert problem.job("11").delivery == (1,) and problem.job("11").priority == 10
    assert problem.job("12").pickup == (3,)
    assert problem.shipment("20-21").pickup.id == "20"
    solution = solved(problem)
    out = solution.to_vroom(problem)
    ids = {s["id"] for r in out["routes"] for s in r["steps"] if s["type"] != "break" and "id" in s}
    assert ids == {10, 11, 12, 20, 21}
    assert {r["vehicle"] for r in out["routes"]} <= {1, 2}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["jobs"][0].update(setup=5), "job '10': setup: not supported"),
        (lambda d: d["vehicles"][0].update(max_tasks=3), "vehicle '1': max_tasks: not supported"),
        (lambda d: d["vehicles"][0].update(max_tasks=0), "vehicle '1': max_tasks: not supported"),
        (
            lambda d: d["vehicles"][1].update(max_travel_time=0),
            "vehicle '2': max_travel_time: not supported",
        ),
        (lambda d: d["shipments"][0].update(pickup=7), "shipment #0: pickup: an object is"),
        (lambda d: d["vehicles"][0].update(start=[120.3, None]), "vehicle '1': start: expected"),
        (lambda d: d.update(matrix=[[0, 1]]), "matrix: must be a square table of numbers: row 0"),
        (lambda d: d["jobs"][0].update(id="x"), "job #0: id: an integer is required"),
        (lambda d: d["jobs"][1].update(location_index=9), "job '11': location 9 is outside"),
        (
            lambda d: d["jobs"][0].update(time_windows=[[500, 100]]),
            "job '10': time_windows[0]: time window ends",
        ),
        (
            lambda d: d["vehicles"][0]["costs"].update(per_km=1),
            "matrices 'car': distances: needed for per_km",
        ),
    ],
)
def test_bad_vroom_input_is_named(tmp_path: Path, change, expected: str) -> None:
    data = json.loads(json.dumps(VROOM))
    change(data)
    with pytest.raises(ProblemError) as err:
        read_vroom(write(tmp_path, "bad.json", data))
    assert expected in str(err.value)


def test_native_file_round_trips(tmp_path: Path) -> None:
    m = line_model(3)
    m.add_vehicle("v1", start="hub", end="hub", capacity=(5,))
    m.add_job("a", location=1, delivery=(2,), time_windows=[["08:00", "09:00"]])
    problem = m.build()
    path = tmp_path / "native.json"
    write_native(problem, path)
    assert guess_format(path) == "native"
    assert read_problem(path) == problem


def native_without_matrices() -> dict:
    return {
        "locations": [{"lat": 36.066, "lon": 120.383}, {"lat": 36.070, "lon": 120.390}],
        "centres": [{"id": "hub", "location": 0}],
        "vehicles": [{"id": "v1", "start": "hub", "end": "hub"}],
        "jobs": [{"id": "a", "location": 1}],
    }


def test_travel_is_never_guessed_silently(tmp_path: Path) -> None:
    with pytest.raises(ProblemError, match="straight_line"):
        read_problem(write(tmp_path, "p.json", native_without_matrices()))


def test_straight_line_travel_when_asked(tmp_path: Path) -> None:
    data = native_without_matrices()
    data["travel"] = {"source": "straight_line", "speed_kmh": 36, "circuity": 1.0}
    problem = read_problem(write(tmp_path, "p.json", data))
    metres = problem.matrices["van"].distances[0, 1]
    # 0.004 deg north (444.8 m) and 0.007 deg east at 36.07 N (629.2 m): 770.5 m
    assert metres == pytest.approx(770.5, abs=1)
    assert problem.matrices["van"].durations[0, 1] == pytest.approx(metres / 10, abs=0.1)


def test_straight_line_matrices_are_symmetric_with_zero_diagonal() -> None:
    from routing.model import Location

    locs = [Location(lat=36.0, lon=120.0), Location(lat=36.01, lon=120.02)]
    m = straight_line_matrices(locs, speed_kmh=20)
    assert np.allclose(m.distances, m.distances.T) and m.distances[0, 0] == 0


def test_network_travel_from_a_road_graph(tmp_path: Path) -> None:
    from network.graph import build_graph

    graph = build_graph("synthetic:60")
    xs = [d["x"] for _, d in graph.nodes(data=True)]
    ys = [d["y"] for _, d in graph.nodes(data=True)]
    data = native_without_matrices()
    data["locations"] = [{"lat": ys[0], "lon": xs[0]}, {"lat": ys[30], "lon": xs[30]}]
    problem = read_problem(write(tmp_path, "p.json", data), network="synthetic:60")
    assert problem.matrices["van"].durations[0, 1] > 0
    solved(problem)


def test_vroom_without_matrices_times_its_default_car_as_a_van() -> None:
    from network.graph import build_graph
    from routing.io.vroom import vroom_to_problem

    nodes = list(build_graph("synthetic:60").nodes(data=True))
    at = [[d["x"], d["y"]] for _, d in (nodes[0], nodes[len(nodes) // 2])]
    data = {
        "vehicles": [{"id": 1, "start": at[0], "end": at[0]}],  # VROOM's default profile, car
        "jobs": [{"id": 1, "location": at[1]}],
    }
    problem = vroom_to_problem(data, network="synthetic:60")
    assert [v.profile for v in problem.vehicles] == ["van"]
    assert problem.matrices["van"].durations[0, 1] > 0
    solved(problem)


def test_network_travel_from_a_built_graph_folder(tmp_path: Path) -> None:
    from network.graph import build_graph
    from network.store import save_graph_dir

    graph = build_graph("synthetic:60")
    folder = save_graph_dir(graph, tmp_path / "graph")
    nodes = list(graph.nodes(data=True))
    data = native_without_matrices()
    data["locations"] = [
        {"lat": nodes[0][1]["y"], "lon": nodes[0][1]["x"]},
        {"lat": nodes[30][1]["y"], "lon": nodes[30][1]["x"]},
    ]
    by_folder = read_problem(write(tmp_path, "p.json", data), network=str(folder))
    by_source = read_problem(tmp_path / "p.json", network="synthetic:60")
    assert np.allclose(by_folder.matrices["van"].durations, by_source.matrices["van"].durations)


def test_guess_format_of_vroom_and_unknown(tmp_path: Path) -> None:
    assert guess_format(write(tmp_path, "v.json", VROOM)) == "vroom"
    junk = tmp_path / "junk.txt"
    junk.write_text("hello world\n")
    with pytest.raises(ProblemError, match="cannot tell its format"):
        guess_format(junk)


def test_vroom_own_plan_reads_back_and_passes_our_checker(tmp_path: Path) -> None:
    vroom = pytest.importorskip("vroom")
    from routing.check import check
    from routing.io.vroom import solution_from_vroom

    path = write(tmp_path, "p.json", VROOM)
    output = vroom.Input.from_json(path).solve(exploration_level=5, nb_threads=1).to_dict()
    problem = read_vroom(path)
    theirs = solution_from_vroom(problem, output)
    report = check(problem, theirs)
    assert report.ok, [str(v) for v in report.violations]
    assert theirs.summary.cost == pytest.approx(output["summary"]["cost"])


def test_left_out_shipment_is_listed_as_vroom_does(tmp_path: Path) -> None:
    data = json.loads(json.dumps(VROOM))
    data["shipments"][0]["pickup"]["time_windows"] = [[0, 10]]  # 300 s away: impossible
    problem = read_vroom(write(tmp_path, "p.json", data))
    out = solved(problem).to_vroom(problem)
    assert [(u["id"], u["type"]) for u in out["unassigned"]] == [(20, "pickup"), (21, "delivery")]
    assert "time windows close" in out["unassigned"][0]["reason"]


def test_built_graph_folder_of_another_profile_is_refused(tmp_path: Path) -> None:
    from network.graph import build_graph
    from network.store import save_graph_dir

    graph = build_graph("synthetic:60", profile="e-tricycle")
    folder = save_graph_dir(graph, tmp_path / "graph")
    node = next(iter(graph.nodes(data=True)))[1]
    data = native_without_matrices()
    data["locations"] = [{"lat": node["y"], "lon": node["x"]}] * 2
    with pytest.raises(ProblemError, match=r"built for profile 'e-tricycle'.*'van'"):
        read_problem(write(tmp_path, "p.json", data), network=str(folder))
