"""The roads layer (a scenario's roads.geojson, the map page's network.geojson) holds only valid
lines: a 0 m edge between two OSM nodes at one spot is left out (notes/helperJ FINDINGS D4)."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely.geometry

from api.scenario.mapdata import road_features
from network.graph import build_graph


def _invalid(features: list[dict]) -> list[dict]:
    return [f for f in features if not shapely.geometry.shape(f["geometry"]).is_valid]


def test_two_nodes_at_one_spot_give_no_line_of_equal_points(tmp_path: Path) -> None:
    # a square of primary road, its corner drawn twice (nodes 2 and 5 at one spot, as in way
    # 138684426 of the campus extract)
    spots = {1: (0, 0), 2: (0, 1), 5: (0, 1), 3: (1, 1), 4: (1, 0)}
    nodes = "".join(
        f' <node id="{i}" lat="{31 + r / 1000}" lon="{121 + c / 1000}"/>\n'
        for i, (r, c) in spots.items()
    )
    refs = "".join(f'<nd ref="{n}"/>' for n in (1, 2, 5, 3, 4, 1))
    osm = tmp_path / "map.osm"
    osm.write_text(
        f'<?xml version="1.0"?>\n<osm version="0.6">\n{nodes} <way id="10">{refs}'
        '<tag k="highway" v="primary"/></way>\n</osm>\n',
        encoding="utf-8",
    )
    graph = build_graph(osm, profile="van")
    assert graph.has_edge(2, 5) and graph.edges[2, 5, 0]["length"] == 0  # the map keeps it
    features = road_features(graph)
    assert _invalid(features) == []
    assert len(features) == 4  # the four sides, once each


@pytest.mark.shared
def test_campus_roads_layer_is_all_valid(shared_dir: Path) -> None:
    graph = build_graph(shared_dir / "data/osm/beijing_tsinghua_pku_campus.osm", profile="van")
    features = road_features(graph)
    assert features and _invalid(features) == []
