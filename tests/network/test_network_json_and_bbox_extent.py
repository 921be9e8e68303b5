"""The shared JSON reader's numbers (an integer of 400 digits is too large, not "no number"; a
whole tree checked for NaN by path) and a buildings bbox that misses the OSM file's data."""

from __future__ import annotations

from pathlib import Path

import pytest

from network.errors import AreaError
from network.jsonfile import NOT_FINITE, load_json, number_problem

BIG = "1" + "0" * 399


def test_an_integer_of_400_digits_is_too_large_for_a_number_not_no_number() -> None:
    """A locker file's or a siting plan's coordinate of 400 digits passed `number_problem`
    (a siting plan's locker then stood at that latitude) or was called no number."""
    (value,) = load_json(f"[{BIG}]")
    assert number_problem(value) == (
        "is too large for a number (at most about 1.8e308), got 1000000000000000... (400 digits)"
    )
    assert number_problem(-value).endswith("got -100000000000000... (400 digits)")
    assert number_problem(int("9" * 300)) is None  # 9.99e299: a float holds it
    assert number_problem("36.07") == 'must be a number, got "36.07"'


@pytest.mark.parametrize(
    ("text", "where", "token"),
    [
        ('{"jobs": [{"amount": [1, NaN]}]}', "jobs[0].amount[1]", "NaN"),
        ('{"locations": [{"lat": 1e999}]}', "locations[0].lat", "1e999"),
        ("-Infinity", "", "-Infinity"),
    ],
)
def test_a_finite_read_names_the_first_nan_by_its_path(text: str, where: str, token: str) -> None:
    """For a reader handing the whole tree to a model (a routing problem), whose fields called a
    NaN "less than or equal to 180 (got nan)"."""
    from network.jsonfile import NotFinite

    with pytest.raises(NotFinite) as err:
        load_json(text, finite=True)
    assert (err.value.where, err.value.reason) == (where, f"{NOT_FINITE}, got {token}")
    assert load_json('{"a": [1.5, 2, "NaN"]}', finite=True) == {"a": [1.5, 2, "NaN"]}


#: Helsinki's demo file's data, W,S,E,N (its header's bounds, with every footprint inside).
DEMO_SPANS = "W,S,E,N = 24.93518,60.16416,24.95341,60.17911"
SWAPPED = " (given as S,W,N,E? read as W,S,E,N, it meets the data)"


@pytest.mark.parametrize(
    ("bbox", "hint"),
    [
        ((25.0, 60.2, 25.1, 60.3), ""),  # north-east of the map
        ((60.165, 24.940, 60.172, 24.948), SWAPPED),  # Helsinki's box as S,W,N,E
    ],
)
def test_a_buildings_bbox_outside_the_files_data_is_refused_naming_both(
    bbox: tuple, hint: str
) -> None:
    """It read as an empty frame, which the siting took for a map without buildings there."""
    from network.buildings import read_buildings

    with pytest.raises(AreaError) as err:
        read_buildings("demo", bbox=bbox)
    assert str(err.value) == (
        f"bbox {bbox}: lies outside OSM file 'demo', whose data spans {DEMO_SPANS}{hint}"
    )


def test_a_bbox_in_the_file_without_buildings_is_an_empty_frame() -> None:
    """A corner of the map (past its last footprint, inside its bounds) holds no building: no
    error, as a park or a road-only part of a map is none."""
    from network.buildings import read_buildings

    assert read_buildings("demo", bbox=(24.9534, 60.1790, 24.96, 60.18)).empty


def test_a_file_without_bounds_spans_its_footprints(tmp_path: Path) -> None:
    from network.buildings import read_buildings

    nodes = "".join(
        f'<node id="{i}" lat="{lat}" lon="{lon}" version="1"/>'
        for i, (lat, lon) in enumerate(
            [(60.1, 24.9), (60.1, 24.901), (60.101, 24.901), (60.101, 24.9)], start=1
        )
    )
    way = '<way id="7" version="1">' + "".join(f'<nd ref="{i}"/>' for i in (1, 2, 3, 4, 1))
    way += '<tag k="building" v="yes"/></way>'
    path = tmp_path / "b.osm"
    path.write_text(f'<?xml version="1.0"?><osm version="0.6">{nodes}{way}</osm>')
    assert len(read_buildings(path, bbox=(24.8, 60.0, 24.95, 60.2))) == 1
    with pytest.raises(AreaError, match=r"whose data spans W,S,E,N = 24.9,60.1,24.901,60.101$"):
        read_buildings(path, bbox=(25.0, 60.0, 25.1, 60.2))
