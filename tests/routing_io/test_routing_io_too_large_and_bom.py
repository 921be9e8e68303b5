"""A problem file's integer too large for a float (400 digits: JSON sets no limit, Python reads
it exactly) is said to be too large, by its field, where it was "not a valid number" shown cut
to 40 digits, or in a matrix an OverflowError traceback; and a file starting with a UTF-8 byte
order mark is recognised as the JSON it is without `--format`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routing.io import guess_format, read_problem
from routing.model import ProblemError

BIG = "1" + "0" * 400
GOT = "got 1000000000000000... (401 digits)"
TOO_LARGE = f"is too large for a number (at most about 1.8e308), {GOT}"
NATIVE = {
    "locations": [{"lat": 36.066, "lon": 120.383}, {"lat": 36.07, "lon": 120.39}],
    "centres": [{"id": "hub", "location": 0}],
    "vehicles": [{"id": "v1", "start": "hub", "end": "hub", "capacity": [9]}],
    "jobs": [{"id": "a", "location": 1, "service": 60, "delivery": [1]}],
    "matrices": {"van": {"durations": [[0, 5], [5, 0]], "distances": [[0, 7], [7, 0]]}},
}
VROOM = {
    "vehicles": [{"id": 1, "start_index": 0, "capacity": [9]}],
    "jobs": [{"id": 10, "location_index": 1, "service": 60}],
    "matrices": {"car": {"durations": [[0, 5], [5, 0]]}},
}


def _written(tmp_path: Path, data: dict, old: str, new: str, *, bom: bool = False) -> Path:
    """``data`` as JSON with the text ``old`` replaced by ``new`` (a number json.dumps would
    not write), optionally after a UTF-8 byte order mark."""
    text = json.dumps(data)
    assert old in text
    path = tmp_path / "p.json"
    path.write_bytes(b"\xef\xbb\xbf" * bom + text.replace(old, new).encode())
    return path


@pytest.mark.parametrize(
    ("old", "new", "message", "loc"),
    [
        ('"service": 60', f'"service": {BIG}', f"job 'a': service: {TOO_LARGE}",
         ("jobs", 0, "service")),
        ('"lat": 36.07', f'"lat": -{BIG}', "location #1: lat: is too large for a number (at most "
         "about 1.8e308), got -100000000000000... (401 digits)", ("locations", 1, "lat")),
        ('"capacity": [9]', f'"capacity": [{BIG}]', "vehicle 'v1': capacity[0]: Input should "
         f"be less than or equal to 1000000000000 ({GOT})", ("vehicles", 0, "capacity", 0)),
        ('"location": 1', f'"location": {BIG}', "job 'a': location 1000000000000000... (401 "
         "digits) is outside the travel matrices (2x2)", ("jobs", 0, "location")),
        ("[[0, 5], [5, 0]]", f"[[0, 5], [{BIG}, 0]]", "matrices 'van': durations: entry [1][0] "
         f"{TOO_LARGE}", ("matrices", "van", "durations")),
    ],
)  # fmt: skip
def test_a_native_files_integer_too_large_for_a_float_is_said_to_be(
    tmp_path: Path, old: str, new: str, message: str, loc: tuple
) -> None:
    path = _written(tmp_path, NATIVE, old, new)
    with pytest.raises(ProblemError) as err:
        read_problem(path, format="native")
    assert (str(err.value), err.value.loc) == (message, loc)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('"service": 60', f'"service": {BIG}', f"job '10': service: {TOO_LARGE}"),
        ("[[0, 5], [5, 0]]", f"[[0, {BIG}], [5, 0]]",
         f"matrices 'car': durations: entry [0][1] {TOO_LARGE}"),
    ],
)  # fmt: skip
def test_a_vroom_files_integer_too_large_for_a_float_is_said_to_be(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = _written(tmp_path, VROOM, old, new)
    with pytest.raises(ProblemError) as err:
        read_problem(path, format="vroom")
    assert str(err.value) == message


@pytest.mark.parametrize(("data", "fmt"), [(NATIVE, "native"), (VROOM, "vroom")])
def test_a_json_file_after_a_byte_order_mark_is_recognised(
    tmp_path: Path, data: dict, fmt: str
) -> None:
    path = _written(tmp_path, data, "{", "{", bom=True)
    assert guess_format(path) == fmt
    assert len(read_problem(path).jobs) == 1
