"""Audit regressions of snapping and the matrices: points on road nodes beside one-way streets,
the oracle's shared snap spots, catchments at exactly their limit, points that cannot be snapped
and malformed input."""

from __future__ import annotations

import math
import re
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from network_oracle import networkx_fastest, networkx_matrix, random_points

from network._index import road_index
from network.errors import SnapError
from network.geo import haversine_m
from network.graph import build_graph
from network.matrix import cost_matrix, distances_within, travel_matrix
from network.paths import RoadLines
from network.snap import snap_arrays, snap_points
from network.synthetic import synthetic_city

M = 1 / 111_320  # degrees of latitude per metre
COS = math.cos(math.radians(31.0))
KMH = 20.0


def _at(east: float, north: float) -> tuple[float, float]:
    """(lat, lon) of a spot `east`, `north` metres from (31 N, 121 E)."""
    return 31.0 + north * M, 121.0 + east * M / COS


def _junction(order: str, out_west: bool) -> nx.MultiDiGraph:
    """Junction X: a one-way street to A (west) and one from D (north), the other way round
    when not `out_west`, and a two-way street to B (north-east, 100 m); a long two-way detour
    joins A, D and B through C. Nodes are added in `order` (which segment the R-tree hands a
    point on X depends on the numbering)."""
    spots = {"X": (0, 0), "A": (-100, 0), "D": (0, 100), "B": (60, 80), "C": (0, 600)}
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for node in order:
        lat, lon = _at(*spots[node])
        graph.add_node(node, x=lon, y=lat)
    one_ways = [("X", "A"), ("D", "X")] if out_west else [("A", "X"), ("X", "D")]
    two_ways = [("X", "B", 100), ("A", "C", 700), ("D", "C", 500), ("B", "C", 530)]
    arcs = [(u, v, 100) for u, v in one_ways]
    arcs += [arc for u, v, m in two_ways for arc in ((u, v, m), (v, u, m))]
    for u, v, metres in arcs:
        graph.add_edge(u, v, length=float(metres), travel_time=metres / (KMH / 3.6))
    return graph


def test_a_point_on_a_node_leaves_and_is_reached_by_every_arc_of_it() -> None:
    """P on X, P2 snapped onto X from the junction's outer corner, Q on X-B 90 m from X: the
    ways between them run along X-B (90 m), whichever of X's segments the R-tree returned.
    X-A's arcs alone, one-way the wrong way, sent P round by C (1340 m, out or back)."""
    on_one_way = 0
    for order in ("XADBC", "AXDBC"):  # X-A returned as (X, A) at 0.0, and as (A, X) at 1.0
        for out_west in (True, False):  # the one-way X-A leaves X / enters X
            graph = _junction(order, out_west)
            p, p2, q = _at(0, 0), _at(1, -5), _at(54, 72)
            snaps = snap_points(graph, [p, p2, q])
            assert [s.fraction in (0.0, 1.0) for s in snaps] == [True, True, False]
            on_one_way += {snaps[0].u, snaps[0].v} == {"X", "A"}
            for engine in ("cch", "dijkstra"):
                result = travel_matrix(graph, [p, p2, q], engine=engine)
                expected = [[0, 0, 90], [0, 0, 90], [90, 90, 0]]
                np.testing.assert_allclose(result.distance_m, expected, atol=1e-9)
                seconds = np.divide(expected, KMH / 3.6)
                np.testing.assert_allclose(result.duration_s, seconds, atol=0.0015)
                shortest = cost_matrix(graph, [p, p2, q], weight="length", engine=engine)
                np.testing.assert_allclose(shortest, expected, atol=1e-9)
            within = distances_within(graph, [p, p2], [q], limit_m=90.0)
            assert within.toarray().tolist() == [[90.0], [90.0]]
            back = distances_within(graph, [q], [p, p2], limit_m=90.0)
            assert back.toarray().tolist() == [[90.0, 90.0]]
            # the drawn route starts at X too, and takes the street the matrix timed: straight
            # along X-B to Q's spot (Q lies on the street)
            lines = RoadLines(graph)
            for stops in ([p, q], [q, p]):
                line = lines.along([(lon, lat) for lat, lon in stops])
                assert line == [[round(lon, 6), round(lat, 6)] for lat, lon in stops]
    assert on_one_way > 0  # the case in point: P handed the one-way segment


def _one_way_nodes(graph: nx.MultiDiGraph) -> list:
    """The nodes at an end of a one-way street, in graph order."""
    ends = {w for u, v in graph.edges() if not graph.has_edge(v, u) for w in (u, v)}
    return [n for n in graph.nodes if n in ends]


def _node_to_node_s(graph: nx.MultiDiGraph, nodes: list) -> np.ndarray:
    """Fastest times (s) between road nodes by networkx on whole-millisecond edge times: the
    matrix between points lying on those nodes, with no snapping involved."""
    simple = nx.DiGraph()
    for u, v, data in graph.edges(data=True):
        ms = round(data["travel_time"] * 1000)
        if u != v and (not simple.has_edge(u, v) or ms < simple[u][v]["ms"]):
            simple.add_edge(u, v, ms=ms)
    out = np.empty((len(nodes), len(nodes)))
    for i, origin in enumerate(nodes):
        times = nx.single_source_dijkstra_path_length(simple, origin, weight="ms")
        out[i] = [times[n] / 1000 for n in nodes]
    return out


@pytest.mark.parametrize(("n_nodes", "seed", "profile"), [(600, 0, "van"), (900, 3, "e-tricycle")])
def test_points_on_one_way_nodes_match_the_oracles(n_nodes: int, seed: int, profile: str) -> None:
    """Synthetic cities (25% of inner streets one-way): points exactly on the ends of one-way
    streets, beside points snapped mid-segment, against networkx on the graph itself (node to
    node) and the split-graph oracles."""
    graph = synthetic_city(n_nodes, seed=seed, profile=profile)
    rng = np.random.default_rng(seed)
    ends = _one_way_nodes(graph)
    picked = [ends[i] for i in rng.choice(len(ends), 24, replace=False)]
    on_nodes = [(graph.nodes[n]["y"], graph.nodes[n]["x"]) for n in picked]
    points = on_nodes + random_points(graph, 12, seed=seed)
    cch = travel_matrix(graph, points)
    dijkstra = travel_matrix(graph, points, engine="dijkstra")
    assert np.array_equal(cch.duration_s, dijkstra.duration_s)
    assert np.array_equal(cch.distance_m, dijkstra.distance_m)
    k = len(on_nodes)
    np.testing.assert_allclose(cch.duration_s[:k, :k], _node_to_node_s(graph, picked), atol=1e-9)
    duration, distance = networkx_fastest(graph, points)
    assert np.array_equal(cch.duration_s, duration)
    assert np.array_equal(cch.distance_m, distance)
    shortest = cost_matrix(graph, points, weight="length")
    np.testing.assert_allclose(shortest, networkx_matrix(graph, points, "length"), atol=0.003)
    within = distances_within(graph, points[:k], points[k:], limit_m=math.inf, weight="length")
    np.testing.assert_allclose(within.toarray(), shortest[:k, k:], atol=1e-9)


@pytest.mark.shared
def test_points_on_nodes_of_a_real_map_match_networkx(osm_dir: Path) -> None:
    """Beijing campus, e-tricycle: points on random road nodes, node to node by networkx (39 of
    these 900 pairs were wrong, by up to 361 s)."""
    graph = build_graph(osm_dir / "beijing_tsinghua_pku_campus.osm", profile="e-tricycle")
    nodes = list(graph.nodes)
    picked = [nodes[i] for i in np.random.default_rng(2).choice(len(nodes), 30, replace=False)]
    points = [(graph.nodes[n]["y"], graph.nodes[n]["x"]) for n in picked]
    got = travel_matrix(graph, points).duration_s
    np.testing.assert_allclose(got, _node_to_node_s(graph, picked), atol=1e-9)


def test_the_oracle_puts_points_sharing_a_spot_zero_apart() -> None:
    """Duplicate points share a snap spot: 0 m apart both ways, in the oracle as in the
    matrix (its split chain had ordered them alike in both directions: 3.64 m one way)."""
    graph = synthetic_city(600, seed=1)
    points = random_points(graph, 12, seed=3)
    points += points[:4]
    oracle = networkx_matrix(graph, points, "length")
    for i in range(4):
        assert oracle[i, 12 + i] == oracle[12 + i, i] == 0.0
        assert np.array_equal(oracle[i], oracle[12 + i])
    np.testing.assert_allclose(cost_matrix(graph, points, weight="length"), oracle, atol=0.003)


def test_a_pair_at_exactly_the_limit_is_within_it() -> None:
    """Edges of whole-millimetre lengths k/1000 for which k/1000*1000 falls just below k: a
    pair at exactly the limit is kept (the documented <=), one 1 mm or one float step past it
    is not, in metres and in seconds."""
    bad = [k for k in range(1_000, 2_000) if math.floor(k / 1000 * 1000) < k][:5]
    bad.append(128_027)  # the audit's case
    assert len(bad) == 6 and all(math.floor(k / 1000 * 1000) < k for k in bad)
    graph = nx.MultiDiGraph(crs="epsg:4326")
    north = 0.0
    graph.add_node(0, x=121.0, y=31.0)
    for i, k in enumerate(bad, start=1):
        north += k / 1000
        graph.add_node(i, x=121.0, y=31.0 + north * M)
        for u, v in ((i - 1, i), (i, i - 1)):
            graph.add_edge(u, v, length=k / 1000, travel_time=k / 1000, highway="footway")
    points = [(graph.nodes[n]["y"], graph.nodes[n]["x"]) for n in graph.nodes]
    for weight in ("length", "travel_time"):
        full = cost_matrix(graph, points, weight=weight)
        for i, k in enumerate(bad):
            pair = [points[i]], [points[i + 1]]
            assert full[i, i + 1] == k / 1000
            for limit in (k / 1000, full[i, i + 1]):
                assert distances_within(graph, *pair, limit_m=limit, weight=weight).nnz == 1
            for limit in ((k - 1) / 1000, np.nextafter(k / 1000, 0)):
                assert distances_within(graph, *pair, limit_m=limit, weight=weight).nnz == 0


def _stated_m(message: str) -> float:
    """The distance in metres a SnapError message states."""
    return float(re.search(r" is (?:about )?(\d+) m from", message).group(1))


@pytest.mark.parametrize("max_snap_m", [500.0, math.inf])
def test_a_point_off_the_map_is_refused_by_name_with_its_true_distance(max_snap_m: float) -> None:
    """Points about 90 degrees of longitude from the map: their local projection is not finite
    (the R-tree matches no segment, and uninitialised memory stood in for one) or stretched
    (20,404 km said for 9,706 km). Every one is refused, naming it, at its distance on the
    sphere; with no snap limit, the unprojectable ones still are."""
    graph = synthetic_city(200, seed=0)
    index = road_index(graph)
    unprojectable = 0
    for lat in (-1.0, 0.0, 1.0):
        for lon in (-158.0, -153.7, 26.3, 30.4):
            true_m = haversine_m(lat, lon, index.y, index.x).min()
            projects = np.isfinite(index.project.transform(lon, lat)).all()
            unprojectable += not projects
            if projects and max_snap_m == math.inf:
                snap_arrays(graph, [(lat, lon)], max_snap_m=max_snap_m)  # far, but no limit
                continue
            with pytest.raises(SnapError) as err:
                snap_arrays(graph, [(lat, lon)], max_snap_m=max_snap_m, labels=["far"])
            assert str(err.value).startswith(f"point 'far': (lat={lat}, lon={lon}) is ")
            assert _stated_m(str(err.value)) == pytest.approx(true_m, rel=0.01)
    assert unprojectable > 0  # the case in point


def test_a_graph_without_segments_refuses_points() -> None:
    for n_nodes in (0, 1, 2):
        graph = nx.MultiDiGraph(crs="epsg:4326")
        for i in range(n_nodes):
            graph.add_node(i, x=121.0 + i * 0.001, y=31.0)
        with pytest.raises(SnapError, match=r"^source 0: .*the graph has no road segment"):
            cost_matrix(graph, [(31.0, 121.0)], [(31.0, 121.0)], max_snap_m=math.inf)
        assert travel_matrix(graph, []).duration_s.shape == (0, 0)


def test_malformed_points_and_labels_are_refused_by_name() -> None:
    graph = synthetic_city(200, seed=0)
    good = random_points(graph, 2)
    with pytest.raises(SnapError, match=r"^point 0: \(\) is not a \(lat, lon\) pair"):
        travel_matrix(graph, [(), ()])
    with pytest.raises(SnapError, match=r"^point 'b': \(1\.0,\) is not a \(lat, lon\) pair"):
        travel_matrix(graph, [good[0], (1.0,)], labels=["a", "b"])
    with pytest.raises(SnapError, match=r"^target 1: \[\] is not a \(lat, lon\) pair"):
        cost_matrix(graph, good, [good[0], []])
    with pytest.raises(SnapError, match=r"^sources: expected a list of \(lat, lon\) pairs"):
        distances_within(graph, 31.0, good, limit_m=100.0)
    for labels in (["a"], ["a", "b", "c"]):
        with pytest.raises(SnapError, match=rf"^labels: {len(labels)} given for 2 points"):
            travel_matrix(graph, [good[0], (0.0, 0.0)], labels=labels)
    for empty in ([], np.empty((0, 2))):
        assert travel_matrix(graph, empty).duration_s.shape == (0, 0)
