"""Walkers keep off urban expressways (`trunk`) and motor-road tunnels unless foot access or a
sidewalk is tagged; underpasses for walkers stay walkable (notes/helperJ FINDINGS D3)."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from network.graph import build_graph
from network.profiles import get_profile


def _way(osm_id: int, refs: list[int], tags: dict[str, str]) -> str:
    nds = "".join(f'<nd ref="{ref}"/>' for ref in refs)
    kvs = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
    return f' <way id="{osm_id}">{nds}{kvs}</way>\n'


def _osm(folder: Path, ways: dict[int, tuple[list[int], dict[str, str]]]) -> Path:
    """A residential square 1-2-3-4 (about 100 m a side, at 31 N 121 E, way 10) and the given
    ways across it, by id."""
    corners = {1: (0, 0), 2: (0, 1), 3: (1, 1), 4: (1, 0)}
    nodes = "".join(
        f' <node id="{i}" lat="{31 + r / 1000}" lon="{121 + c / 1000}"/>\n'
        for i, (r, c) in corners.items()
    )
    body = {10: ([1, 2, 3, 4, 1], {"highway": "residential"}), **ways}
    xml = "".join(_way(i, refs, tags) for i, (refs, tags) in body.items())
    path = folder / "map.osm"
    path.write_text(
        f'<?xml version="1.0"?>\n<osm version="0.6">\n{nodes}{xml}</osm>\n', encoding="utf-8"
    )
    return path


def _walked(graph: nx.MultiDiGraph) -> set[int]:
    return {data["osmid"] for *_, data in graph.edges(data=True)}


def test_nanjing_like_trunk_tunnel_and_elevated_road_are_not_walked(tmp_path: Path) -> None:
    ways = {
        20: ([1, 3], {"highway": "trunk", "tunnel": "yes", "layer": "-1", "name": "水西门隧道"}),
        21: ([2, 4], {"highway": "trunk", "layer": "1", "name": "内环西线"}),
        22: ([1, 2], {"highway": "trunk_link"}),
        23: ([3, 4], {"highway": "footway", "tunnel": "yes", "layer": "-1"}),  # an underpass
        24: ([2, 3], {"highway": "steps", "tunnel": "yes"}),
    }
    walk = build_graph(_osm(tmp_path, ways), profile="walk")
    assert _walked(walk) == {10, 23, 24}
    assert {20, 21, 22} <= _walked(build_graph(_osm(tmp_path, ways), profile="van"))


def test_a_trunk_road_is_walked_where_foot_access_or_a_sidewalk_is_tagged() -> None:
    walk, trunk = get_profile("walk"), {"highway": "trunk"}
    assert not walk.allows(trunk) and not walk.allows({"highway": "trunk_link"})
    assert not walk.allows({**trunk, "access": "yes"})  # a general key does not open it
    for tag in ({"foot": "yes"}, {"foot": "designated"}, {"foot": "permissive"},
                {"sidewalk": "both"}, {"sidewalk": "right"}, {"sidewalk:left": "yes"}):  # fmt: skip
        assert walk.allows({**trunk, **tag}), tag
    for tag in ({"foot": "no"}, {"foot": "use_sidepath"}, {"sidewalk": "no"},
                {"sidewalk": "none"}, {"sidewalk": "separate"}):  # fmt: skip
        assert not walk.allows({**trunk, **tag}), tag


@pytest.mark.parametrize(
    ("tags", "walked"),
    [
        ({"tunnel": "yes", "layer": "-1"}, False),
        ({"tunnel": "yes", "sidewalk": "both"}, True),
        ({"tunnel": "yes", "foot": "yes"}, True),
        ({"tunnel": "building_passage"}, True),  # through a building, at street level
        ({"bridge": "yes", "layer": "1"}, True),  # bridges carry sidewalks, rarely tagged
        ({}, True),
    ],
)
def test_a_primary_road_is_walked_except_in_a_road_tunnel(tags: dict, walked: bool) -> None:
    walk = get_profile("walk")
    assert walk.allows({"highway": "primary", **tags}) is walked
    assert walk.allows({"highway": "primary_link", **tags}) is walked


def test_vehicles_keep_their_roads_in_tunnels() -> None:
    tunnel = {"highway": "primary", "tunnel": "yes"}
    assert get_profile("van").allows(tunnel) and get_profile("e-tricycle").allows(tunnel)
    assert get_profile("van").allows({"highway": "trunk", "tunnel": "yes"})


@pytest.mark.shared
def test_nanjing_walk_graph_holds_no_trunk_edge(shared_dir: Path) -> None:
    graph = build_graph(shared_dir / "data/osm/nanjing_xinjiekou_cbd.osm", profile="walk")
    trunk = [d for *_, d in graph.edges(data=True) if str(d["highway"]).startswith("trunk")]
    assert trunk == []
