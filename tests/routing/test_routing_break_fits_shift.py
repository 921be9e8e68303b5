"""A break that can never be taken within its vehicle's shift is refused, naming the vehicle and
the break (the firm audit's finding 6: a 40,000 s break, or one at 20:00-21:00 for a shift of
08:30-18:00, was accepted; the vehicle then had no route, and its tasks were left unassigned
"for want of room", which never pointed at the break)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from routing.io.native import problem_from_dict
from routing.io.vroom import vroom_to_problem
from routing.model import ProblemError

#: van1: shift 08:00-18:00, break 'lunch' of 1,800 s in 12:00-13:30.
NATIVE = json.loads(
    (Path(__file__).parents[2] / "routing" / "examples" / "problem.json").read_text()
)


def _with_break(windows: list, duration: float) -> dict:
    data = copy.deepcopy(NATIVE)
    data["vehicles"][0]["breaks"] = [{"id": "lunch", "windows": windows, "duration": duration}]
    return data


@pytest.mark.parametrize(
    ("windows", "duration", "field", "said"),
    [
        ([["20:00", "21:00"]], 1800, "windows",
         "windows: 20:00-21:00 never start a 1800 s break within the shift 08:00-18:00"),
        ([["06:00", "07:30"]], 1800, "windows",
         "windows: 06:00-07:30 never start a 1800 s break within the shift 08:00-18:00"),
        # it may start at 17:50 at the earliest, and then ends past the shift
        ([["17:50", "19:00"]], 1800, "windows",
         "windows: 17:50-19:00 never start a 1800 s break within the shift 08:00-18:00"),
        ([], 40000, "duration",
         "duration: 40000 s is longer than the shift 08:00-18:00 (36000 s)"),
        ([["12:00", "13:00"]], 40000, "duration",
         "duration: 40000 s is longer than the shift 08:00-18:00 (36000 s)"),
    ],
)  # fmt: skip
def test_a_break_that_never_fits_the_shift_is_refused(windows, duration, field, said) -> None:
    with pytest.raises(ProblemError) as err:
        problem_from_dict(_with_break(windows, duration))
    assert str(err.value) == (
        f"vehicle 'van1': break 'lunch': {said}: the vehicle could never be used"
    )
    assert err.value.loc == ("vehicles", 0, "breaks", 0, field)


@pytest.mark.parametrize(
    ("windows", "duration"),
    [
        ([["17:30", "19:00"]], 1800),  # starts at 17:30, ends as the shift does
        ([["06:00", "08:00"]], 1800),  # starts as the shift does
        ([["20:00", "21:00"], ["12:00", "13:00"]], 1800),  # one window fits
        ([], 36000),  # the whole shift
    ],
)
def test_a_break_that_can_fit_the_shift_is_taken(windows, duration) -> None:
    problem = problem_from_dict(_with_break(windows, duration))
    assert problem.vehicles[0].breaks[0].duration == duration


def test_a_break_longer_than_the_vehicles_max_duration_is_refused() -> None:
    """A route's span counts its breaks (the checker's max duration), so the vehicle could never
    be used either."""
    data = _with_break([["12:00", "13:00"]], 7200)
    data["vehicles"][0]["max_duration"] = 3600
    with pytest.raises(ProblemError) as err:
        problem_from_dict(data)
    assert str(err.value) == (
        "vehicle 'van1': break 'lunch': duration: 7200 s is longer than its max_duration "
        "(3600 s), which a route's breaks count in: the vehicle could never be used"
    )
    assert err.value.loc == ("vehicles", 0, "breaks", 0, "duration")
    data["vehicles"][0]["max_duration"] = 7200
    assert problem_from_dict(data).vehicles[0].max_duration == 7200


def test_a_break_of_a_vehicle_without_shift_or_centre_hours_is_not_bounded() -> None:
    data = _with_break([["20:00", "21:00"]], 40000)
    del data["vehicles"][0]["shift"], data["centres"][0]["opening"]
    assert problem_from_dict(data).vehicles[0].shift is None


def test_a_break_must_also_fit_its_centres_opening_hours() -> None:
    """The route runs while its shift and its centres' hours allow, as the engines plan it:
    back at a hub that closes at 16:00, the van cannot break at 16:30."""
    data = _with_break([["16:30", "17:00"]], 1800)
    data["centres"][0]["opening"] = ["07:00", "16:00"]
    with pytest.raises(ProblemError) as err:
        problem_from_dict(data)
    assert str(err.value) == (
        "vehicle 'van1': break 'lunch': windows: 16:30-17:00 never start a 1800 s break within "
        "the hours its route may run, 08:00-16:00 (its shift and its centres' opening hours): "
        "the vehicle could never be used"
    )
    del data["vehicles"][0]["shift"]
    with pytest.raises(ProblemError, match="within the hours its route may run, 07:00-16:00"):
        problem_from_dict(data)


def test_a_vroom_break_outside_the_shift_is_refused_at_its_time_windows() -> None:
    data = {
        "vehicles": [
            {"id": 7, "start_index": 0, "end_index": 0, "time_window": ["08:30", "18:00"],
             "breaks": [{"id": 3, "time_windows": [["20:00", "21:00"]], "service": 3600}]},
        ],
        "jobs": [{"id": 1, "location_index": 1}],
        "matrices": {"car": {"durations": [[0, 5], [5, 0]]}},
    }  # fmt: skip
    with pytest.raises(ProblemError) as err:
        vroom_to_problem(data)
    assert str(err.value).startswith("vehicle '7': break '3': windows: 20:00-21:00 never start")
    assert err.value.loc == ("vehicles", 0, "breaks", 0, "time_windows")
    data["vehicles"][0]["breaks"][0] = {"id": 3, "service": 40000}
    with pytest.raises(ProblemError) as err:
        vroom_to_problem(data)
    assert err.value.loc == ("vehicles", 0, "breaks", 0, "service")


def _with_breaks(*durations: float) -> dict:
    data = copy.deepcopy(NATIVE)
    data["vehicles"][0]["breaks"] = [
        {"id": f"b{k}", "duration": duration} for k, duration in enumerate(durations)
    ]
    return data


def test_breaks_that_together_never_fit_the_shift_are_refused() -> None:
    """Each fits the 36,000 s shift alone, but a used route takes them all: the vehicle idled
    and its tasks went unassigned "for want of room", as with one break too long."""
    with pytest.raises(ProblemError) as err:
        problem_from_dict(_with_breaks(20000, 10000, 7000))
    assert str(err.value) == (
        "vehicle 'van1': breaks: 'b0', 'b1', 'b2' last 37000 s together, longer than "
        "the shift 08:00-18:00 (36000 s): the vehicle could never be used"
    )
    assert err.value.loc == ("vehicles", 0, "breaks")
    assert len(problem_from_dict(_with_breaks(20000, 16000)).vehicles[0].breaks) == 2


def test_breaks_that_together_exceed_the_max_duration_are_refused() -> None:
    data = _with_breaks(2000, 2000)
    data["vehicles"][0]["max_duration"] = 3600
    with pytest.raises(ProblemError) as err:
        problem_from_dict(data)
    assert str(err.value) == (
        "vehicle 'van1': breaks: 'b0', 'b1' last 4000 s together, longer than its "
        "max_duration (3600 s), which a route's breaks count in: the vehicle could never be used"
    )
    assert err.value.loc == ("vehicles", 0, "breaks")
    data["vehicles"][0]["max_duration"] = 4000
    assert problem_from_dict(data).vehicles[0].max_duration == 4000


def test_vroom_breaks_that_together_never_fit_the_shift_are_refused() -> None:
    data = {
        "vehicles": [
            {"id": 7, "start_index": 0, "end_index": 0, "time_window": ["08:30", "18:00"],
             "breaks": [{"id": 3, "service": 20000}, {"id": 4, "service": 15000}]},
        ],
        "jobs": [{"id": 1, "location_index": 1}],
        "matrices": {"car": {"durations": [[0, 5], [5, 0]]}},
    }  # fmt: skip
    with pytest.raises(ProblemError) as err:
        vroom_to_problem(data)
    assert str(err.value) == (
        "vehicle '7': breaks: '3', '4' last 35000 s together, longer than the shift "
        "08:30-18:00 (34200 s): the vehicle could never be used"
    )
    assert err.value.loc == ("vehicles", 0, "breaks")
