"""A native or VROOM problem's top-level `datum`: coordinates from Amap/Tencent (GCJ-02) or
Baidu (BD-09) are WGS 84 in the `Problem`, as if they had been given in WGS 84."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from network.datum import from_wgs84
from routing.io import read_problem
from routing.io.native import problem_from_dict
from routing.io.vroom import vroom_to_problem
from routing.model import Problem, ProblemError

#: A hub and two stops around Xinjiekou, Nanjing, in WGS 84 (lat, lon).
WGS84 = [(32.0438, 118.7789), (32.0470, 118.7850), (32.0400, 118.7720)]
STRAIGHT = {"source": "straight_line"}


def native(points: list[tuple[float, float]], **extra: Any) -> dict[str, Any]:
    return {
        "locations": [{"lat": lat, "lon": lon} for lat, lon in points],
        "centres": [{"id": "hub", "location": 0}],
        "vehicles": [{"id": "v1", "start": "hub", "end": "hub"}],
        "jobs": [{"id": "a", "location": 1}, {"id": "b", "location": 2}],
        "travel": STRAIGHT,
        **extra,
    }


def vroom(points: list[tuple[float, float]], **extra: Any) -> dict[str, Any]:
    at = [[lon, lat] for lat, lon in points]
    return {
        "vehicles": [{"id": 1, "start": at[0], "end": at[0]}],
        "jobs": [{"id": 10, "location": at[1]}, {"id": 11, "location": at[2]}],
        **extra,
    }


def given_in(datum: str) -> list[tuple[float, float]]:
    return [from_wgs84(datum, lat, lon) for lat, lon in WGS84]


def coords(problem: Problem) -> np.ndarray:
    return np.array([(loc.lat, loc.lon) for loc in problem.locations])


def read(fmt: str, data: dict[str, Any]) -> Problem:
    if fmt == "native":
        return problem_from_dict(data)
    return vroom_to_problem(data, travel=STRAIGHT)


@pytest.mark.parametrize("fmt", ["native", "vroom"])
@pytest.mark.parametrize("datum", ["gcj02", "bd09", "GCJ-02"])
def test_a_problem_in_a_chinese_datum_reads_as_its_wgs84_twin(fmt: str, datum: str) -> None:
    """The WGS 84 problem and its twin in a Chinese datum read to the same coordinates (within
    a centimetre's worth of degrees) and so to the same travel; read as WGS 84, the twin's
    points are hundreds of metres away. Before, `datum` was refused as an unknown key."""
    make = native if fmt == "native" else vroom
    twin = given_in(datum.replace("-", "").lower())
    plain, converted = read(fmt, make(WGS84)), read(fmt, make(twin, datum=datum))
    assert coords(converted) == pytest.approx(coords(plain), abs=1e-7)
    for profile, m in plain.matrices.items():
        assert np.array_equal(converted.matrices[profile].durations, m.durations)
    assert np.abs(coords(read(fmt, make(twin))) - coords(plain)).max() > 2e-3


def test_wgs84_is_the_default_and_may_be_named() -> None:
    plain = problem_from_dict(native(WGS84))
    assert coords(problem_from_dict(native(WGS84, datum="wgs84"))).tolist() == (
        coords(plain).tolist()
    )


@pytest.mark.parametrize("fmt", ["native", "vroom"])
def test_a_bad_datum_is_named_with_the_one_meant(fmt: str) -> None:
    make = native if fmt == "native" else vroom
    with pytest.raises(ProblemError, match=r"^datum: 'gcj2' is not a datum .*'gcj02'\?") as err:
        read(fmt, make(WGS84, datum="gcj2"))
    assert err.value.loc == ("datum",)


def test_vroom_with_matrices_converts_its_given_coordinates() -> None:
    """With matrices a VROOM location's [lon, lat] is only for maps: still in WGS 84."""
    twin = given_in("bd09")
    data = {
        "vehicles": [{"id": 1, "start_index": 0, "start": [twin[0][1], twin[0][0]]}],
        "jobs": [{"id": 10, "location_index": 1, "location": [twin[1][1], twin[1][0]]}],
        "matrix": [[0, 60], [60, 0]],
        "datum": "bd09",
    }
    got = coords(vroom_to_problem(data))
    assert got == pytest.approx(np.array(WGS84[:2]), abs=1e-7)


@pytest.mark.parametrize("fmt", ["native", "vroom"])
def test_files_read_the_datum(tmp_path: Path, fmt: str) -> None:
    make = native if fmt == "native" else vroom
    path = tmp_path / "p.json"
    path.write_text(json.dumps({**make(given_in("gcj02"), datum="gcj02"), "travel": STRAIGHT}))
    got = coords(read_problem(path, format=fmt))
    assert got == pytest.approx(coords(read(fmt, make(WGS84))), abs=1e-7)
