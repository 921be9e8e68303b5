"""Underground footprints (`layer` < 0, `location=underground`): flagged by `read_buildings`,
no locker site unless a public door is mapped on them, and no demand at the `default` rate.

Lockers went to Nanjing's 新街口 metro station outlines (`layer=-1`, one in the middle of the
Xinjiekou roundabout) and to a Beijing campus's underground shooting range."""

from pathlib import Path

import pytest
from osm_rectangles import LAT, LON, rectangles_osm

from network.buildings import at_street_level, read_buildings
from routing.siting.points import candidates_from_buildings, demand_from_buildings

SIDE_M = 60.0


def _osm(folder: Path, tag_sets: list[dict[str, str]], door_on: int | None = None) -> Path:
    """One 60 m square per tag set, side by side eastwards; with `door_on`, that square's
    first corner is an `entrance=main` node."""
    boxes = [(100.0 * k, 0.0, 100.0 * k + SIDE_M, SIDE_M) for k in range(len(tag_sets))]
    doors = () if door_on is None else (door_on,)
    return rectangles_osm(folder, list(zip(boxes, tag_sets, strict=True)), doors=doors)


SQUARES = [
    {"building": "yes", "layer": "-1", "railway": "station", "name": "新街口"},  # w1
    {"building": "retail", "location": "underground", "name": "mall"},  # w2
    {"building": "office"},  # w3
    {"building": "yes", "layer": "-1;0"},  # w4: reaches the ground
    {"building": "yes", "layer": "1"},  # w5: on a deck, above ground
    {"building": "yes", "location": "Underwater"},  # w6
]


def test_underground_footprints_are_flagged(tmp_path: Path) -> None:
    frame = read_buildings(_osm(tmp_path, SQUARES)).set_index("osm_ref")
    flagged = frame["underground"].to_dict()
    assert flagged == {"w1": True, "w2": True, "w3": False, "w4": False, "w5": False, "w6": True}
    assert frame["underground"].dtype == bool


def test_no_locker_site_under_the_street_unless_a_door_is_mapped(tmp_path: Path) -> None:
    frame = read_buildings(_osm(tmp_path, SQUARES))
    sites = {s.id for s in candidates_from_buildings(frame, min_area_m2=0)}
    assert sites == {"site-bw3", "site-bw4", "site-bw5"}
    # a public entrance on the station's outline: the locker stands at that door
    with_door = read_buildings(_osm(tmp_path, SQUARES, door_on=0))
    assert at_street_level(with_door).tolist() == [True, False, True, True, True, False]
    sites = {s.id: s for s in candidates_from_buildings(with_door, min_area_m2=0)}
    assert set(sites) == {"site-bw1", "site-bw3", "site-bw4", "site-bw5"}
    assert (sites["site-bw1"].lat, sites["site-bw1"].lon) == pytest.approx((LAT, LON), abs=1e-7)


def test_an_underground_footprint_has_its_own_types_rate_and_not_the_default(
    tmp_path: Path,
) -> None:
    """The metro station (untyped) is no delivery address; the underground mall's shops are."""
    frame = read_buildings(_osm(tmp_path, SQUARES))
    got = {p.id: p.parcels for p in demand_from_buildings(frame, rates={"default": 1.0})}
    floor = SIDE_M * SIDE_M / 100  # one storey, 100 m² units
    assert set(got) == {"bw2", "bw3", "bw4", "bw5"}  # not bw1, the station, nor bw6
    assert got["bw2"] == pytest.approx(0.2 * 2 * floor, rel=0.01)  # retail rate, 2 storeys
    assert got["bw4"] == pytest.approx(1.0 * floor, rel=0.01)  # the default


@pytest.mark.parametrize(
    ("extract", "below"),
    [
        ("nanjing_xinjiekou_cbd.osm", {"w860727738", "w860727755", "w863035805", "w863066490",
                                       "w863304011", "w863326647"}),
        ("beijing_tsinghua_pku_campus.osm", {"w80716194"}),
    ],
)  # fmt: skip
def test_the_extracts_metro_stations_and_shooting_range_get_no_site(
    osm_dir: Path, extract: str, below: set[str]
) -> None:
    path = osm_dir / extract
    if not path.exists():
        pytest.skip(f"{path} not present")
    frame = read_buildings(path)
    assert set(frame.loc[frame["underground"], "osm_ref"]) == below
    sites = {s.id for s in candidates_from_buildings(frame, min_area_m2=0)}
    assert not sites & {f"site-b{ref}" for ref in below}
    assert len(sites) == len(frame) - len(below)
