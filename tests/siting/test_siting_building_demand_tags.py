"""Demand from buildings follows the people, not how well the map is tagged: storeys from
`height` or the type where `building:levels` is missing, one meaning of a `default` rate in
`gongpei site` and a scenario, and warnings about what got no rate or rests on assumptions."""

import json
import logging
from pathlib import Path

import pytest

from network.buildings import STOREY_M, TYPICAL_LEVELS, read_buildings
from routing.siting.native import read_native
from routing.siting.points import demand_from_buildings

SIDE = 0.0002  # degrees: a footprint about 22 x 17 m at 39.9 N


def _osm(folder: Path, buildings: list[dict[str, str]]) -> Path:
    """An OSM XML file of one square footprint per tag set, in a row along a parallel."""
    nodes, ways = [], []
    for k, tags in enumerate(buildings):
        lon, lat = 116.3 + k * 2 * SIDE, 39.9
        corners = [(lat, lon), (lat, lon + SIDE), (lat + SIDE, lon + SIDE), (lat + SIDE, lon)]
        ids = [10 * k + i + 1 for i in range(4)]
        placed = zip(ids, corners, strict=True)
        nodes += [f'<node id="{i}" lat="{y}" lon="{x}"/>' for i, (y, x) in placed]
        refs = "".join(f'<nd ref="{i}"/>' for i in [*ids, ids[0]])
        text = "".join(f'<tag k="{key}" v="{value}"/>' for key, value in tags.items())
        ways.append(f'<way id="{k + 1}">{refs}{text}</way>')
    path = folder / "map.osm"
    path.write_text(
        '<?xml version="1.0"?>\n<osm version="0.6">\n' + "\n".join(nodes + ways) + "\n</osm>\n",
        encoding="utf-8",
    )
    return path


def test_storeys_come_from_levels_else_height_else_the_type(tmp_path: Path) -> None:
    path = _osm(tmp_path, [
        {"building": "dormitory", "building:levels": "11"},
        {"building": "commercial", "height": "218"},
        {"building": "office", "height": "90 m"},
        {"building": "yes", "height": "70 ft"},
        {"building": "dormitory"},
        {"building": "yes"},
        {"building": "office", "building:levels": "none", "height": "tall"},
    ])  # fmt: skip
    frame = read_buildings(path).set_index("osm_ref")
    assert frame["levels"].to_dict() == {
        "w1": 11, "w2": round(218 / STOREY_M), "w3": round(90 / STOREY_M),
        "w4": round(70 * 0.3048 / STOREY_M),
        "w5": TYPICAL_LEVELS["dormitory"], "w6": 1, "w7": TYPICAL_LEVELS["office"],
    }  # fmt: skip
    assert frame["levels_from"].tolist() == [
        "tag", "height", "height", "height", "assumed", "assumed", "assumed",
    ]  # fmt: skip


def test_a_dormitory_without_levels_is_not_a_one_storey_shed(tmp_path: Path) -> None:
    """Tsinghua: 紫荆1号楼 (no levels, 1,735 m²) made 20.8 parcels a day, 紫荆22号楼 (11 levels,
    1,731 m²) 228.5; a 218 m tower with `height` only made 16 against 513 for 33 levels."""
    path = _osm(tmp_path, [{"building": "dormitory", "building:levels": "11"},
                           {"building": "dormitory"}])  # fmt: skip
    tagged, untagged = (p.parcels for p in demand_from_buildings(read_buildings(path)))
    assert untagged / tagged == pytest.approx(TYPICAL_LEVELS["dormitory"] / 11, rel=0.01)


def _native(folder: Path, rates: dict[str, float]) -> Path:
    spec = {
        "map": "map.osm", "straight_line": True, "radius_m": 500,
        "demand": {"from_buildings": True, "rates": rates},
        "candidates": [{"id": "c", "lat": 39.9, "lon": 116.3}],
    }  # fmt: skip
    path = folder / "site.json"
    path.write_text(json.dumps(spec))
    return path


def test_native_default_rate_is_the_rate_of_types_without_one(tmp_path: Path) -> None:
    """`"rates": {"default": 0.03}` was read as a building type called "default": the untyped
    buildings stayed at zero, as without it."""
    _osm(tmp_path, [{"building": "yes", "building:levels": "10"}, {"building": "office"}])
    inst, _ = read_native(_native(tmp_path, {"default": 0.03}))
    area = read_buildings(tmp_path / "map.osm")["area_m2"]
    assert inst.demand_ids == ["bw1", "bw2"]
    assert inst.weight[0] == pytest.approx(0.03 * area[0] * 10 / 100, abs=1e-3)
    assert inst.weight[1] == pytest.approx(0.4 * area[1] * 6 / 100, abs=1e-3)  # DEFAULT_RATES


def test_unrated_and_assumed_buildings_and_unknown_rates_are_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _osm(tmp_path, [{"building": "yes", "building:levels": "69"}, {"building": "yes"},
                    {"building": "dormitory"}, {"building": "office", "building:levels": "5"}])
    caplog.set_level(logging.WARNING, logger="gongpei.siting")
    read_native(_native(tmp_path, {"dormitry": 3.0, "college": 0.3}))
    said = "\n".join(r.getMessage() for r in caplog.records if r.name == "gongpei.siting")
    # a type the map just lacks (college) is no mistake; one that looks misspelt is named
    assert "of type 'dormitry' (did you mean 'dormitory'?); these rates" in said
    assert "2 of 4 buildings" in said and "no rate" in said and "2 'yes'" in said
    assert "1 of 2 buildings with demand" in said  # the dormitory: storeys assumed


def test_a_scenario_reads_default_as_gongpei_site_does(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A scenario's rates are its whole table: types it does not list get its `default`, and
    without one no demand, now with a warning."""
    from api.scenario.demand import demand_from_buildings as scenario_demand
    from api.scenario.schema import DemandSpec

    frame = read_buildings(_osm(tmp_path, [{"building": "yes"}, {"building": "office"}]))
    with_default = scenario_demand(frame, DemandSpec(rates={"office": 1.0, "default": 0.5}))
    assert with_default.kind == ["yes", "office"]
    caplog.set_level(logging.WARNING, logger="gongpei.siting")
    without = scenario_demand(frame, DemandSpec(rates={"office": 1.0}))
    assert without.kind == ["office"]
    assert any("1 of 2 buildings" in r.getMessage() for r in caplog.records)


@pytest.mark.shared
def test_campus_dormitories_of_one_size_get_demand_of_one_order(shared_dir: Path) -> None:
    """The real campus: 5 of 24 dormitories carry `building:levels`, and counting the others as
    one storey gave them a ninth (1/11) of the parcels per m² of footprint."""
    frame = read_buildings(shared_dir / "data/osm/beijing_tsinghua_pku_campus.osm")
    dorms = frame[frame["building"] == "dormitory"]
    parcels = {p.id: p.parcels for p in demand_from_buildings(dorms)}
    sizes = zip(dorms["osm_ref"], dorms["area_m2"], strict=True)
    per_m2 = [parcels[f"b{ref}"] / area for ref, area in sizes]
    assert max(per_m2) / min(per_m2) < 2.5
    assert {"tag", "assumed"} <= set(dorms["levels_from"])
