"""A problem's numbers are JSON numbers, as its true/false already had to be (the firm audit's
finding 2: `"service": "60"`, `"delivery": ["2", 3]`, `"lat": "60.17"` or a matrix entry `"5"`
were read as numbers, while `true` was refused); times still take clock text. And two of its
messages say what is wrong in the caller's terms (finding 12): a [lat, lon] pair where VROOM
reads [lon, lat], and a matrix row of the wrong length."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from dict_edits import changed

from routing.io.native import problem_from_dict
from routing.io.vroom import vroom_to_problem
from routing.model import Problem, ProblemError

NATIVE = json.loads(
    (Path(__file__).parents[2] / "routing" / "examples" / "problem.json").read_text()
)


def _vroom() -> dict:
    """A small VROOM day with its own matrices (no map needed) and clock-time windows."""
    return {
        "vehicles": [
            {"id": 1, "start_index": 0, "end_index": 0, "capacity": [10, 50],
             "time_window": ["08:00", "18:00"], "costs": {"fixed": 80, "per_km": 1},
             "breaks": [{"id": 1, "time_windows": [["12:00", "13:00"]], "service": 1800}]},
        ],
        "jobs": [
            {"id": 1, "location_index": 1, "delivery": [2, 3], "service": 60,
             "time_windows": [["09:00", "10:00"]]},
            {"id": 2, "location_index": 2, "pickup": [1, 1]},
        ],
        "matrices": {
            "car": {"durations": [[0, 5, 9], [5, 0, 4], [9, 4, 0]],
                    "distances": [[0, 50, 90], [50, 0, 40], [90, 40, 0]]},
        },
    }  # fmt: skip


def _refused(read, data: dict) -> ProblemError:
    with pytest.raises(ProblemError) as err:
        read(data)
    return err.value


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("jobs", 3, "delivery", 0), "2"),
        (("jobs", 0, "service"), "60"),
        (("locations", 5, "lat"), "60.17"),
        (("vehicles", 0, "capacity", 1), "500"),
        (("vehicles", 0, "fixed_cost"), "80"),
        (("vehicles", 0, "cost_per_km"), "1.2"),
        (("vehicles", 0, "breaks", 0, "duration"), "1800"),
        (("vehicles", 1, "max_duration"), "36000"),
        (("jobs", 4, "pickup", 1), "3"),
    ],
)
def test_a_native_problem_refuses_a_number_written_as_text(path: tuple, value: str) -> None:
    err = _refused(problem_from_dict, changed(NATIVE, path, value))
    assert f"expected a number, not the text '{value}'" in str(err)
    assert err.loc == path


def test_a_time_written_as_text_must_be_a_clock_time() -> None:
    """"08:00" is a time; "36000" was read as 36,000 s, and is now refused with both forms."""
    err = _refused(problem_from_dict, changed(NATIVE, ("jobs", 0, "time_windows", 0, 0), "36000"))
    assert str(err) == (
        "job 'p1': time_windows[0].start: expected a number of seconds or a clock time like "
        "08:30, not the text '36000'"
    )
    assert err.loc == ("jobs", 0, "time_windows", 0)
    shift = changed(NATIVE, ("vehicles", 0, "shift"), ["08:00", 64800])
    assert problem_from_dict(shift).vehicles[0].shift.start == 8 * 3600


def test_clock_times_and_numbers_are_read_as_before() -> None:
    problem = problem_from_dict(copy.deepcopy(NATIVE))
    assert problem.jobs[0].time_windows[0].start == 9 * 3600
    assert problem.jobs[0].delivery == (3, 12) and problem.jobs[0].service == 120
    assert vroom_to_problem(_vroom()).vehicles[0].shift.end == 18 * 3600


@pytest.mark.parametrize(
    ("path", "value", "loc"),
    [
        (("jobs", 0, "delivery", 0), "2", None),
        (("jobs", 0, "service"), "60", None),
        (("vehicles", 0, "capacity", 0), "10", None),
        (("vehicles", 0, "costs", "fixed"), "80", None),
        (("vehicles", 0, "breaks", 0, "service"), "1800", None),
        (("matrices", "car", "durations", 0, 1), "5", ("matrices", "car", "durations")),
        (("matrices", "car", "distances", 2, 1), True, ("matrices", "car", "distances")),
    ],
)
def test_a_vroom_problem_refuses_a_number_written_as_text(path, value, loc) -> None:
    err = _refused(vroom_to_problem, changed(_vroom(), path, value))
    said = "not true or false" if value is True else f"not the text '{value}'"
    assert f"expected a number, {said}" in str(err)
    assert err.loc == (loc or path)


def test_a_matrix_entry_is_named_by_its_row_and_column() -> None:
    data = changed(_vroom(), ("matrices", "car", "durations", 2, 1), "4")
    err = _refused(vroom_to_problem, data)
    assert str(err) == (
        "matrices 'car': durations: entry [2][1]: expected a number, not the text '4'"
    )


def test_a_native_matrix_refuses_text_and_true_false() -> None:
    data = json.loads(problem_from_dict(copy.deepcopy(NATIVE)).model_dump_json())
    data["matrices"]["van"]["durations"][1][4] = "5"
    assert "durations: entry [1][4]: expected a number, not the text '5'" in str(
        _refused(Problem.model_validate, data)
    )
    data["matrices"]["van"]["durations"][1][4] = False
    assert "durations: entry [1][4]: expected a number, not true or false" in str(
        _refused(Problem.model_validate, data)
    )


def test_a_ragged_matrix_row_is_named_with_its_length() -> None:
    """NumPy's "setting an array element with a sequence. The requested array has an
    inhomogeneous shape after 1 dimensions..." told the caller nothing it could act on."""
    data = _vroom()
    data["matrices"]["car"]["durations"][1] = [5, 0]
    err = _refused(vroom_to_problem, data)
    assert str(err) == (
        "matrices 'car': durations: must be a square table of numbers: row 1 has 2 entries, "
        "3 expected (one per row)"
    )
    assert err.loc == ("matrices", "car", "durations")


def test_swapped_vroom_coordinates_are_said_to_look_swapped() -> None:
    """A [lat, lon] pair (Nanjing's 32.05, 118.78) where VROOM reads [lon, lat] was only "lat:
    Input should be less than or equal to 90 (got 118.781)"."""
    data = _vroom()
    data["jobs"][0]["location"] = [32.0502, 118.781]
    err = _refused(vroom_to_problem, data)
    assert "lat: 118.781 is beyond 90 while lon 32.0502 would be a latitude: are they swapped?" in (
        str(err)
    )
    assert "[lon, lat]" in str(err) and err.loc == ("jobs", 0, "location")


def test_a_native_location_with_lat_and_lon_swapped_is_said_to_look_swapped() -> None:
    data = changed(NATIVE, ("locations", 2), {"lat": 118.781, "lon": 32.0502})
    err = _refused(problem_from_dict, data)
    assert "lat: 118.781 is beyond 90 while lon 32.0502 would be a latitude" in str(err)
    assert err.loc == ("locations", 2, "lat")


def test_a_latitude_beyond_90_that_no_swap_would_mend_keeps_its_message() -> None:
    data = changed(NATIVE, ("locations", 2), {"lat": 118.781, "lon": 120.4})
    err = _refused(problem_from_dict, data)
    assert "swapped" not in str(err) and "less than or equal to 90" in str(err)
