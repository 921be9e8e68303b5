"""A native or VROOM problem file is read by the shared JSON reader (`network.jsonfile`): NaN,
Infinity and 1e999 are named by their path as not JSON, and text that is not JSON says its line
and column, as every other reader's file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from routing.io import read_problem
from routing.model import ProblemError

FINITE = "must be a finite number (NaN and Infinity are not JSON)"
NATIVE = (
    '{{"locations": [{{"lat": 36.066, "lon": 120.383}}, {{"lat": 36.07, "lon": {lon}}}], '
    '"centres": [{{"id": "hub", "location": 0}}], '
    '"vehicles": [{{"id": "v1", "start": "hub", "end": "hub"}}], '
    '"jobs": [{{"id": "a", "location": 1, "service": {service}}}], '
    '"travel": {{"source": "straight_line"}}}}'
)


@pytest.mark.parametrize(
    ("lon", "service", "where", "token"),
    [
        ("NaN", "60", "locations[1].lon", "NaN"),  # was "less than or equal to 180 (got nan)"
        ("120.39", "Infinity", "jobs[0].service", "Infinity"),
        ("120.39", "1e999", "jobs[0].service", "1e999"),
    ],
)
def test_a_native_files_nan_is_named_by_its_path(
    tmp_path: Path, lon: str, service: str, where: str, token: str
) -> None:
    path = tmp_path / "p.json"
    path.write_text(NATIVE.format(lon=lon, service=service))
    with pytest.raises(ProblemError) as err:
        read_problem(path, format="native")
    assert str(err.value) == f"{path}: {where}: {FINITE}, got {token}"
    path.write_text(NATIVE.format(lon="120.39", service="60"))
    assert read_problem(path, format="native").jobs[0].service == 60


def test_a_vroom_files_nan_is_named_by_its_path(tmp_path: Path) -> None:
    path = tmp_path / "v.json"
    path.write_text(
        '{"vehicles": [{"id": 1, "start_index": 0, "capacity": [NaN]}], '
        '"jobs": [{"id": 10, "location_index": 1}], "matrices": {"car": {"durations": '
        "[[0, 1], [1, 0]]}}}"
    )
    with pytest.raises(ProblemError) as err:
        read_problem(path, format="vroom")
    assert str(err.value) == f"{path}: vehicles[0].capacity[0]: {FINITE}, got NaN"


def test_text_that_is_not_json_says_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"locations": [],\n "jobs": [}')
    with pytest.raises(ProblemError) as err:
        read_problem(path, format="native")
    assert str(err.value) == f"{path}: not JSON (Expecting value: line 2 column 11 (char 28))"
    path.write_bytes(b'{"jobs": ["\xff"]}')  # was a UnicodeDecodeError traceback
    with pytest.raises(ProblemError, match=r"p.json: not UTF-8 text \('utf-8' codec can't"):
        read_problem(path, format="native")


MATRICES = (
    '{{"locations": [{{"lat": 36.066, "lon": 120.383}}, {{"lat": 36.07, "lon": 120.39}}, '
    '{{"lat": 36.08, "lon": 120.40}}], "centres": [{{"id": "hub", "location": 0}}], '
    '"vehicles": [{{"id": "v1", "start": "hub", "end": "hub"}}], '
    '"jobs": [{{"id": "a", "location": 1, "service": 60}}], '
    '"matrices": {{"van": {{"durations": {rows}, "distances": {rows}}}}}}}'
)
ROWS = "[[0, 60, {far}], [60, 0, {far}], [{far}, {far}, 0]]"


def _matrices(far: str) -> str:
    return MATRICES.format(rows=ROWS.format(far=far))


@pytest.mark.parametrize("far", ["Infinity", "1e999", "null"])
def test_infinity_in_a_matrix_is_unreachable_as_python_writes_it(tmp_path: Path, far) -> None:
    """`json.dump` writes numpy's inf as Infinity, which the reader had taken as unreachable
    (as null) before it refused every Infinity by path."""
    path = tmp_path / "p.json"
    path.write_text(_matrices(far))
    durations = read_problem(path, format="native").matrices["van"].durations
    assert int((~np.isfinite(durations)).sum()) == 4


def test_nan_in_a_matrix_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(_matrices("NaN"))
    with pytest.raises(ProblemError, match=r"matrices\.van\.durations\[0\]\[2\]: must be a"):
        read_problem(path, format="native")
