"""Storeys from OSM's Simple 3D Buildings scheme: `building:part` areas folded into the outline
they lie in, `building:min_level` / `min_height` taken off, `roof:levels` counted in part, so
that a tower drawn as a part on its podium's outline is neither a podium of the tower's storeys
nor a tower of the podium's."""

import logging
from pathlib import Path

import pytest
from osm_rectangles import Box, rectangles_osm

from network.buildings import ROOF_LEVEL_SHARE, STOREY_M, TYPICAL_LEVELS, read_buildings
from routing.siting.points import DEFAULT_RATES, demand_from_buildings

_osm = rectangles_osm

PODIUM: Box = (0, 0, 80, 60)  # metres east, north of (LAT, LON): 4,800 m²
TOWER: Box = (0, 0, 40, 30)  # a quarter of it


def _row(path: Path, ref: str = "w1") -> dict:
    return read_buildings(path).set_index("osm_ref").loc[ref].to_dict()


def test_a_tower_part_on_a_podium_outline_has_its_storeys_on_its_footprint_only(
    tmp_path: Path,
) -> None:
    """The outline said 5 storeys over the whole podium and the 25-storey tower was not read."""
    path = _osm(tmp_path, [
        (PODIUM, {"building": "commercial", "building:levels": "5", "name": "Podium"}),
        (TOWER, {"building:part": "yes", "building:levels": "25"}),
    ])  # fmt: skip
    frame = read_buildings(path)
    assert frame["osm_ref"].tolist() == ["w1"]  # the part is no building of its own
    row = frame.iloc[0]
    assert row["levels_from"] == "parts" and row["name"] == "Podium"
    assert row["area_m2"] == pytest.approx(4800, rel=0.01)  # the outline's footprint, as before
    assert row["levels"] == pytest.approx(0.25 * 25 + 0.75 * 5, abs=0.01)
    (point,) = demand_from_buildings(frame)
    floor = row["area_m2"] * (0.25 * 25 + 0.75 * 5)
    assert point.parcels == pytest.approx(DEFAULT_RATES["commercial"] * floor / 100, rel=1e-3)


def test_an_outline_with_the_towers_storeys_gives_them_to_the_tower_only(
    tmp_path: Path,
) -> None:
    """S3DB has the outline carry the tallest part's storeys: read over the whole outline,
    the podium drawn as no part had the tower's 25; it has the type's (at most the outline's)."""
    path = _osm(tmp_path, [
        (PODIUM, {"building": "commercial", "building:levels": "25"}),
        (TOWER, {"building:part": "tower", "building:levels": "25"}),
    ])  # fmt: skip
    rest = TYPICAL_LEVELS["commercial"]
    assert _row(path)["levels"] == pytest.approx(0.25 * 25 + 0.75 * rest, abs=0.01)


def test_stacked_parts_count_each_storey_once(tmp_path: Path) -> None:
    """The full S3DB drawing: a 5-storey podium part under the whole outline and the tower
    part on it from level 5 (`building:min_level`): 20 of its 25 levels are its own."""
    path = _osm(tmp_path, [
        (PODIUM, {"building": "office", "building:levels": "25"}),
        (PODIUM, {"building:part": "yes", "building:levels": "5"}),
        (TOWER, {"building:part": "yes", "building:levels": "25", "building:min_level": "5"}),
    ])  # fmt: skip
    assert _row(path)["levels"] == pytest.approx(5 + 0.25 * 20, abs=0.01)


def test_a_part_above_the_ground_stands_on_the_outline_below_it(tmp_path: Path) -> None:
    """Nanjing's w951598024: a 120 m tower drawn as an outline with two crown parts from
    `min_height` 120 m; read as parts only, the tower body under the crown would be empty."""
    crown = (0, 0, 40, 30)
    path = _osm(tmp_path, [
        (PODIUM, {"building": "office", "height": "120"}),
        (crown, {"building:part": "yes", "min_height": "120", "height": "127"}),
    ])  # fmt: skip
    body = round(120 / STOREY_M)
    assert _row(path)["levels"] == pytest.approx(body + 0.25 * 2, abs=0.01)


def test_min_level_and_min_height_take_storeys_off(tmp_path: Path) -> None:
    """Nanjing's w187714513: a mall's bridge block `building:levels=8`, `building:min_level=7`
    is one storey, not eight."""
    path = _osm(tmp_path, [
        ((0, 0, 20, 20), {"building": "retail", "building:levels": "8",
                          "building:min_level": "7"}),
        ((40, 0, 60, 20), {"building": "retail", "height": "35", "min_height": "14"}),
        ((80, 0, 100, 20), {"building": "retail", "building:levels": "3",
                            "building:min_level": "3"}),
    ])  # fmt: skip
    levels = read_buildings(path).set_index("osm_ref")["levels"].to_dict()
    assert levels == {"w1": 1, "w2": round(21 / STOREY_M), "w3": 1}  # at least one storey


def test_a_part_on_a_raised_outline_counts_the_outline_from_its_own_bottom(
    tmp_path: Path,
) -> None:
    """Helsinki's r1319473: a block at levels 7-8 with a part at 8-9 on most of it is two
    storeys there, not the outline's eight, nor eight below the part."""
    path = _osm(tmp_path, [
        (PODIUM, {"building": "retail", "building:levels": "8", "building:min_level": "7"}),
        (TOWER, {"building:part": "yes", "building:levels": "9", "building:min_level": "8"}),
    ])  # fmt: skip
    assert _row(path)["levels"] == pytest.approx(1 + 0.25 * 1, abs=0.01)


def test_parts_without_storeys_leave_the_outline_assumed(tmp_path: Path) -> None:
    """The demand's warning on assumed storeys still counts an outline whose parts carry
    neither levels nor a height."""
    path = _osm(tmp_path, [
        (PODIUM, {"building": "office"}),
        (TOWER, {"building:part": "yes"}),
    ])  # fmt: skip
    row = _row(path)
    assert row["levels_from"] == "assumed" and row["levels"] == TYPICAL_LEVELS["office"]


def test_roof_levels_count_in_part_on_top_of_levels_not_of_height(tmp_path: Path) -> None:
    path = _osm(tmp_path, [
        ((0, 0, 20, 20), {"building": "house", "building:levels": "2", "roof:levels": "2"}),
        ((40, 0, 60, 20), {"building": "house", "height": "10", "roof:levels": "1"}),
    ])  # fmt: skip
    levels = read_buildings(path).set_index("osm_ref")["levels"].to_dict()
    assert levels == {"w1": 2 + 2 * ROOF_LEVEL_SHARE, "w2": round(10 / STOREY_M)}


def test_a_roof_part_holds_no_floor(tmp_path: Path) -> None:
    """`building:part=roof` is a roof on pillars: no storeys under it, tagged or not."""
    path = _osm(tmp_path, [
        (PODIUM, {"building": "retail", "building:levels": "2"}),
        (TOWER, {"building:part": "roof"}),
    ])  # fmt: skip
    assert _row(path)["levels"] == pytest.approx(0.75 * 2, abs=0.01)


def test_parts_outside_outlines_are_named_and_a_building_part_tower_stays_a_building(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A part in no outline is left out and named; a way tagged `building` and `building:part`
    (Nanjing's 南京中心) is a building, and a crown part on it is its part, not the podium's.
    The podium counts its 4 storeys beside the tower only: the tower's 30 stand from the
    ground (`test_network_building_nested.py`)."""
    caplog.set_level(logging.DEBUG, logger="gongpei.network")
    path = _osm(tmp_path, [
        ((200, 0, 220, 20), {"building:part": "entrance"}),
        (PODIUM, {"building": "retail", "building:levels": "4"}),
        (TOWER, {"building": "office", "building:part": "tower", "building:levels": "30"}),
        ((0, 0, 20, 15), {"building:part": "yes", "building:levels": "32",
                          "building:min_level": "30"}),
    ])  # fmt: skip
    frame = read_buildings(path).set_index("osm_ref")
    assert sorted(frame.index) == ["w2", "w3"]
    assert frame.at["w2", "levels"] == 0.75 * 4 and frame.at["w2", "levels_from"] == "tag"
    assert frame.at["w3", "levels"] == pytest.approx(30 + 0.25 * 2, abs=0.01)
    said = [r.getMessage() for r in caplog.records if "building:part" in r.getMessage()]
    assert len(said) == 1 and "w1 (entrance)" in said[0]


@pytest.mark.shared
def test_nanjing_towers_on_podiums(shared_dir: Path) -> None:
    """The Xinjiekou extract: 金鹰B座 (8 levels) with its 250 m tower as a part, the bridge
    block at levels 7-8, and the orphan entrance part; no building gained or lost a row."""
    frame = read_buildings(shared_dir / "data/osm/nanjing_xinjiekou_cbd.osm")
    frame = frame.set_index("osm_ref")
    assert len(frame) == 1277 and "w155883030" not in frame.index
    b = frame.loc["w318198211"]
    tower, podium = 1796, b["area_m2"] - 1796  # m², the part's footprint and the rest
    assert b["levels_from"] == "parts"
    assert b["levels"] == pytest.approx((tower * round(250 / STOREY_M) + podium * 8)
                                        / b["area_m2"], rel=0.01)  # fmt: skip
    assert frame.at["w187714513", "levels"] == 1
    assert (frame["levels_from"] == "parts").sum() == 5
