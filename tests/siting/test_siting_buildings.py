"""OSM building footprints (network/buildings.py) and the demand they become."""

import pytest

from network.buildings import COLUMNS, read_buildings
from network.errors import AreaError, OsmFileError
from routing.siting.points import candidates_from_buildings, demand_from_buildings


def test_demo_buildings_have_type_levels_area():
    frame = read_buildings("demo")
    assert list(frame.columns) == COLUMNS
    assert len(frame) > 400
    # an outline with others drawn in it counts its storeys beside them only: its floor over
    # its footprint may come to less than a storey (network.buildings._unstacked)
    assert (frame["area_m2"] > 0).all() and (frame["levels"] > 0).all()
    assert frame.crs.to_epsg() == 4326
    assert {"apartments", "office", "university"} <= set(frame["building"])
    # centroids lie inside central Helsinki
    assert frame["lat"].between(60.15, 60.18).all() and frame["lon"].between(24.9, 24.98).all()
    assert frame["levels"].max() > 5  # building:levels is read


def test_demand_from_buildings_by_type_rate_area_and_levels():
    frame = read_buildings("demo")
    demand = demand_from_buildings(frame, rates={"office": 1.0}, mix=(0.5, 0.3, 0.2))
    offices = frame[frame["building"] == "office"]
    got = {d.id: d.parcels for d in demand}
    for row in offices.itertuples():
        assert got[f"b{row.osm_ref}"] == pytest.approx(row.area_m2 * row.levels / 100, abs=1e-3)
    assert all(d.mix == (0.5, 0.3, 0.2) for d in demand)
    untyped = frame[frame["building"] == "yes"]
    assert not any(f"b{o}" in got for o in untyped["osm_ref"])
    sites = candidates_from_buildings(frame, min_area_m2=2000, fixed_cost=9, capacity=60)
    assert len(sites) == (frame["area_m2"] >= 2000).sum()
    assert {(s.fixed_cost, s.capacity) for s in sites} == {(9, 60)}


def test_bbox_and_bad_sources(tmp_path):
    whole = read_buildings("demo")
    part = read_buildings("demo", bbox=(24.93, 60.16, 24.94, 60.17))
    assert 0 < len(part) < len(whole)
    with pytest.raises(AreaError, match="bbox"):
        read_buildings("demo", bbox=(24.94, 60.16, 24.93, 60.17))
    with pytest.raises(OsmFileError, match="no such file"):
        read_buildings(tmp_path / "missing.osm")
    junk = tmp_path / "junk.osm"
    junk.write_text("not osm at all")
    with pytest.raises(OsmFileError, match="cannot be read"):
        read_buildings(junk)


@pytest.mark.shared
def test_beijing_campus_dormitories(shared_dir):
    frame = read_buildings(shared_dir / "data/osm/beijing_tsinghua_pku_campus.osm")
    dorms = frame[frame["building"] == "dormitory"]
    assert len(dorms) >= 10
    demand = demand_from_buildings(frame)
    assert sum(d.parcels for d in demand) > 0
    names = [n for n in frame["name"] if isinstance(n, str)]
    assert any("\u4e00" <= ch <= "\u9fff" for name in names for ch in name)


def test_candidates_stand_at_mapped_entrances_else_at_centroids():
    import shapely

    frame = read_buildings("demo")
    door = frame["entrance"].notna()
    assert door.sum() >= 50 and (~door).sum() >= 50  # the demo maps doors on some buildings
    assert set(frame.loc[door, "entrance"]) <= {"main", "yes", "secondary", "staircase", "shop"}
    for row in frame[door].itertuples():  # the door is a node of the building's outline
        assert row.geometry.boundary.distance(shapely.Point(row.site_lon, row.site_lat)) < 1e-9
    plain = frame[~door]
    assert (plain["site_lat"] == plain["lat"]).all() and (plain["site_lon"] == plain["lon"]).all()
    sites = {s.id: s for s in candidates_from_buildings(frame, min_area_m2=0)}
    for row in frame.itertuples():
        assert (sites[f"site-b{row.osm_ref}"].lat, sites[f"site-b{row.osm_ref}"].lon) == (
            row.site_lat,
            row.site_lon,
        )
