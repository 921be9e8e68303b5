"""The real Chinese extracts in ../shared: both profiles, connectivity, one-ways, matrices."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from network_oracle import networkx_fastest, networkx_matrix, random_points

from network.graph import build_graph
from network.matrix import cost_matrix, travel_matrix

pytestmark = pytest.mark.shared

FILES = {
    "beijing": ("beijing_tsinghua_pku_campus.osm", (116.3084, 39.9905, 116.3320, 40.0123)),
    # No <bounds>: the loader infers the extent from the export's free-standing nodes.
    "nanjing": ("nanjing_xinjiekou_cbd.osm", (118.760, 32.034, 118.799, 32.054)),
}


@pytest.fixture(scope="module")
def graphs(osm_dir: Path) -> dict[tuple[str, str], nx.MultiDiGraph]:
    return {
        (city, profile): build_graph(osm_dir / name, profile=profile)
        for city, (name, _) in FILES.items()
        for profile in ("van", "e-tricycle", "walk")
    }


@pytest.mark.parametrize("city", FILES)
@pytest.mark.parametrize("profile", ["van", "e-tricycle", "walk"])
def test_built_clipped_and_strongly_connected(graphs, city: str, profile: str) -> None:
    graph = graphs[city, profile]
    w, s, e, n = FILES[city][1]
    assert graph.number_of_nodes() > 500 and nx.is_strongly_connected(graph)
    eps = 1e-9  # segments crossing the bounds end on them (cut points)
    for _, data in graph.nodes(data=True):  # ways reach ~10 km out; the graph does not
        assert w - eps <= data["x"] <= e + eps and s - eps <= data["y"] <= n + eps
    report = graph.graph["report"]
    assert report["edges_outside_area"] > 0 and report["edges_cut_at_boundary"] > 0
    highways = {d["highway"] for *_, d in graph.edges(data=True)}
    if profile != "walk":
        assert not highways & {"footway", "steps", "path", "pedestrian"}
    if profile == "e-tricycle":
        assert not highways & {"motorway", "trunk", "motorway_link", "trunk_link"}


@pytest.mark.parametrize("city", FILES)
def test_matrices_against_networkx(graphs, city: str) -> None:
    van, walk = graphs[city, "van"], graphs[city, "walk"]
    points = random_points(van, 25, seed=11)
    result = travel_matrix(van, points)
    assert result.snap_m.max() < 40 and result.unreachable == []
    np.testing.assert_allclose(
        result.duration_s, networkx_matrix(van, points, "travel_time"), atol=0.003
    )
    duration, distance = networkx_fastest(van, points)
    assert np.array_equal(result.duration_s, duration)
    assert np.array_equal(result.distance_m, distance)  # driven along the fastest path
    assert np.abs(result.duration_s - result.duration_s.T).max() > 1  # one-way streets
    for profile in ("e-tricycle", "walk"):
        other = travel_matrix(graphs[city, profile], points)
        duration, distance = networkx_fastest(graphs[city, profile], points)
        assert np.array_equal(other.duration_s, duration)
        assert np.array_equal(other.distance_m, distance)
    walked = cost_matrix(walk, points, weight="length")
    np.testing.assert_allclose(walked, networkx_matrix(walk, points, "length"), atol=0.003)
    np.testing.assert_allclose(walked, walked.T, atol=0.003)
