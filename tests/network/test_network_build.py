"""Graph building: profiles, tags, clipping, repair, connectivity, bad input, cache."""

from __future__ import annotations

import bz2
import gzip
import pickle
from pathlib import Path

import networkx as nx
import pytest
import shapely

from network._assemble import assemble
from network._osm import Way
from network.errors import AreaError, NoRoadsError, OsmFileError, ProfileError
from network.graph import build_graph, build_graph_online, check_osm_file, graph_from_osmnx
from network.profiles import get_profile, parse_maxspeed

TINY = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
 <bounds minlat="31.0000" minlon="121.0000" maxlat="31.0100" maxlon="121.0100"/>
 <node id="1" lat="31.0010" lon="121.0010"/>
 <node id="2" lat="31.0010" lon="121.0050"/>
 <node id="3" lat="31.0050" lon="121.0050"/>
 <node id="4" lat="31.0050" lon="121.0010"/>
 <node id="5" lat="31.0500" lon="121.0010"/>
 <way id="10"><nd ref="1"/><nd ref="2"/>
  <tag k="highway" v="primary"/>
  <tag k="name" v="南京路"/></way>
 <way id="11"><nd ref="2"/><nd ref="3"/>
  <tag k="highway" v="residential"/>
  <tag k="oneway" v="-1"/></way>
 <way id="12"><nd ref="3"/><nd ref="4"/><nd ref="99"/>
  <tag k="highway" v="residential"/>
  <tag k="oneway" v="-1"/></way>
 <way id="13"><nd ref="4"/><nd ref="1"/>
  <tag k="highway" v="service"/>
  <tag k="maxspeed" v="10"/></way>
 <way id="14"><nd ref="4"/><nd ref="5"/><tag k="highway" v="primary"/></way>
 <way id="15"><nd ref="1"/><nd ref="3"/><tag k="highway" v="footway"/></way>
 <way id="16"><nd ref="2"/><nd ref="4"/>
  <tag k="highway" v="service"/>
  <tag k="access" v="private"/></way>
 <way id="17"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/><tag k="building" v="yes"/></way>
</osm>
"""


@pytest.fixture()
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.osm"
    path.write_text(TINY, encoding="utf-8")
    return path


def _arcs(graph: nx.MultiDiGraph) -> set[tuple[int, int]]:
    return {(u, v) for u, v in graph.edges()}


def test_demo_graph_meets_the_contract(demo_van: nx.MultiDiGraph) -> None:
    assert demo_van.graph["crs"] == "epsg:4326" and demo_van.graph["profile"] == "van"
    assert nx.is_strongly_connected(demo_van)
    report = demo_van.graph["report"]
    assert report["nodes"] == demo_van.number_of_nodes() > 1000
    assert report["scc_nodes_dropped"] > 0 and report["missing_node_refs_repaired"] > 0
    for _, data in demo_van.nodes(data=True):
        assert 24.9 < data["x"] < 25.0 and 60.1 < data["y"] < 60.2
    for _, _, data in demo_van.edges(data=True):
        assert data["length"] >= 0 and data["travel_time"] >= 0 and data["highway"]
        assert data["highway"] not in ("footway", "steps", "pedestrian", "construction")


def test_walk_ignores_oneway_van_respects_it(demo_van, demo_walk) -> None:
    van_arcs, walk_arcs = _arcs(demo_van), _arcs(demo_walk)
    assert all((v, u) in walk_arcs for u, v in walk_arcs)
    one_way = [(u, v) for u, v in van_arcs if (v, u) not in van_arcs]
    assert len(one_way) > 50
    assert demo_walk.number_of_nodes() > demo_van.number_of_nodes()


def test_tiny_file_tags_oneway_access_maxspeed_and_repair(tiny: Path) -> None:
    van = build_graph(tiny, profile="van")
    arcs = _arcs(van)
    assert (3, 2) in arcs and (2, 3) not in arcs  # oneway=-1 runs against the node order
    assert (4, 3) in arcs and (3, 4) not in arcs  # the missing node 99 is cut off, not fatal
    assert (2, 4) not in arcs and (1, 3) not in arcs  # access=private, footway
    assert 5 not in van  # outside <bounds>
    edge = van.edges[4, 1, 0]
    assert edge["speed_kph"] == 10 and edge["travel_time"] == pytest.approx(
        edge["length"] / (10 / 3.6), abs=1e-3
    )
    assert van.edges[1, 2, 0]["name"] == "南京路"
    report = van.graph["report"]
    assert report["missing_node_refs_repaired"] == 1 and report["nodes_outside_area"] == 1
    walk = build_graph(tiny, profile="walk")
    assert (1, 3) in _arcs(walk) and (2, 3) in _arcs(walk)


def test_segments_crossing_the_area_are_cut_at_its_boundary(tiny: Path) -> None:
    whole = build_graph(tiny, profile="walk")
    cut = build_graph(tiny, profile="walk", bbox=(121.0, 31.0, 121.003, 31.01))
    [boundary_node] = [v for v in cut[1] if v < 0 and cut.edges[1, v, 0]["highway"] == "primary"]
    assert cut.nodes[boundary_node]["x"] == pytest.approx(121.003)
    assert cut.nodes[boundary_node]["y"] == pytest.approx(31.001)
    part, full = cut.edges[1, boundary_node, 0], whole.edges[1, 2, 0]
    assert part["length"] == pytest.approx(full["length"] / 2, rel=1e-3)
    assert part["travel_time"] == pytest.approx(full["travel_time"] / 2, rel=1e-3)
    assert cut.has_edge(boundary_node, 1) and nx.is_strongly_connected(cut)


def test_compressed_xml_reads_the_same(tiny: Path, tmp_path: Path) -> None:
    plain = build_graph(tiny)
    for suffix, opener in ((".osm.gz", gzip.open), (".osm.bz2", bz2.open)):
        path = tmp_path / f"tiny{suffix}"
        with opener(path, "wb") as handle:
            handle.write(tiny.read_bytes())
        assert _arcs(build_graph(path)) == _arcs(plain)


def test_bbox_and_polygon_clip(demo_walk: nx.MultiDiGraph) -> None:
    bbox = (24.940, 60.165, 24.948, 60.172)
    graph = build_graph("demo", profile="walk", bbox=bbox)
    assert 0 < graph.number_of_nodes() < demo_walk.number_of_nodes()
    assert nx.is_strongly_connected(graph)
    for _, data in graph.nodes(data=True):
        assert bbox[0] <= data["x"] <= bbox[2] and bbox[1] <= data["y"] <= bbox[3]
    triangle = shapely.Polygon([(24.940, 60.165), (24.948, 60.165), (24.944, 60.172)])
    clipped = build_graph("demo", profile="walk", polygon=triangle)
    assert 0 < clipped.number_of_nodes() < graph.number_of_nodes()
    around = triangle.buffer(1e-7)  # cut points lie on the boundary itself
    assert all(around.contains(shapely.Point(d["x"], d["y"])) for _, d in clipped.nodes(data=True))
    assert clipped.graph["report"]["edges_cut_at_boundary"] > 0


def test_profiles_and_speeds() -> None:
    van, tricycle = get_profile("van"), get_profile("e-tricycle")
    assert not tricycle.allows({"highway": "motorway"}) and not tricycle.allows(
        {"highway": "trunk"}
    )
    assert tricycle.allows({"highway": "service", "motor_vehicle": "no"})
    assert not van.allows({"highway": "service", "motor_vehicle": "no"})
    assert van.allows({"highway": "service", "access": "no", "motor_vehicle": "delivery"})
    assert not van.allows({"highway": "residential", "access": "private"})
    assert van.speed_kmh({"highway": "primary", "maxspeed": "60"}) == 60
    assert tricycle.speed_kmh({"highway": "primary", "maxspeed": "60"}) == 25
    assert van.directions({"highway": "primary", "junction": "roundabout"}) == (True, False)
    assert get_profile("walk").directions({"highway": "primary", "oneway": "yes"}) == (True, True)
    assert parse_maxspeed("30 mph") == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed("50;40") == 40 and parse_maxspeed("CN:urban") is None
    faster = get_profile("van", {"residential": 40})
    assert faster.speeds_kmh["residential"] == 40 and van.speeds_kmh["residential"] == 20
    with pytest.raises(ProfileError, match="residential"):
        get_profile("van", {"residential": -5})
    with pytest.raises(ProfileError, match="bike"):
        get_profile("bike")


def test_speed_override_changes_travel_times(tiny: Path) -> None:
    slow = build_graph(tiny)
    fast = build_graph(tiny, speeds_kmh={"primary": 80})
    assert fast.edges[1, 2, 0]["travel_time"] < slow.edges[1, 2, 0]["travel_time"]


def test_one_override_keeps_the_vehicle_cap_on_every_other_class() -> None:
    tricycle = get_profile("e-tricycle", {"cycleway": 45, "primary": 10})
    assert tricycle.speed_kmh({"highway": "secondary", "maxspeed": "40"}) == 25  # still capped
    assert tricycle.speed_kmh({"highway": "cycleway"}) == 45  # the speed asked for
    assert tricycle.speed_kmh({"highway": "cycleway", "maxspeed": "60"}) == 45
    assert tricycle.speed_kmh({"highway": "cycleway", "maxspeed": "30"}) == 30  # posted is lower
    assert tricycle.speed_kmh({"highway": "primary", "maxspeed": "40"}) == 10  # slower than cap
    assert get_profile("walk", {"footway": 7}).speed_kmh({"highway": "footway"}) == 7


def test_an_override_equal_to_the_default_is_its_own_cache_entry(
    tmp_path: Path, tiny: Path
) -> None:
    tiny.write_text(TINY.replace('k="maxspeed" v="10"', 'k="maxspeed" v="20"'), encoding="utf-8")
    cache = tmp_path / "cache"
    plain = build_graph(tiny, profile="e-tricycle", cache_dir=cache)
    asked = build_graph(tiny, profile="e-tricycle", cache_dir=cache, speeds_kmh={"service": 12})
    assert plain.edges[4, 1, 0]["speed_kph"] == 20  # posted 20, under the 25 km/h cap
    assert asked.graph["cache"] == "miss" and asked.edges[4, 1, 0]["speed_kph"] == 12


@pytest.mark.parametrize(
    ("speeds", "match"),
    [
        ({"primary": True}, "highway 'primary'.*got True"),
        ([("primary", 30)], "speeds_kmh must map .* got list"),
        ({3: 30}, "speeds_kmh key 3"),
    ],
)
def test_bad_speed_overrides_are_refused(speeds: object, match: str) -> None:
    with pytest.raises(ProfileError, match=match):
        get_profile("van", speeds)


def test_file_endings_are_read_in_any_case(tmp_path: Path, tiny: Path) -> None:
    from network.buildings import read_buildings

    upper = tmp_path / "TINY.OSM"
    upper.write_bytes(tiny.read_bytes())
    assert _arcs(build_graph(upper)) == _arcs(build_graph(tiny))
    assert len(read_buildings(upper)) == 1
    gz = tmp_path / "TINY.OSM.GZ"
    gz.write_bytes(gzip.compress(tiny.read_bytes()))
    assert _arcs(build_graph(gz)) == _arcs(build_graph(tiny))


def test_a_buildings_reference_is_its_osm_object(tmp_path: Path, tiny: Path) -> None:
    """It was osmium's area id (way 17 read as 34), which names another object on OSM."""
    from network.buildings import read_buildings

    relation = (
        '<relation id="21"><member type="way" ref="18" role="outer"/>'
        '<tag k="type" v="multipolygon"/><tag k="building" v="office"/></relation>\n'
        '<way id="18"><nd ref="1"/><nd ref="2"/><nd ref="4"/><nd ref="1"/></way>\n</osm>'
    )
    both = tmp_path / "both.osm"
    both.write_text(tiny.read_text(encoding="utf-8").replace("</osm>", relation), "utf-8")
    assert sorted(read_buildings(both)["osm_ref"]) == ["r21", "w17"]


def test_assemble_splits_way_at_missing_nodes() -> None:
    coords = {1: (0.0, 0.0), 2: (0.001, 0.0), 3: (0.003, 0.0), 4: (0.004, 0.0)}
    graph, counts = assemble(
        coords, [Way(1, {"highway": "residential"}, [1, 2, None, 3, 4])], get_profile("van")
    )
    assert _arcs(graph) == {(1, 2), (2, 1), (3, 4), (4, 3)}
    assert counts["ways_kept"] == 1


@pytest.mark.parametrize(
    ("content", "suffix", "match"),
    [
        (b"hello world", ".osm", "cannot be read"),
        (TINY.encode()[:400], ".osm", "cannot be read"),
        (b"", ".osm.pbf", "cannot be read|no OSM nodes"),
        (b"{}", ".json", "unknown file type"),
    ],
)
def test_bad_files(tmp_path: Path, content: bytes, suffix: str, match: str) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    with pytest.raises(OsmFileError, match=match):
        build_graph(path)


def test_a_file_is_checked_by_name_as_the_builder_reads_it(tmp_path: Path) -> None:
    named = tmp_path / "CITY.OSM.PBF"  # any letter case, as the builder reads it
    named.write_bytes(b"not read: only the name and presence are checked")
    check_osm_file(named)
    other = tmp_path / "city.json"
    other.touch()
    with pytest.raises(OsmFileError, match="unknown file type"):
        check_osm_file(other)
    with pytest.raises(OsmFileError, match="no such file"):
        check_osm_file(tmp_path / "absent.osm")


def test_truncated_pbf(tmp_path: Path) -> None:
    from network.graph import demo_path

    path = tmp_path / "cut.osm.pbf"
    path.write_bytes(demo_path().read_bytes()[:50_000])
    with pytest.raises(OsmFileError, match=r"cut\.osm\.pbf"):
        build_graph(path)


def test_missing_file_no_roads_and_bad_areas(tmp_path: Path, tiny: Path) -> None:
    with pytest.raises(OsmFileError, match="no such file"):
        build_graph(tmp_path / "absent.osm")
    only_buildings = tmp_path / "buildings.osm"
    only_buildings.write_text(TINY.replace('k="highway"', 'k="building"'), encoding="utf-8")
    with pytest.raises(NoRoadsError, match="profile 'van'"):
        build_graph(only_buildings)
    with pytest.raises(AreaError, match="holds none of the roads"):
        build_graph(tiny, bbox=(10.0, 10.0, 11.0, 11.0))
    with pytest.raises(AreaError, match="W<E"):
        build_graph(tiny, bbox=(121.01, 31.0, 121.0, 31.01))
    with pytest.raises(AreaError, match="finite"):
        build_graph(tiny, bbox=(float("nan"), 31.0, 121.0, 31.01))
    with pytest.raises(OsmFileError, match="synthetic:N"):
        build_graph("synthetic:many")


def test_cache_hit_invalidation_and_nothing_written_on_error(tmp_path: Path, tiny: Path) -> None:
    cache = tmp_path / "cache"
    first = build_graph(tiny, cache_dir=cache)
    assert first.graph["cache"] == "miss"
    again = build_graph(tiny, cache_dir=cache)
    assert again.graph["cache"] == "hit" and _arcs(again) == _arcs(first)
    assert build_graph(tiny, cache_dir=cache, profile="walk").graph["cache"] == "miss"
    tiny.write_text(TINY.replace('v="南京路"', 'v="南京东路"'), encoding="utf-8")
    changed = build_graph(tiny, cache_dir=cache)
    assert changed.graph["cache"] == "miss" and changed.edges[1, 2, 0]["name"] == "南京东路"
    entries = sorted(p.name for p in cache.iterdir())
    with pytest.raises(AreaError):
        build_graph(tiny, cache_dir=cache, bbox=(10.0, 10.0, 11.0, 11.0))
    assert sorted(p.name for p in cache.iterdir()) == entries
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]


def test_cache_hit_names_the_current_file_and_cache_folder(tmp_path: Path, tiny: Path) -> None:
    build_graph(tiny, cache_dir=tmp_path / "old")
    moved = tmp_path / "new"
    (tmp_path / "old").rename(moved)
    renamed = tmp_path / "renamed.osm"
    renamed.write_bytes(tiny.read_bytes())
    hit = build_graph(renamed, cache_dir=moved)
    assert hit.graph["cache"] == "hit" and hit.graph["source"] == str(renamed)
    assert Path(hit.graph["index_file"]).parent == moved


@pytest.mark.parametrize(
    "entry",
    [
        b"cnonexistent_module_xyz\nGraph\n)R.",  # a class gone after a library upgrade
        pickle.dumps({"not": "a graph"}),
        b"\x80\x05\x95",  # cut short
    ],
)
def test_unreadable_cache_entry_is_rebuilt(tmp_path: Path, tiny: Path, entry: bytes) -> None:
    cache = tmp_path / "cache"
    first = build_graph(tiny, cache_dir=cache)
    for path in cache.glob("graph-*.pickle"):
        path.write_bytes(entry)
    again = build_graph(tiny, cache_dir=cache)
    assert again.graph["cache"] == "miss" and _arcs(again) == _arcs(first)
    assert build_graph(tiny, cache_dir=cache).graph["cache"] == "hit"  # and stored afresh


def test_osmnx_graph_gets_the_same_rules(tmp_path: Path) -> None:
    import osmnx as ox

    whole = tmp_path / "whole.osm"  # osmnx fails on ways whose nodes the file lacks: none here
    whole.write_text(TINY.replace('<nd ref="99"/>', ""), encoding="utf-8")
    raw = ox.graph_from_xml(whole, simplify=False, retain_all=True)
    for profile in ("van", "walk"):
        via_osmnx = graph_from_osmnx(raw, profile=profile, bbox=(121.0, 31.0, 121.01, 31.01))
        direct = build_graph(whole, profile=profile)
        assert _arcs(via_osmnx) == _arcs(direct)
        for u, v, k, data in direct.edges(keys=True, data=True):
            assert via_osmnx.edges[u, v, k]["travel_time"] == data["travel_time"]


def test_online_build_applies_the_profile_to_what_osmnx_downloads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import osmnx as ox

    whole = tmp_path / "whole.osm"
    whole.write_text(TINY.replace('<nd ref="99"/>', ""), encoding="utf-8")
    asked = {}

    def from_place(place: str, **options: object) -> object:  # stands in for the Overpass download
        asked.update(place=place, tags=list(ox.settings.useful_tags_way), **options)
        asked["all_oneway"] = ox.settings.all_oneway
        return ox.graph_from_xml(whole, simplify=False, retain_all=True)

    monkeypatch.setattr(ox, "graph_from_place", from_place)
    saved = list(ox.settings.useful_tags_way)
    online = build_graph_online("市南区, 青岛市", profile="van")
    assert asked["place"] == "市南区, 青岛市" and asked["simplify"] is False
    assert "motor_vehicle" in asked["tags"] and ox.settings.useful_tags_way == saved
    assert asked["all_oneway"] is True and ox.settings.all_oneway is False  # tags kept, then reset
    assert online.graph["source"] == "市南区, 青岛市"
    raw = ox.graph_from_xml(whole, simplify=False, retain_all=True)
    assert _arcs(online) == _arcs(graph_from_osmnx(raw, profile="van")) != set()
    with pytest.raises(AreaError, match="place name or a bbox"):
        build_graph_online()
