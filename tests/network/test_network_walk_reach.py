"""What the walk graph keeps and drops, and why (notes/helperB): it drops only what the map
leaves unconnected to the walked roads, or what the walk profile keeps walkers off, not
footways that meet the roads at a crossing node, a square's closing node or across a trunk.

The Nanjing extract loses 5.9 % of its walkable length in the clip area to the largest-part
rule (the 16 % of `scc_share_dropped` counts nodes): footway loops drawn round department
stores and metro underpasses from free-standing `subway_entrance` nodes, none sharing a node
with a walked way, and one pedestrian way that meets the roads only on a `motorroad=yes` ramp.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import osmium
import pytest
import shapely

from network.graph import build_graph
from network.profiles import get_profile


def _osm(
    folder: Path,
    nodes: dict[int, tuple[int, int]],
    ways: list[tuple],
    node_tags: dict[int, dict[str, str]] | None = None,
) -> Path:
    """An OSM XML file (no <bounds>) of nodes at (x, y) in units of 1e-5 degrees (about 1 m)
    east and north of (121.0, 31.0), some with tags, and ways given as (id, node ids, tags)."""
    body = ""
    for i, (x, y) in nodes.items():
        kvs = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in (node_tags or {}).get(i, {}).items())
        body += (
            f' <node id="{i}" lon="{121 + x * 1e-5:.7f}" lat="{31 + y * 1e-5:.7f}">{kvs}</node>\n'
        )
    for way_id, refs, tags in ways:
        nds = "".join(f'<nd ref="{ref}"/>' for ref in refs)
        kvs = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        body += f' <way id="{way_id}">{nds}{kvs}</way>\n'
    path = folder / "map.osm"
    path.write_text(f'<?xml version="1.0"?>\n<osm version="0.6">\n{body}</osm>\n', "utf-8")
    return path


def _walked(graph: nx.MultiDiGraph) -> set[int]:
    return {osmid for *_, osmid in graph.edges(data="osmid")}


# A street along y = 0 from x = 0 to 200 through node 2 at x = 100, and a footway loop north of
# it from node 2 (a tagged `highway=crossing` node of the street) and back.
STREET = {1: (0, 0), 2: (100, 0), 3: (200, 0)}
LOOP = {6: (100, 50), 7: (150, 50), 8: (150, 20)}


def test_a_footway_network_meeting_the_street_only_at_a_crossing_node_is_kept(
    tmp_path: Path,
) -> None:
    path = _osm(
        tmp_path,
        {**STREET, **LOOP},
        [(10, [1, 2, 3], {"highway": "residential"}),
         (20, [2, 6, 7, 8], {"highway": "footway"}), (21, [8, 2], {"highway": "footway"})],
        node_tags={2: {"highway": "crossing", "crossing": "traffic_signals"}},
    )  # fmt: skip
    walk = build_graph(path, profile="walk")
    assert _walked(walk) == {10, 20, 21} and walk.graph["report"]["components"] == 1


def test_sidewalks_either_side_of_a_trunk_road_join_by_the_crossing_not_the_trunk(
    tmp_path: Path,
) -> None:
    """An urban expressway (trunk) at y = 0, a sidewalk 10 units north and one 10 south, and a
    `footway=crossing` from one to the other through the trunk's node 2 (a signalled crossing):
    the walker crosses there and never walks along the trunk."""
    nodes = {**STREET, 11: (0, 10), 12: (100, 10), 13: (200, 10),
             21: (0, -10), 22: (100, -10), 23: (200, -10)}  # fmt: skip
    sidewalk = {"highway": "footway", "footway": "sidewalk"}
    path = _osm(
        tmp_path,
        nodes,
        [(10, [1, 2, 3], {"highway": "trunk"}), (30, [11, 12, 13], sidewalk),
         (31, [21, 22, 23], sidewalk),
         (32, [12, 2, 22], {"highway": "footway", "footway": "crossing"})],
    )  # fmt: skip
    walk = build_graph(path, profile="walk")
    assert _walked(walk) == {30, 31, 32}
    assert nx.shortest_path(walk, 13, 21, weight="length") == [13, 12, 2, 22, 21]


def test_footways_meeting_a_square_at_its_closing_node_are_joined_across_it(
    tmp_path: Path,
) -> None:
    """The square's way starts and ends at node 1 (its closing node), where one footway meets
    it; another meets the opposite corner 3. Both stay, joined straight across."""
    square = {1: (0, 0), 2: (100, 0), 3: (100, 100), 4: (0, 100), 5: (-100, 0), 6: (200, 100)}
    path = _osm(
        tmp_path,
        square,
        [(100, [1, 2, 3, 4, 1], {"highway": "pedestrian", "area": "yes"}),
         (201, [5, 1], {"highway": "footway"}), (202, [3, 6], {"highway": "footway"})],
    )  # fmt: skip
    walk = build_graph(path, profile="walk")
    assert _walked(walk) == {100, 201, 202} and walk.graph["report"]["area_crossings"] == 1
    assert nx.shortest_path(walk, 5, 6, weight="length") == [5, 1, 3, 6]


@pytest.mark.parametrize(("ramp_foot", "kept"), [(None, False), ("yes", True)])
def test_a_footway_reaching_the_streets_only_by_a_motorroad_ramp_goes_with_it(
    tmp_path: Path, ramp_foot: str | None, kept: bool
) -> None:
    """Nanjing's way 628642830: a pedestrian way whose only tie to the streets is a node in the
    middle of a `motorroad=yes` ramp. Walkers keep off the ramp, so the pedestrian way is cut
    off and dropped, rightly; with `foot=yes` on the ramp, both are walked."""
    ramp = {"highway": "primary_link", "motorroad": "yes", "oneway": "yes"}
    if ramp_foot is not None:
        ramp["foot"] = ramp_foot
    path = _osm(
        tmp_path,
        {**STREET, 4: (100, 50), 5: (200, 50), 6: (150, 200)},
        [(10, [1, 2, 3], {"highway": "primary"}), (11, [2, 4, 5, 3], ramp),
         (20, [4, 6], {"highway": "pedestrian"})],
    )  # fmt: skip
    walk = build_graph(path, profile="walk")
    assert _walked(walk) == ({10, 11, 20} if kept else {10})


def _raw_walkable(path: Path) -> tuple[dict[int, tuple[float, float]], dict[int, list[int]]]:
    """Node locations, and the node lists of the ways the walk profile allows, read straight
    from the file with pyosmium: the oracle, apart from the builder's assembly, clipping,
    crossings and largest-part rule."""
    walk = get_profile("walk")
    coords = {
        n.id: (n.location.lon, n.location.lat)
        for n in osmium.FileProcessor(str(path), osmium.osm.NODE)
    }
    ways = {
        way.id: [node.ref for node in way.nodes]
        for way in osmium.FileProcessor(str(path), osmium.osm.WAY)
        if walk.allows({tag.k: tag.v for tag in way.tags})
    }
    return coords, ways


@pytest.mark.shared
def test_nanjing_walk_graph_drops_only_what_the_file_leaves_unconnected(shared_dir: Path) -> None:
    """Every walkable way that the file joins to the largest walkable network and that reaches
    into the clip area is walked; every other one is not. Around the Xinjiekou roundabout
    (32.0438 N, 118.7789 E in WGS 84; 32.0418 N, 118.7841 E on GCJ-02 maps) 3 of 35 footways,
    pedestrian ways and steps are walked: the rest are metro underpasses and footway loops
    round the department stores, drawn apart from the streets, and way 628642830."""
    path = shared_dir / "data/osm/nanjing_xinjiekou_cbd.osm"
    graph = build_graph(path, profile="walk")
    coords, ways = _raw_walkable(path)
    raw = nx.Graph()
    for refs in ways.values():
        nx.add_path(raw, refs)
    largest = max(nx.connected_components(raw), key=len)
    area = shapely.box(*graph.graph["report"]["area"])
    in_area = {
        osmid
        for osmid, refs in ways.items()
        if shapely.intersects(area, shapely.LineString([coords[ref] for ref in refs]))
    }
    joined = {osmid for osmid in in_area if ways[osmid][0] in largest}
    assert _walked(graph) == joined
    assert len(in_area - joined) == 66  # in 43 parts of 1-9 ways, none touching a walked way
    assert {792235761, 792235763, 792235765, 860727757, 628642830} <= in_area - joined
