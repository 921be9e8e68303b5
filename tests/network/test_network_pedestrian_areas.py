"""Highway areas (`area=yes`: squares, pedestrian streets mapped as their outline): walkers go
round them and straight across between the nodes where paths meet them; vehicles keep off."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import pytest
import shapely

from network.geo import haversine_m
from network.graph import build_graph

AREA = 100  # the area's way id in every map here
# A 100 x 100 unit square (a unit is 1e-5 degrees, about 1 m) with a door in the middle of its
# west and east sides, and a footway from each door out to a far end 100 units away.
SQUARE = {1: (0, 0), 2: (0, 100), 3: (100, 100), 4: (100, 0), 5: (0, 50), 6: (100, 50)}
SQUARE_RING = [1, 5, 2, 3, 6, 4, 1]
FAR_ENDS = {7: (-100, 50), 8: (200, 50)}


def _coords(x: float, y: float) -> tuple[float, float]:
    """(lon, lat) of a point `x` units east and `y` units north of (121.0, 31.0)."""
    return 121 + x * 1e-5, 31 + y * 1e-5


def _osm(folder: Path, nodes: dict[int, tuple[float, float]], ways: list[tuple]) -> Path:
    """An OSM XML file (no <bounds>: the whole file is the map) of nodes at grid points and
    ways given as (id, node ids, tags)."""
    body = "".join(
        f' <node id="{i}" lon="{lon:.7f}" lat="{lat:.7f}"/>\n'
        for i, (lon, lat) in ((i, _coords(*xy)) for i, xy in nodes.items())
    )
    for way_id, refs, tags in ways:
        nds = "".join(f'<nd ref="{ref}"/>' for ref in refs)
        kvs = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        body += f' <way id="{way_id}">{nds}{kvs}</way>\n'
    path = folder / "map.osm"
    path.write_text(f'<?xml version="1.0"?>\n<osm version="0.6">\n{body}</osm>\n', "utf-8")
    return path


def _square_map(
    folder: Path,
    area_tags: dict[str, str],
    doors: dict[str, str] | None = None,
    extra: dict[int, tuple[float, float]] | None = None,
    streets: tuple[tuple, ...] = (),
) -> Path:
    """The square as an area, a way from each of its doors to a far end (footways unless
    `doors` gives their tags), and `streets` through the `extra` nodes."""
    tags = doors or {"highway": "footway"}
    return _osm(
        folder,
        {**SQUARE, **FAR_ENDS, **(extra or {})},
        [(AREA, SQUARE_RING, area_tags), (201, [7, 5], tags), (202, [6, 8], tags), *streets],
    )


def _metres(graph: nx.MultiDiGraph, *path: int) -> float:
    """The great-circle length along the nodes of `path`."""
    lat, lon = zip(*[(graph.nodes[n]["y"], graph.nodes[n]["x"]) for n in path], strict=True)
    return float(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum())


def _walk_m(graph: nx.MultiDiGraph, a: int, b: int) -> float:
    return nx.shortest_path_length(graph, a, b, weight="length")


def _area_edges(graph: nx.MultiDiGraph) -> list[tuple[int, int]]:
    return [(u, v) for u, v, osmid in graph.edges(data="osmid") if osmid == AREA]


def test_a_walker_crosses_a_pedestrian_square_straight_between_the_footways(
    tmp_path: Path,
) -> None:
    path = _square_map(tmp_path, {"highway": "pedestrian", "area": "yes"})
    walk = build_graph(path, profile="walk")
    straight = _metres(walk, 7, 5, 6, 8)
    assert _walk_m(walk, 7, 8) == pytest.approx(straight, abs=0.005)
    assert straight + 90 < _metres(walk, 7, 5, 2, 3, 6, 8)  # the way round: 100 units longer
    crossing = walk.edges[5, 6, 0]
    assert crossing["highway"] == "pedestrian" and crossing["speed_kph"] == 4.8
    assert crossing["travel_time"] == round(crossing["length"] / (4.8 / 3.6), 3)
    assert set(SQUARE) <= set(walk.nodes)  # the outline is walked too
    assert walk.graph["report"]["area_crossings"] == 1


def test_walkers_cross_a_living_street_area_that_vehicles_may_not_drive(tmp_path: Path) -> None:
    """Streets lead to the doors from both sides, but a van or an e-tricycle takes the street
    round to the south; only the walker crosses."""
    path = _square_map(
        tmp_path,
        {"highway": "living_street", "area": "yes"},
        doors={"highway": "residential"},
        extra={9: (-100, -100), 10: (200, -100)},
        streets=((203, [7, 9, 10, 8], {"highway": "residential"}),),
    )
    walk = build_graph(path, profile="walk")
    assert _walk_m(walk, 7, 8) == pytest.approx(_metres(walk, 7, 5, 6, 8), abs=0.005)
    for profile in ("van", "e-tricycle"):
        graph = build_graph(path, profile=profile)
        assert _area_edges(graph) == [] and not {1, 2, 3, 4} & set(graph.nodes)
        assert _walk_m(graph, 7, 8) == pytest.approx(_metres(graph, 7, 9, 10, 8), abs=0.005)


def test_an_l_shaped_square_gets_no_crossing_over_its_notch(tmp_path: Path) -> None:
    """Doors at the ends of both arms (3, 7) and at the inner corner (5): the straight line
    from arm to arm runs outside, over the notch, so the walk bends at the inner corner."""
    l_shape = {
        1: (0, 0), 2: (200, 0), 3: (200, 50), 4: (200, 100), 5: (100, 100), 6: (100, 200),
        7: (50, 200), 8: (0, 200), 9: (300, 50), 10: (50, 300), 11: (150, 150),
    }  # fmt: skip
    path = _osm(
        tmp_path,
        l_shape,
        [(AREA, [1, 2, 3, 4, 5, 6, 7, 8, 1], {"highway": "pedestrian", "area": "yes"}),
         (201, [9, 3], {"highway": "footway"}), (202, [7, 10], {"highway": "footway"}),
         (203, [5, 11], {"highway": "footway"})],
    )  # fmt: skip
    walk = build_graph(path, profile="walk")
    assert _walk_m(walk, 9, 10) == pytest.approx(_metres(walk, 9, 3, 5, 7, 10), abs=0.005)
    assert not walk.has_edge(3, 7) and not walk.has_edge(7, 3)
    polygon = shapely.Polygon([_coords(*l_shape[n]) for n in range(1, 9)]).buffer(1e-9)
    for u, v in _area_edges(walk):
        line = shapely.LineString([(walk.nodes[n]["x"], walk.nodes[n]["y"]) for n in (u, v)])
        assert polygon.covers(line), (u, v)


def test_a_bbox_through_the_square_keeps_the_part_of_the_crossing_inside(tmp_path: Path) -> None:
    """The bbox ends halfway across: the crossing is cut there like any road, and nothing of
    the eastern half or its footway is kept."""
    path = _square_map(tmp_path, {"highway": "pedestrian", "area": "yes"})
    west, south = _coords(-150, -50)
    east, north = _coords(50, 150)
    walk = build_graph(path, profile="walk", bbox=(west, south, east, north))
    box = shapely.box(west, south, east, north)
    assert all(box.covers(shapely.Point(d["x"], d["y"])) for _, d in walk.nodes(data=True))
    assert not {3, 4, 6, 8} & set(walk.nodes)
    (cut,) = [v for v in walk.successors(5) if v < 0]  # the one new node, where the bbox ends
    assert (walk.nodes[cut]["x"], walk.nodes[cut]["y"]) == pytest.approx(_coords(50, 50), abs=1e-9)
    assert walk.edges[5, cut, 0]["osmid"] == AREA
    assert _walk_m(walk, 7, cut) == pytest.approx(_metres(walk, 7, 5, cut), abs=0.005)


def test_only_the_first_30_doors_of_a_round_square_are_joined_across(tmp_path: Path) -> None:
    """40 footways meet a round (convex) square: every pair of the first 30 doors in ring
    order not already neighbours on the outline is joined, and the last 10 only by the outline."""
    angles = {i: i * math.pi / 20 for i in range(1, 41)}
    ring = {i: (100 * math.cos(a), 100 * math.sin(a)) for i, a in angles.items()}
    stubs = {100 + i: (1.5 * x, 1.5 * y) for i, (x, y) in ring.items()}
    path = _osm(
        tmp_path,
        {**ring, **stubs},
        [(AREA, [*ring, 1], {"highway": "pedestrian", "area": "yes"}),
         *((200 + i, [i, 100 + i], {"highway": "footway"}) for i in ring)],
    )  # fmt: skip
    walk = build_graph(path, profile="walk")
    assert walk.graph["report"]["area_crossings"] == 30 * 29 // 2 - 29
    across = {frozenset(pair) for pair in _area_edges(walk)} - {
        frozenset((i, i % 40 + 1)) for i in ring
    }
    assert set().union(*across) == set(range(1, 31))
