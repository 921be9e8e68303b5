"""Building outlines drawn inside other outlines count each storey once: both count storeys from
the ground, so over the inner outline the floor is the larger of the two, not their sum (the
outer loses the floor under it). Xinjiekou draws towers so on their podiums: 20 outlines added
about 73,000 m² of floor twice."""

from pathlib import Path

import pytest
from osm_rectangles import Box, rectangles_osm

from network.buildings import read_buildings
from routing.siting.points import DEFAULT_RATES, demand_from_buildings

PODIUM: Box = (0, 0, 80, 60)  # metres east, north: 4,800 m²
TOWER: Box = (0, 0, 40, 30)  # a quarter of it, 1,200 m²


def _frame(tmp_path: Path, shapes: list[tuple[Box, dict[str, str]]]):
    return read_buildings(rectangles_osm(tmp_path, shapes)).set_index("osm_ref")


def _floor(frame) -> float:
    return float((frame["area_m2"] * frame["levels"]).sum())


def test_a_tower_outline_in_its_podiums_outline_is_not_stacked_on_it(tmp_path: Path) -> None:
    frame = _frame(tmp_path, [
        (PODIUM, {"building": "retail", "building:levels": "4"}),
        (TOWER, {"building": "office", "building:levels": "30"}),
    ])  # fmt: skip
    area = frame.at["w1", "area_m2"]
    assert frame.at["w1", "levels"] == pytest.approx(0.75 * 4, abs=0.01)  # was 4
    assert frame.at["w2", "levels"] == 30 and frame.at["w1", "levels_from"] == "tag"
    assert _floor(frame) == pytest.approx(area * (0.75 * 4 + 0.25 * 30), rel=1e-3)
    # each keeps its own type: the retail rate on the podium's floor beside the tower only
    parcels = {p.id: p.parcels for p in demand_from_buildings(frame.reset_index())}
    assert parcels["bw1"] == pytest.approx(DEFAULT_RATES["retail"] * 0.75 * area * 4 / 100, 1e-3)


def test_a_low_outline_in_a_tall_one_adds_no_floor(tmp_path: Path) -> None:
    """A 2-storey lobby drawn in a 20-storey block: the block already counts its storeys."""
    frame = _frame(tmp_path, [
        (PODIUM, {"building": "office", "building:levels": "20"}),
        (TOWER, {"building": "retail", "building:levels": "2"}),
    ])  # fmt: skip
    area = frame.at["w1", "area_m2"]
    assert frame.at["w2", "levels"] == 2
    assert _floor(frame) == pytest.approx(area * 20, rel=1e-3)


def test_an_outline_drawn_twice_counts_once_at_the_larger(tmp_path: Path) -> None:
    frame = _frame(tmp_path, [
        (PODIUM, {"building": "office", "building:levels": "6"}),
        (PODIUM, {"building": "office", "building:levels": "8"}),
    ])  # fmt: skip
    assert _floor(frame) == pytest.approx(frame.at["w1", "area_m2"] * 8, rel=1e-3)


def test_nested_three_deep_counts_the_tallest_over_each_piece(tmp_path: Path) -> None:
    inner: Box = (0, 0, 20, 15)  # 300 m² in the tower, in the podium
    frame = _frame(tmp_path, [
        (PODIUM, {"building": "retail", "building:levels": "3"}),
        (TOWER, {"building": "office", "building:levels": "25"}),
        (inner, {"building": "office", "building:levels": "40"}),
    ])  # fmt: skip
    area = frame.at["w1", "area_m2"]
    pieces = 0.75 * 3 + (0.25 - 1 / 16) * 25 + 40 / 16
    assert _floor(frame) == pytest.approx(area * pieces, rel=1e-3)


def test_overlapping_and_underground_outlines_are_left_as_they_are(tmp_path: Path) -> None:
    """Half over another (two blocks, or a slip) is no outline drawn in it; a car park below
    the block holds floor under the ground, none of the block's."""
    frame = _frame(tmp_path, [
        (PODIUM, {"building": "office", "building:levels": "6"}),
        ((40, 0, 120, 60), {"building": "office", "building:levels": "6"}),
        (TOWER, {"building": "parking", "building:levels": "2", "layer": "-1"}),
    ])  # fmt: skip
    assert frame["levels"].tolist() == [6, 6, 2]


def test_underground_levels_are_no_street_level_floor(tmp_path: Path) -> None:
    """`building:levels` counts the storeys above ground (the OSM wiki), and the parcels of a
    building go to the people in those: `building:levels:underground` (car parks, plant
    rooms, a metro concourse) adds none, as `height` holds none of them."""
    frame = _frame(tmp_path, [
        (PODIUM, {"building": "office", "building:levels": "6",
                  "building:levels:underground": "3"}),
    ])  # fmt: skip
    assert frame.at["w1", "levels"] == 6


@pytest.mark.shared
def test_xinjiekou_towers_drawn_in_their_podiums(shared_dir: Path) -> None:
    """金鹰国际 (w780399239, 63 storeys from `height`) in its 3-storey mall's outline
    (w153933284), and 19 more: about 73,000 m² of floor no longer counted twice."""
    frame = read_buildings(shared_dir / "data/osm/nanjing_xinjiekou_cbd.osm")
    frame = frame.set_index("osm_ref")
    assert len(frame) == 1277
    mall, tower = frame.loc["w153933284"], frame.loc["w780399239"]
    assert tower["levels"] == 63
    assert mall["levels"] == pytest.approx(3 * (1 - tower["area_m2"] / mall["area_m2"]), abs=0.01)
    assert _floor(frame) == pytest.approx(6_530_000, rel=0.002)  # 6,603,000 before
