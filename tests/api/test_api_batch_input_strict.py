"""A batch's numbers are JSON numbers, its breaks fit its shifts, and a spare location off the
map does not fail it (the firm audit's findings 2, 6 and 3, as a firm posts its day)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from dict_edits import changed

from api.jobs.runner import solve_batch

EXAMPLES = Path(__file__).parents[2] / "routing" / "examples"
NATIVE = json.loads((EXAMPLES / "problem.json").read_text())  # straight-line travel
VROOM = {
    "vehicles": [{"id": 1, "start_index": 0, "end_index": 0, "capacity": [4],
                  "time_window": [28800, 64800]}],
    "jobs": [{"id": k, "location_index": k, "delivery": [1], "service": 60} for k in (1, 2)],
    "matrices": {"car": {"durations": [[0, 5, 9], [5, 0, 4], [9, 4, 0]]}},
}  # fmt: skip


def _post(client, headers, fmt: str, problem: dict):
    body = {"format": fmt, "problem": problem, "time_limit_s": 1}
    return client.post("/v1/batches", json=body, headers=headers)


@pytest.mark.parametrize(
    ("fmt", "problem", "path", "value", "said"),
    [
        ("native", NATIVE, ("jobs", 3, "delivery", 0), "2", "not the text '2'"),
        ("native", NATIVE, ("locations", 5, "lat"), "60.17", "not the text '60.17'"),
        ("native", NATIVE, ("jobs", 0, "service"), "60", "not the text '60'"),
        ("vroom", VROOM, ("jobs", 1, "service"), "60", "not the text '60'"),
        ("vroom", VROOM, ("vehicles", 0, "capacity", 0), "4", "not the text '4'"),
        ("vroom", VROOM, ("matrices", "car", "durations", 1, 2), "4",
         "entry [1][2]: expected a number, not the text '4'"),
    ],
)  # fmt: skip
def test_a_batch_refuses_a_number_written_as_text(client, auth, fmt, problem, path, value, said):
    r = _post(client, auth["a"], fmt, changed(problem, path, value))
    assert r.status_code == 422, r.text
    (error,) = r.json()["detail"]
    at = path if path[0] != "matrices" else path[:3]
    assert error["loc"] == ["body", "problem", *at]
    assert said in error["msg"]


def test_a_batch_with_clock_times_is_taken(client, auth):
    assert _post(client, auth["a"], "native", NATIVE).status_code == 202


@pytest.mark.parametrize(
    ("fmt", "problem", "path", "value", "at"),
    [
        ("native", NATIVE, ("vehicles", 0, "breaks", 0, "windows"), [["20:00", "21:00"]],
         ("vehicles", 0, "breaks", 0, "windows")),
        ("native", NATIVE, ("vehicles", 0, "breaks", 0, "duration"), 40000,
         ("vehicles", 0, "breaks", 0, "duration")),
        ("vroom", VROOM, ("vehicles", 0, "breaks"),
         [{"id": 1, "time_windows": [[72000, 75600]], "service": 1800}],
         ("vehicles", 0, "breaks", 0, "time_windows")),
    ],
)  # fmt: skip
def test_a_batch_whose_break_never_fits_its_shift_is_refused(client, auth, fmt, problem, path,
                                                            value, at):
    r = _post(client, auth["a"], fmt, changed(problem, path, value))
    assert r.status_code == 422, r.text
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "problem", *at]
    assert "the vehicle could never be used" in error["msg"]


def test_a_batch_with_a_spare_location_off_the_map_is_solved(monkeypatch, tmp_path):
    """As the worker runs it on the server's map: the spare location (Shanghai, for a day in
    Helsinki) failed the job, "point 'location 7': ... from the nearest usable road"."""
    monkeypatch.setenv("GONGPEI_DATA_DIR", str(tmp_path))
    problem = copy.deepcopy(NATIVE)
    del problem["travel"], problem["vehicles"][0]["breaks"]
    problem["locations"].append({"lat": 31.23, "lon": 121.47, "name": "spare"})
    payload = {"format": "native", "problem": problem, "network": "demo", "engine": "ortools",
               "time_limit_s": 1}  # fmt: skip
    solution, geojson = solve_batch(payload, lambda _share: None)
    assert solution["summary"]["unassigned"] == 0
    assert solution["summary"]["checker"] == {"ok": True, "violations": []}
    assert len([f for f in geojson["features"] if f["geometry"]["type"] == "Point"]) >= 6
