"""The problem model: valid problems build, bad input names the item and the field."""

from __future__ import annotations

import json

import numpy as np
import pytest
from routing_helpers import line_model

from routing.check import check
from routing.model import Job, Model, Problem, ProblemError, TimeWindow, Vehicle
from routing.solve import solve


def base(**changes: object) -> dict:
    """A valid problem as a dict (the JSON a user would send), with some fields replaced."""
    m = line_model(3)
    m.add_vehicle("v1", start="hub", end="hub", capacity=(10, 50))
    m.add_job("j1", location=1, delivery=(2, 5))
    data = json.loads(m.build().model_dump_json())
    data.update(changes)
    return data


def error_of(data: dict) -> str:
    with pytest.raises(ProblemError) as err:
        Problem.model_validate(data)
    return str(err.value)


def test_model_is_immutable_and_round_trips_through_json() -> None:
    problem = Problem.model_validate(base())
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        problem.name = "other"  # type: ignore[misc]
    assert not problem.matrices["van"].durations.flags.writeable
    again = Problem.model_validate_json(problem.model_dump_json())
    assert again == problem
    assert problem.n_dims == 2 and problem.n_locations == 3


def test_clock_times_and_several_windows_are_sorted() -> None:
    job = Job(id="a", location=0, time_windows=[["14:00", "15:00"], ["08:30", "09:00"]])
    assert [(w.start, w.end) for w in job.time_windows] == [(30600, 32400), (50400, 54000)]


def test_unreachable_pairs_are_infinite_and_null_in_json() -> None:
    data = base()
    data["matrices"]["van"]["durations"][0][2] = None
    problem = Problem.model_validate(data)
    assert np.isinf(problem.matrices["van"].durations[0, 2])
    assert json.loads(problem.model_dump_json())["matrices"]["van"]["durations"][0][2] is None


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"jobs": [{"id": "j1", "location": 1, "service": "abc"}]},
            "job 'j1': service: expected a number, not the text 'abc'",
        ),
        (
            {"jobs": [{"id": "j1", "location": 1, "service": -5}]},
            "job 'j1': service: Input should be greater than or equal to 0",
        ),
        (
            {"jobs": [{"id": "j1", "location": 1, "delivery": [-1, 0]}]},
            "job 'j1': delivery[0]: Input should be greater than or equal to 0",
        ),
        (
            {"jobs": [{"id": "j1", "location": 1, "time_windows": [["09:00", "08:00"]]}]},
            "job 'j1': time_windows[0]: time window ends (08:00) before it starts (09:00)",
        ),
        (
            {"jobs": [{"id": "j1", "location": 1}, {"id": "j1", "location": 2}]},
            "task 'j1': id repeats",
        ),
        (
            {"vehicles": [{"id": "v1", "start": "hub"}, {"id": "v1", "start": "hub"}]},
            "vehicle 'v1': id repeats",
        ),
        (
            {"jobs": [{"id": "j1", "location": 7}]},
            "job 'j1': location 7 is outside the travel matrices (3x3)",
        ),
        (
            {"matrices": {"van": {"durations": [[0, 1], [1, 0]], "distances": [[0, 1], [1, 0]]}}},
            "locations: 3 locations but the travel matrices are 2x2",
        ),
        (
            {"matrices": {"van": {"durations": [[0, 1, 2], [1, 0]], "distances": [[0]]}}},
            "matrices 'van': durations: must be a square table of numbers",
        ),
        ({"vehicles": [{"id": "v1", "start": "nowhere"}]}, "vehicle 'v1': start: no centre"),
        (
            {"vehicles": [{"id": "v1", "profile": "bike"}]},
            "vehicle 'v1': profile: no travel matrices for profile 'bike'",
        ),
        (
            {"jobs": [{"id": "j1", "location": 1, "servise": 3}]},
            "job 'j1': servise: is not a known field",
        ),
        (
            {"vehicles": [{"id": "v1", "breaks": [{"id": "b", "windows": [[50, 10]]}]}]},
            "vehicle 'v1': break 'b': windows[0]: time window ends",
        ),
        # magnitudes past the engines' 64-bit integers crashed an accepted solve
        (
            {"jobs": [{"id": "j1", "location": 1, "service": 1e30}]},
            "job 'j1': service: Input should be less than or equal to 10000000000",
        ),
        (
            {"vehicles": [{"id": "v1", "capacity": [10**30, 50]}]},
            "vehicle 'v1': capacity[0]: Input should be less than or equal to 1000000000000",
        ),
        (
            {"vehicles": [{"id": "v1", "fixed_cost": 1e30}]},
            "vehicle 'v1': fixed_cost: Input should be less than or equal to 1000000000",
        ),
        (
            {
                "matrices": {
                    "van": {
                        "durations": [[0, 1e30, 1], [1, 0, 1], [1, 1, 0]],
                        "distances": [[0] * 3] * 3,
                    }
                }
            },
            "entry [0][1] is 1e+30, above 1e+10 (null means unreachable)",
        ),
        (
            {"jobs": [{"id": "j1", "location": 1, "service": True}]},
            "job 'j1': service: expected a number, not true or false",
        ),
    ],
)
def test_bad_input_names_item_and_field(change: dict, expected: str) -> None:
    assert expected in error_of(base(**change))


@pytest.mark.parametrize(
    ("end", "shift", "expected"),
    [
        ("end", ["08:00", "11:00"], "it could never be back at it"),
        ("start", ["21:00", "23:00"], "it could never leave it"),
    ],
)
def test_a_shift_that_never_meets_its_centres_hours_is_refused(end, shift, expected) -> None:
    """Found by running the README: a shift over before the end centre opened gave a plan that
    broke the shift (OR-Tools) or a raw PyVRP ValueError; now it is bad input, named."""
    data = base(
        centres=[
            {"id": "hub", "location": 0},
            {"id": "late", "location": 2, "opening": ["12:00", "20:00"]},
        ],
        vehicles=[{"id": "v1", end: "late", "shift": shift, "capacity": [10, 50]}],
    )
    assert error_of(data) == (
        f"vehicle 'v1': shift: {shift[0]}-{shift[1]} never meets the opening hours of its {end} "
        f"centre 'late' (12:00-20:00): {expected}"
    )
    data["vehicles"][0]["shift"] = ["08:00", "12:00"]  # touching is enough to start or end
    assert Problem.model_validate(data).vehicles[0].shift.end == 12 * 3600


def test_amounts_must_agree_on_dimensions() -> None:
    message = error_of(base(jobs=[{"id": "j1", "location": 1, "delivery": [1]}]))
    assert "job 'j1': delivery: 1 capacity dimensions but others have 2" in message


@pytest.mark.parametrize("engine", ["auto", "ortools", "pyvrp"])
def test_tasks_no_vehicle_can_take_are_left_out_and_the_rest_is_planned(engine: str) -> None:
    """As VROOM does: too big for every vehicle, a skill none has, or (pooling off) no vehicle
    of its firm. The whole day used to be refused for any one of them."""
    jobs = [
        {"id": "ok", "location": 1, "delivery": [2, 5]},
        {"id": "big", "location": 2, "delivery": [2, 60]},
        {"id": "crane", "location": 2, "skills": ["crane"]},
        {"id": "sf", "location": 1, "firm": "sf", "penalty": 1e4},
    ]
    vehicle = {"id": "v1", "start": "hub", "end": "hub", "capacity": [10, 50], "firm": "jd"}
    problem = Problem.model_validate(base(jobs=jobs, vehicles=[vehicle], pooled=False))
    solution = solve(problem, engine=engine, time_limit_s=1, race=False)
    reasons = {u.id: u.reason for u in solution.unassigned}
    assert reasons == {
        "big": "no vehicle can serve it even alone: too large for its capacity",
        "crane": "no vehicle has the required skills and firm",
        "sf": "no vehicle has the required skills and firm",
    }
    assert [s.id for r in solution.routes for s in r.steps if s.type == "job"] == ["ok"]
    assert solution.summary.unassigned == 3 and solution.summary.penalty == 1e4
    assert "3 task(s) no vehicle can take left out first" in solution.engine_reason
    assert check(problem, solution).ok
    pooled = Problem.model_validate(base(jobs=jobs[3:], vehicles=[vehicle]))
    assert solve(pooled, engine=engine, time_limit_s=1, race=False).unassigned == ()


def test_a_day_with_no_task_any_vehicle_can_take_has_an_empty_plan() -> None:
    problem = Problem.model_validate(base(jobs=[{"id": "big", "location": 2, "delivery": [11, 0]}]))
    solution = solve(problem, time_limit_s=1)
    assert (solution.routes, solution.engine) == ((), "none")
    assert [u.id for u in solution.unassigned] == ["big"] and check(problem, solution).ok


def test_direct_construction_raises_problem_error_naming_the_item() -> None:
    with pytest.raises(ProblemError, match="time window ends"):
        TimeWindow(start=10, end=5)
    with pytest.raises(ProblemError, match="vehicle 'v': max_duration"):
        Vehicle(id="v", max_duration=-1)
    with pytest.raises(ProblemError, match=r"vehicle 'v': break 'b': duration"):
        Vehicle(id="v", breaks=[{"id": "b", "duration": -1}])
    m = Model()
    with pytest.raises(ProblemError, match=r"^job 'j7': delivery\[0\]: Input should be greater"):
        m.add_job("j7", location=1, delivery=(-3,))


J1 = {"id": "j1", "location": 1}


@pytest.mark.parametrize(
    ("change", "loc", "message"),
    [
        (  # a field pydantic checks, deep in an item
            {"jobs": [J1, {**J1, "id": "j2", "time_windows": [[0, 60], ["12:00", "11:00"]]}]},
            ("jobs", 1, "time_windows", 1),
            "job 'j2': time_windows[1]: time window ends (11:00) before it starts (12:00)",
        ),
        (  # a window posted as [start, end] is checked as {start, end}: the path ends at it
            {"jobs": [{**J1, "time_windows": [[0, "soon"]]}]},
            ("jobs", 0, "time_windows", 0),
            "job 'j1': time_windows[0].end: expected a number of seconds or a clock time like "
            "08:30, not the text 'soon'",
        ),
        (
            {"vehicles": [{"id": "v1", "breaks": [{"id": "b", "duration": -5}]}]},
            ("vehicles", 0, "breaks", 0, "duration"),
            "vehicle 'v1': break 'b': duration: Input should be greater than or equal to 0 "
            "(got -5)",
        ),
        ({"jobs": [{"id": "j1"}]}, ("jobs", 0, "location"), "job 'j1': location: is required"),
        ({"pooled": True, "colour": "red"}, ("colour",), "problem: colour: is not a known field"),
        # cross-field checks, which pydantic locates at the problem (or the vehicle) only
        (
            {"jobs": [{**J1, "location": 7}]},
            ("jobs", 0, "location"),
            "job 'j1': location 7 is outside the travel matrices (3x3)",
        ),
        (
            {"jobs": [{**J1, "delivery": [1]}]},
            ("jobs", 0, "delivery"),
            "job 'j1': delivery: 1 capacity dimensions but others have 2",
        ),
        ({"jobs": [J1, J1]}, ("jobs", 1, "id"), "task 'j1': id repeats"),
        (
            {"vehicles": [{"id": "v1", "breaks": [{"id": "b"}, {"id": "b"}]}]},
            ("vehicles", 0, "breaks", 0, "id"),
            "vehicle 'v1': breaks: break id 'b' repeats",
        ),
        (
            {"vehicles": [{"id": "v1", "profile": "bike"}]},
            ("vehicles", 0, "profile"),
            "vehicle 'v1': profile: no travel matrices for profile 'bike' (have ['van'])",
        ),
        (
            {
                "centres": [{"id": "hub", "location": 0, "opening": ["08:00", "09:00"]}],
                "vehicles": [{"id": "v1", "start": "hub", "shift": ["10:00", "11:00"]}],
            },
            ("vehicles", 0, "shift"),
            "vehicle 'v1': shift: 10:00-11:00 never meets the opening hours of its start centre "
            "'hub' (08:00-09:00): it could never leave it",
        ),
        (
            {"locations": [{}]},
            ("locations",),
            "locations: 1 locations but the travel matrices are 3x3",
        ),
    ],
)
def test_an_error_carries_the_path_of_its_field(change: dict, loc: tuple, message: str) -> None:
    """The message names the item by id; `loc` is the path in the data as given (list
    positions, not ids), which the API's 422 points at."""
    with pytest.raises(ProblemError) as err:
        Problem.model_validate(base(**change))
    assert (err.value.loc, str(err.value)) == (loc, message)


def test_an_error_without_a_path_in_the_data_has_none() -> None:
    with pytest.raises(ProblemError) as err:
        Problem.model_validate_json("{")
    assert err.value.loc == ()
    with pytest.raises(ProblemError) as err:  # an item built alone: its path starts within it
        Job(id="a", location=0, time_windows=[[9, 1]])
    assert err.value.loc == ("time_windows", 0)
