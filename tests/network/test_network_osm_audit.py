"""Audit of how OSM extracts are read (notes/osmfmt #1, #2, #4, #6, #7, #9-#13): JOSM files (new
objects with negative ids, deleted objects), Overpass files listing ways before nodes, separate
road networks, tag values, files named for another format, and the cache's type check."""

from __future__ import annotations

import gzip
import json
import logging
import shutil
from pathlib import Path

import networkx as nx
import pytest

from network.buildings import read_buildings
from network.errors import OsmFileError, SnapError
from network.graph import build_graph, check_osm_file, demo_path
from network.profiles import get_profile, parse_maxspeed
from network.snap import snap_points
from routing.model import Location
from routing.siting.errors import SitingInputError
from routing.siting.native import read_native
from routing.travel import matrices_for


def _node(osm_id: int, row: float, col: float, attrs: str = "") -> str:
    """A node on a grid of 0.001 degrees (about 100 m) from (31.0, 121.0)."""
    return f' <node id="{osm_id}" lat="{31 + row / 1000}" lon="{121 + col / 1000}"{attrs}/>\n'


def _way(osm_id: int, refs: list[int], tags: dict[str, str], attrs: str = "") -> str:
    nds = "".join(f'<nd ref="{ref}"/>' for ref in refs)
    kvs = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
    return f' <way id="{osm_id}"{attrs}>{nds}{kvs}</way>\n'


def _osm(folder: Path, body: str, *, name: str = "map.osm", generator: str = "test") -> Path:
    """An OSM XML file of `body` (no <bounds>: the whole file is the map)."""
    path = folder / name
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<osm version="0.6" generator="{generator}">\n{body}</osm>\n',
        encoding="utf-8",
    )
    return path


def _square(ids: list[int], way_id: int, row: float = 0, attrs: str = "") -> tuple[str, str]:
    """(nodes, way): a closed two-way residential loop through four nodes 100 m apart."""
    corners = [(row, 0), (row, 1), (row + 1, 1), (row + 1, 0)]
    nodes = "".join(_node(i, r, c, attrs) for i, (r, c) in zip(ids, corners, strict=True))
    return nodes, _way(way_id, [*ids, ids[0]], {"highway": "residential"}, attrs)


def _building(ids: list[int], way_id: int, row: float, attrs: str = "") -> str:
    """A 100 m x 100 m `building=office` footprint with its four nodes."""
    nodes, way = _square(ids, way_id, row, attrs)
    return nodes + way.replace('k="highway" v="residential"', 'k="building" v="office"')


def _osmids(graph: nx.MultiDiGraph) -> set[int]:
    return {data["osmid"] for *_, data in graph.edges(data=True)}


# --- #1: JOSM's new objects (negative ids) ---------------------------------------------------


def test_a_road_drawn_in_josm_with_negative_ids_keeps_its_nodes(tmp_path: Path) -> None:
    nodes, way = _square([-1, -2, -3, -4], -10, attrs=' action="modify" visible="true"')
    graph = build_graph(_osm(tmp_path, nodes + way, generator="JOSM"), profile="van")
    assert sorted(graph.nodes) == [-4, -3, -2, -1] and graph.number_of_edges() == 8
    assert graph.graph["report"]["missing_node_refs_repaired"] == 0


def test_a_new_node_added_in_josm_to_an_uploaded_road_is_kept(tmp_path: Path) -> None:
    nodes, _ = _square([1, 2, 3, 4], 10)
    mid = _node(-1, 0, 0.5, ' action="modify"')
    way = _way(10, [1, -1, 2, 3, 4, 1], {"highway": "residential"}, ' action="modify"')
    graph = build_graph(_osm(tmp_path, nodes + mid + way, generator="JOSM"), profile="van")
    assert sorted(graph.nodes) == [-1, 1, 2, 3, 4] and graph.number_of_edges() == 10


def test_a_building_drawn_in_josm_is_read_with_its_negative_id(tmp_path: Path) -> None:
    body = _building([-1, -2, -3, -4], -5, 0, ' action="modify"')
    frame = read_buildings(_osm(tmp_path, body, generator="JOSM"))
    assert list(frame["osm_ref"]) == ["w-5"]
    assert frame["area_m2"].iloc[0] == pytest.approx(111 * 95, rel=0.02)  # 0.001 deg at 31 N


# --- #2: deleted objects ---------------------------------------------------------------------

DELETED = {"visible": ' visible="false" version="2"', "JOSM action": ' action="delete"'}


@pytest.mark.parametrize("mark", DELETED.values(), ids=list(DELETED))
def test_a_deleted_road_is_not_routed(tmp_path: Path, mark: str) -> None:
    nodes, way = _square([1, 2, 3, 4], 10)
    diagonal = _way(11, [1, 3], {"highway": "primary"}, mark)
    graph = build_graph(_osm(tmp_path, nodes + way + diagonal, generator="JOSM"), profile="van")
    assert _osmids(graph) == {10}


@pytest.mark.parametrize("mark", DELETED.values(), ids=list(DELETED))
def test_a_deleted_building_is_not_read(tmp_path: Path, mark: str) -> None:
    body = _building([1, 2, 3, 4], 10, 0) + _building([5, 6, 7, 8], 20, 3, mark)
    frame = read_buildings(_osm(tmp_path, body, generator="JOSM"))
    assert list(frame["osm_ref"]) == ["w10"]


# --- #4: motorroad=yes -------------------------------------------------------------------------


def test_a_motorroad_is_closed_to_walkers_unless_foot_is_tagged() -> None:
    walk, tags = get_profile("walk"), {"highway": "primary", "motorroad": "yes"}
    assert not walk.allows(tags)
    assert not walk.allows({**tags, "access": "yes"})  # a general key does not open it
    assert walk.allows({**tags, "foot": "yes"}) and not walk.allows({**tags, "foot": "no"})


def test_a_motorroad_is_closed_to_e_tricycles_and_open_to_vans() -> None:
    tags = {"highway": "primary_link", "motorroad": "yes"}
    assert not get_profile("e-tricycle").allows(tags)
    assert get_profile("e-tricycle").allows({**tags, "vehicle": "yes"})
    assert get_profile("van").allows(tags)


@pytest.mark.shared
def test_nanjing_expressway_ramps_carry_no_walk_edge(shared_dir: Path) -> None:
    graph = build_graph(shared_dir / "data/osm/nanjing_xinjiekou_cbd.osm", profile="walk")
    assert not _osmids(graph) & {155882970, 155882973, 155882977, 155882991}


# --- #6: ways before nodes (Overpass's `out; >; out skel;`) ----------------------------------


def test_a_file_listing_ways_before_their_nodes_is_read(tmp_path: Path) -> None:
    nodes, way = _square([1, 2, 3, 4], 10)
    graph = build_graph(_osm(tmp_path, way + nodes), profile="van")
    assert sorted(graph.nodes) == [1, 2, 3, 4] and graph.number_of_edges() == 8
    building = _building([5, 6, 7, 8], 20, 3)
    ways_first = building[building.index(" <way") :] + building[: building.index(" <way")]
    assert list(read_buildings(_osm(tmp_path, ways_first, name="b.osm"))["osm_ref"]) == ["w20"]


# --- #7: separate road networks --------------------------------------------------------------


def _two_networks(folder: Path) -> Path:
    """A loop of six nodes and, 5 km north, a separate loop of four."""
    six = "".join(_node(i, r, c) for i, (r, c) in enumerate([(0, 0), (0, 1), (0, 2), (1, 2),
                                                            (1, 1), (1, 0)], start=1))
    six += _way(10, [1, 2, 3, 4, 5, 6, 1], {"highway": "residential"})
    four, way = _square([11, 12, 13, 14], 20, row=50)
    return _osm(folder, six + four + way)


def test_the_share_of_the_map_dropped_as_unconnected_is_reported_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="gongpei.network"):
        graph = build_graph(_two_networks(tmp_path), profile="van", cache_dir=tmp_path / "c")
        hit = build_graph(_two_networks(tmp_path), profile="van", cache_dir=tmp_path / "c")
    assert graph.graph["report"]["scc_share_dropped"] == 0.4
    assert hit.graph["cache"] == "hit"
    told = [r for r in caplog.records if "dropped 40.0% of its road nodes (4 of 10)" in r.message]
    assert len(told) == 2 and {r.levelno for r in told} == {logging.WARNING}


def test_a_point_on_a_dropped_part_is_told_apart_from_one_off_the_map(tmp_path: Path) -> None:
    graph = build_graph(_two_networks(tmp_path), profile="van")
    with pytest.raises(SnapError, match=r"^point 'b': .* not connected to the rest"):
        snap_points(graph, [(31.05, 121.0)], labels=["b"])
    with pytest.raises(SnapError, match=r"^point 'c': .*\(off the map or in the sea\?\)$"):
        snap_points(graph, [(31.5, 121.0)], labels=["c"])


# --- #9: an off-map stop named by its item ----------------------------------------------------


def test_road_matrices_name_a_location_off_the_map_by_its_label(tmp_path: Path) -> None:
    nodes, way = _square([1, 2, 3, 4], 10)
    path = _osm(tmp_path, nodes + way)
    locations = [Location(lat=31.0, lon=121.0), Location(lat=31.2, lon=121.0)]
    # the matrices say why, and the problem refuses it where a task or a centre stands (the
    # firm audit's finding 3: tests/routing/test_routing_offmap_spare.py)
    van = matrices_for(locations, ["van"], network=str(path), labels=["centre hub", "job 777"])[
        "van"
    ]
    assert list(van.off_map) == [1]
    assert van.off_map[1].startswith("point 'job 777': (lat=31.2")


# --- #10, #11: file types -----------------------------------------------------------------------


def test_a_file_refused_by_its_name_is_refused_on_a_cache_hit_too(tmp_path: Path) -> None:
    nodes, way = _square([1, 2, 3, 4], 10)
    path = _osm(tmp_path, nodes + way)
    build_graph(path, profile="van", cache_dir=tmp_path / "cache")  # the same bytes, cached
    with pytest.raises(OsmFileError, match="map_noext': unknown file type"):
        build_graph(shutil.copy(path, tmp_path / "map_noext"), cache_dir=tmp_path / "cache")


def test_a_file_named_for_another_format_is_refused_in_one_line(tmp_path: Path) -> None:
    nodes, way = _square([1, 2, 3, 4], 10)
    xml = _osm(tmp_path, nodes + way)
    zipped = tmp_path / "gz.osm"
    zipped.write_bytes(gzip.compress(xml.read_bytes()))
    cases = {
        shutil.copy(demo_path(), tmp_path / "pbf.osm"): "PBF data, but its name's ending .osm "
        "says OSM XML; rename it to end in .osm.pbf",
        shutil.copy(xml, tmp_path / "xml.osm.pbf"): "OSM XML data, but its name's ending .osm.pbf "
        "says PBF; rename it to end in .osm",
        zipped: "gzip-compressed data, but its name's ending .osm says OSM XML; rename it to end "
        "in .osm.gz",
    }
    for path, says in cases.items():
        for read in (build_graph, read_buildings, check_osm_file):
            with pytest.raises(OsmFileError) as refused:
                read(path)
            assert str(refused.value) == f"OSM file '{path}': its content is {says}"


# --- #12: less common tag values ----------------------------------------------------------------


@pytest.mark.parametrize(("value", "way"), [("Yes", (True, False)), ("TRUE", (True, False)),
                                           (" yes", (True, False)), ("Reverse", (False, True))])
def test_oneway_is_read_in_any_letter_case(value: str, way: tuple[bool, bool]) -> None:
    assert get_profile("van").directions({"highway": "residential", "oneway": value}) == way


@pytest.mark.parametrize("value", ["reversible", "Reversible"])
def test_a_road_whose_direction_changes_is_closed_to_vehicles(value: str) -> None:
    tags = {"highway": "residential", "oneway": value}
    assert not get_profile("van").allows(tags) and not get_profile("e-tricycle").allows(tags)
    assert get_profile("walk").allows(tags)  # walkers keep to no one-way rule


def test_a_motorway_link_is_one_way_unless_tagged_two_way() -> None:
    van = get_profile("van")
    assert van.directions({"highway": "motorway_link"}) == (True, False)
    assert van.directions({"highway": "motorway_link", "oneway": "no"}) == (True, True)


@pytest.mark.parametrize(
    ("value", "kmh"),
    [("30 MPH", 48.28032), ("30 Mph", 48.28032), ("15 knots", 27.78), ("walk", 5.0),
     ("Walk", 5.0), ("walk;20", 5.0), ("40 KM/H", 40.0)],
)  # fmt: skip
def test_maxspeed_units_in_any_case_knots_and_walking_pace(value: str, kmh: float) -> None:
    assert parse_maxspeed(value) == pytest.approx(kmh)


# --- #13: siting from a map without buildings ----------------------------------------------------


def test_siting_from_the_buildings_of_a_map_with_none_says_so(tmp_path: Path) -> None:
    nodes, way = _square([1, 2, 3, 4], 10)
    _osm(tmp_path, nodes + way, name="roads.osm")
    spec = {"map": "roads.osm", "radius_m": 300, "demand": {"from_buildings": True},
            "candidates": {"from_buildings": True}}  # fmt: skip
    (tmp_path / "site.json").write_text(json.dumps(spec))
    with pytest.raises(SitingInputError) as refused:
        read_native(tmp_path / "site.json")
    assert str(refused.value) == (
        "native file 'site.json': from_buildings: the map 'roads.osm' holds no building "
        "footprints at all"
    )
