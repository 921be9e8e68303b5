"""A locker file's numbers: NaN, Infinity and 1e999 are not JSON, and a count is a JSON whole
number (not "3", not 2.0), refused in one line naming the feature and the property. The file
is checked whole before anything is written, so no database is needed here."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.lockers import LockerInputError, import_geojson


def _file(tmp_path: Path, coordinates: str, properties: str) -> Path:
    feature = (
        f'{{"type": "Feature", "geometry": {{"type": "Point", "coordinates": {coordinates}}}, '
        f'"properties": {{"name": "Gate", {properties}}}}}'
    )
    path = tmp_path / "lockers.geojson"
    path.write_text(f'{{"type": "FeatureCollection", "features": [{feature}]}}')
    return path


@pytest.mark.parametrize(
    ("coordinates", "properties", "message"),
    [
        ("[120.38, NaN]", '"compartments": {"S": 2}',
         "coordinates: must be a finite number (NaN and Infinity are not JSON), got NaN"),
        ("[Infinity, 36.06]", '"compartments": {"S": 2}',
         "coordinates: must be a finite number (NaN and Infinity are not JSON), got Infinity"),
        ("[120.38, 1e999]", '"compartments": {"S": 2}',
         "coordinates: must be a finite number (NaN and Infinity are not JSON), got 1e999"),
        ("[120.38, 36.06]", '"compartments": {"S": -Infinity}',
         "property 'compartments.S' must be a finite number (NaN and Infinity are not JSON), "
         "got -Infinity"),
        ("[120.38, 36.06]", '"compartments": {"S": "3"}',
         "property 'compartments.S' must be a whole number, got \"3\""),
        ("[120.38, 36.06]", '"compartments": {"S": 2.0}',
         "property 'compartments.S' must be a whole number, got 2.0"),
        ("[120.38, 36.06]", '"compartments": {"S": 1}, "address": NaN',
         "property 'address' must be text, got NaN"),
    ],
)  # fmt: skip
def test_a_locker_file_refuses_numbers_that_are_not_json_or_counts_given_as_text(
    tmp_path: Path, coordinates: str, properties: str, message: str
) -> None:
    """A count given as "3" was stored as 3 doors; NaN in a text property failed with a
    TypeError from the message's own json.dumps; NaN coordinates were "not a lon/lat
    position" with no word of why."""
    path = _file(tmp_path, coordinates, properties)
    with pytest.raises(LockerInputError) as info:
        import_geojson(None, path)  # type: ignore[arg-type]  # refused before any query
    assert str(info.value) == f"feature 0: {message}"


def test_a_folder_given_as_the_locker_file_is_refused_by_name(tmp_path: Path) -> None:
    """`gongpei lockers import FOLDER` was an IsADirectoryError traceback."""
    with pytest.raises(LockerInputError, match=r"locker file '.+': cannot read \(Is a directory\)"):
        import_geojson(None, tmp_path)  # type: ignore[arg-type]  # refused before any query
