"""`gongpei solve` on each input format: a checked plan, or exit code 2 with a named error."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_routing_formats import VROOM

SOLOMON = """TINY

VEHICLE
NUMBER     CAPACITY
  2         10

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME
    0      0          0          0          0       1000          0
    1      10         0          4          0        100         10
    2      0          10         4          0        100         10
    3      10         10         4         50        200         10
"""


class Done:
    """What a `gongpei solve` run left: exit code and stderr."""

    def __init__(self, returncode: int, stderr: str) -> None:
        self.returncode, self.stderr = returncode, stderr


def gongpei(*args: str) -> Done:
    """Run `gongpei solve` in this process (start-up is the slow part of a subprocess)."""
    from typer.testing import CliRunner

    from api.cli.main import app

    result = CliRunner().invoke(app, ["solve", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Done(result.exit_code, result.stderr)


def test_solve_vroom_file_with_checker_verdict(tmp_path: Path) -> None:
    problem = tmp_path / "problem.json"
    problem.write_text(json.dumps(VROOM))
    out, geo = tmp_path / "solution.json", tmp_path / "routes.geojson"
    done = gongpei(str(problem), "-o", str(out), "--time-limit", "0.5", "--geojson", str(geo))
    assert done.returncode == 0, done.stderr
    assert "checker: OK" in done.stderr
    solution = json.loads(out.read_text())
    assert solution["summary"]["checker"]["ok"] is True
    assert solution["summary"]["engine"] == "ortools"  # breaks and skills: PyVRP does not fit
    assert json.loads(geo.read_text())["type"] == "FeatureCollection"


def test_solve_solomon_file_keeps_customer_numbers(tmp_path: Path) -> None:
    problem = tmp_path / "tiny.txt"
    problem.write_text(SOLOMON)
    out = tmp_path / "solution.json"
    done = gongpei(
        str(problem),
        "-o",
        str(out),
        "--format",
        "solomon",
        "--time-limit",
        "0.5",
        "--engine",
        "ortools",
    )
    assert done.returncode == 0, done.stderr
    steps = [s for r in json.loads(out.read_text())["routes"] for s in r["steps"]]
    assert sorted(s["id"] for s in steps if s["type"] == "job") == [1, 2, 3]


def test_invalid_input_exits_2_naming_item_and_field(tmp_path: Path) -> None:
    data = json.loads(json.dumps(VROOM))
    data["jobs"][0]["service"] = -30
    problem = tmp_path / "bad.json"
    problem.write_text(json.dumps(data))
    done = subprocess.run(  # the real command: its entry point turns errors into exit code 2
        [
            sys.executable,
            "-m",
            "api.cli.main",
            "solve",
            str(problem),
            "-o",
            str(tmp_path / "s.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "job '10': service: Input should be greater than or equal to 0" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.parametrize("name", ["cvrp/X-n101-k25.vrp", "solomon/C101.txt", "pdptw/lc101.txt"])
def test_solve_benchmark_files(shared_dir: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / "solution.json"
    done = gongpei(
        str(shared_dir / "bench" / "vrp" / name),
        "-o",
        str(out),
        "--time-limit",
        "1",
        "--engine",
        "ortools",
    )
    assert done.returncode == 0, done.stderr
    solution = json.loads(out.read_text())
    assert solution["summary"]["checker"]["ok"] and solution["summary"]["unassigned"] == 0


def test_engine_that_does_not_fit_is_refused_by_name(tmp_path: Path) -> None:
    from routing.engines import EngineError

    problem = tmp_path / "problem.json"
    problem.write_text(json.dumps(VROOM))
    with pytest.raises(EngineError, match=r"engine: pyvrp cannot solve this problem: .*breaks"):
        gongpei(str(problem), "-o", str(tmp_path / "s.json"), "--engine", "pyvrp")


def _road_problem(graph) -> dict:
    """A native day without matrices whose stops are three nodes of ``graph``, far apart."""
    nodes = list(graph.nodes(data=True))
    picks = [nodes[0], nodes[len(nodes) // 3], nodes[2 * len(nodes) // 3]]
    return {
        "locations": [{"lat": d["y"], "lon": d["x"]} for _, d in picks],
        "centres": [{"id": "hub", "location": 0}],
        "vehicles": [{"id": "v1", "start": "hub", "end": "hub"}],
        "jobs": [{"id": "a", "location": 1}, {"id": "b", "location": 2}],
    }


def _as_vroom(native: dict) -> dict:
    """The same day as VROOM JSON: integer ids, [lon, lat] places, no matrices."""
    place = [[x["lon"], x["lat"]] for x in native["locations"]]
    return {
        "vehicles": [{"id": 1, "start": place[0], "end": place[0]}],
        "jobs": [{"id": k, "location": place[j["location"]]} for k, j in enumerate(native["jobs"])],
    }


@pytest.mark.parametrize("how", ["--network", "travel", "vroom travel"])
def test_routes_timed_on_roads_are_drawn_along_them(tmp_path: Path, monkeypatch, how) -> None:
    """Like the API's batch solutions: a problem timed on a road network (--network, or the
    file's own `"travel": {"source": "network"}`, native or VROOM) gets GeoJSON legs along
    those roads."""
    from network.graph import build_graph

    monkeypatch.setenv("GONGPEI_DATA_DIR", str(tmp_path / "data"))
    graph = build_graph("synthetic:60")
    data = _road_problem(graph)
    options = ["--network", "synthetic:60"]
    if how != "--network":
        data = _as_vroom(data) if how == "vroom travel" else data
        data["travel"], options = {"source": "network", "osm": "synthetic:60"}, []
    problem, geo = tmp_path / "day.json", tmp_path / "routes.geojson"
    problem.write_text(json.dumps(data))
    done = gongpei(
        str(problem),
        "-o",
        str(tmp_path / "s.json"),
        "--geojson",
        str(geo),
        "--time-limit",
        "0.5",
        "--engine",
        "ortools",
        *options,
    )
    assert done.returncode == 0, done.stderr
    features = json.loads(geo.read_text())["features"]
    (route,) = [f for f in features if f["geometry"]["type"] == "LineString"]
    coords = route["geometry"]["coordinates"]
    road = {(round(d["x"], 6), round(d["y"], 6)) for _, d in graph.nodes(data=True)}
    assert len(coords) > 8 and all(tuple(c) in road for c in coords)  # not 4 straight legs


def test_routes_given_matrices_stay_straight(tmp_path: Path) -> None:
    problem, geo = tmp_path / "problem.json", tmp_path / "routes.geojson"
    problem.write_text(json.dumps(VROOM))
    done = gongpei(
        str(problem), "-o", str(tmp_path / "s.json"), "--geojson", str(geo), "--time-limit", "0.5"
    )
    assert done.returncode == 0, done.stderr
    features = json.loads(geo.read_text())["features"]
    for line in (f for f in features if f["geometry"]["type"] == "LineString"):
        vehicle = line["properties"]["vehicle"]
        stops = [f for f in features if f["properties"]["vehicle"] == vehicle]
        assert len(line["geometry"]["coordinates"]) == len(stops) - 1  # stop to stop


def test_vroom_file_without_matrices_takes_the_advice_it_is_given(tmp_path: Path) -> None:
    """The error for a VROOM file without matrices advises `"travel": {"source":
    "straight_line"}`; a VROOM file that follows it is timed so."""
    from routing.model import ProblemError

    places = [[120.383, 36.066], [120.39, 36.07], [120.37, 36.06]]
    data = {
        "vehicles": [{"id": 1, "start": places[0], "end": places[0]}],
        "jobs": [{"id": 1, "location": places[1]}, {"id": 2, "location": places[2]}],
    }
    problem, out = tmp_path / "day.json", tmp_path / "s.json"
    problem.write_text(json.dumps(data))
    advice = 'explicitly with "travel": {"source": "straight_line"}'
    with pytest.raises(ProblemError, match=re.escape(advice)):
        gongpei(str(problem), "-o", str(out))
    problem.write_text(json.dumps({**data, "travel": {"source": "straight_line"}}))
    done = gongpei(str(problem), "-o", str(out), "--time-limit", "0.5", "--engine", "ortools")
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["summary"]["checker"]["ok"] is True


def test_network_on_a_benchmark_file_is_refused(tmp_path: Path) -> None:
    """A Solomon file carries its own Euclidean distances: --network would be ignored."""
    from routing.model import ProblemError

    problem = tmp_path / "tiny.txt"
    problem.write_text(SOLOMON)
    with pytest.raises(ProblemError, match=r"^--network: a solomon file carries its own distance"):
        gongpei(str(problem), "-o", str(tmp_path / "s.json"), "--network", "demo")
    assert not (tmp_path / "s.json").exists()
