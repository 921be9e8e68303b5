"""A siting plan read through a day's `lockers_from`: NaN, Infinity and 1e999 are not JSON, a
coordinate is a JSON number (not text) and an id is text or a whole number; each refused in
one line naming the site, the field and the plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.pooling.day import parse_day
from routing.pooling.errors import PoolingError

FINITE = "must be a finite number (NaN and Infinity are not JSON)"


@pytest.mark.parametrize(
    ("site", "message"),
    [
        ('"id": "s1", "lat": NaN, "lon": 120.38', f"site 's1': lat: {FINITE}, got NaN"),
        ('"id": "s1", "lat": 36.066, "lon": -Infinity', f"site 's1': lon: {FINITE}, got -Infinity"),
        ('"id": "s1", "lat": 1e999, "lon": 120.38', f"site 's1': lat: {FINITE}, got 1e999"),
        ('"id": "s1", "lat": "36.066", "lon": 120.38',
         "site 's1': lat: must be a number, got \"36.066\""),
        ('"id": NaN, "lat": 36.066, "lon": 120.38',
         "site 1: id: must be text or a whole number, got NaN"),
    ],
)  # fmt: skip
def test_a_siting_plan_refuses_numbers_that_are_not_json_naming_site_and_field(
    day_data: dict, tmp_path: Path, site: str, message: str
) -> None:
    """NaN coordinates were "less than or equal to 90" in a locker the day never named, a
    latitude given as text was read as a number, and an id NaN became the locker "nan"."""
    plan = tmp_path / "plan.json"
    plan.write_text(f'{{"sites": [{{{site}, "compartments": {{"S": 2}}}}]}}')
    day_data.update(lockers=[], lockers_from={"siting": "plan.json"})
    with pytest.raises(PoolingError) as info:
        parse_day(day_data, base_dir=tmp_path)
    assert str(info.value) == f"lockers_from: {message} (in '{plan}')"


def test_a_count_of_infinity_in_a_siting_plan_is_shown_as_written(
    day_data: dict, tmp_path: Path
) -> None:
    (tmp_path / "plan.json").write_text(
        '{"sites": [{"id": "s1", "lat": 36.066, "lon": 120.38, "compartments": {"S": Infinity}}]}'
    )
    day_data.update(lockers=[], lockers_from={"siting": "plan.json"})
    with pytest.raises(PoolingError, match="compartments: S: Infinity is not a whole number"):
        parse_day(day_data, base_dir=tmp_path)
