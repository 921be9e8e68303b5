"""Snapping and matrices: edge snapping, engines agree, independent networkx check, errors."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from network_oracle import networkx_fastest, networkx_matrix, random_points

import network._engines
from network.errors import NetworkError, SnapError
from network.geo import haversine_m
from network.matrix import cost_matrix, distances_within, travel_matrix
from network.snap import snap_arrays, snap_points
from network.synthetic import synthetic_city


def _midpoint_of_long_edge(graph: nx.MultiDiGraph) -> tuple[int, int, tuple[float, float]]:
    u, v, _ = max(graph.edges(data=True), key=lambda e: e[2]["length"])
    a, b = graph.nodes[u], graph.nodes[v]
    return u, v, ((a["y"] + b["y"]) / 2, (a["x"] + b["x"]) / 2)


def test_snaps_to_the_edge_not_the_node(demo_van: nx.MultiDiGraph) -> None:
    u, v, (lat, lon) = _midpoint_of_long_edge(demo_van)
    offset = 1e-4  # ~11 m north of the segment's midpoint
    [snap] = snap_points(demo_van, [(lat + offset, lon)])
    assert {snap.u, snap.v} == {u, v}
    assert 0.3 < snap.fraction < 0.7
    assert snap.snap_m < 12.5 and snap.snap_m < demo_van.edges[u, v, 0]["length"] / 2
    assert snap.lat == pytest.approx(lat, abs=2e-4) and snap.lon == pytest.approx(lon, abs=2e-4)


def test_partial_edges_are_counted(demo_van: nx.MultiDiGraph) -> None:
    u, v, _ = max(demo_van.edges(data=True), key=lambda e: e[2]["length"])
    a, b = demo_van.nodes[u], demo_van.nodes[v]
    quarter = (a["y"] + (b["y"] - a["y"]) * 0.25, a["x"] + (b["x"] - a["x"]) * 0.25)
    three_q = (a["y"] + (b["y"] - a["y"]) * 0.75, a["x"] + (b["x"] - a["x"]) * 0.75)
    result = travel_matrix(demo_van, [quarter, three_q])
    if demo_van.has_edge(u, v):
        edge = demo_van.edges[u, v, 0]
        assert result.distance_m[0, 1] == pytest.approx(edge["length"] / 2, rel=0.02)
        assert result.duration_s[0, 1] == pytest.approx(edge["travel_time"] / 2, rel=0.02)
    assert np.all(np.diag(result.duration_s) == 0)


@pytest.mark.parametrize("fixture", ["demo_van", "demo_walk"])
def test_engines_agree_and_match_networkx(fixture: str, request: pytest.FixtureRequest) -> None:
    graph = request.getfixturevalue(fixture)
    points = random_points(graph, 40, seed=3)
    cch = travel_matrix(graph, points)
    dijkstra = travel_matrix(graph, points, engine="dijkstra")
    assert np.array_equal(cch.duration_s, dijkstra.duration_s)
    assert np.array_equal(cch.distance_m, dijkstra.distance_m)
    assert cch.unreachable == [] and np.isfinite(cch.duration_s).all()
    duration, distance = networkx_fastest(graph, points)
    assert np.array_equal(cch.duration_s, duration)
    assert np.array_equal(cch.distance_m, distance)  # the length of that fastest path
    np.testing.assert_allclose(
        cch.duration_s, networkx_matrix(graph, points, "travel_time"), atol=0.003
    )
    shortest = cost_matrix(graph, points, weight="length")
    np.testing.assert_allclose(shortest, networkx_matrix(graph, points, "length"), atol=0.003)
    assert (cch.distance_m >= shortest).all() and (cch.distance_m > shortest + 1).any()


def test_synthetic_city_distances_match_networkx() -> None:
    """Expressway, arterials and one-way compound streets: fast and short paths part ways."""
    graph = synthetic_city(3000, seed=0)
    points = random_points(graph, 40, seed=1)
    result = travel_matrix(graph, points)
    duration, distance = networkx_fastest(graph, points)
    assert np.array_equal(result.duration_s, duration)
    assert np.array_equal(result.distance_m, distance)
    shortest = cost_matrix(graph, points, weight="length")
    assert (distance > shortest + 50).mean() > 0.2  # the old answer was off by blocks


def test_distance_is_driven_along_the_fastest_path() -> None:
    """A long fast arterial (A-B-C-D, 50 km/h) beside a short slow lane (A-D, 10 km/h) and a
    parallel slow edge A-B: the matrix drives the arterial, and tells its length."""
    graph = nx.MultiDiGraph(crs="epsg:4326")
    m = 1 / 111_320  # degrees of latitude per metre
    spots = {"A": (0, 0), "B": (0, 300), "C": (200, 300), "D": (200, 0)}  # (east m, north m)
    for node, (east, north) in spots.items():
        graph.add_node(node, x=121.0 + east * m / np.cos(np.radians(31.0)), y=31.0 + north * m)
    for u, v, metres, kmh in [
        ("A", "B", 300, 50), ("B", "C", 200, 50), ("C", "D", 300, 50), ("A", "D", 200, 10),
        ("A", "B", 295, 5),  # a parallel, shorter but slower edge: not the one driven
    ]:  # fmt: skip
        for tail, head in ((u, v), (v, u)):
            graph.add_edge(tail, head, length=metres, travel_time=metres / (kmh / 3.6))
    near_a = (31.0 + 1 * m, 121.0)  # 1 m up A-B
    near_d = (31.0 + 1 * m, 121.0 + 200 * m / np.cos(np.radians(31.0)))  # 1 m up D-C
    points = [near_a, near_d]
    for engine in ("cch", "dijkstra"):
        result = travel_matrix(graph, points, engine=engine)
        assert result.duration_s[0, 1] == pytest.approx(798 / (50 / 3.6), abs=0.002)
        assert result.distance_m[0, 1] == pytest.approx(798, abs=0.002)  # 299 + 200 + 299
    # The shortest way is back along the slow 295 m edge to A, the lane, and up to the point.
    shortest = cost_matrix(graph, points, weight="length")[0, 1]
    assert shortest == pytest.approx(295 / 300 + 200 + 1, abs=0.002)
    assert np.array_equal(networkx_fastest(graph, points)[1], result.distance_m)


def test_fastest_path_tie_goes_to_the_shorter() -> None:
    """Two routes of exactly the same time; the matrix reports the shorter one's length."""
    graph = nx.MultiDiGraph(crs="epsg:4326")
    m = 1 / 111_320
    for node, north in {1: 0, 2: 100, 3: 200}.items():
        graph.add_node(node, x=121.0, y=31.0 + north * m)
    graph.add_node(4, x=121.0 + 50 * m, y=31.0 + 100 * m)
    for u, v, metres in [(1, 2, 100), (2, 3, 100), (1, 4, 150), (4, 3, 150)]:
        graph.add_edge(u, v, length=metres, travel_time=20.0)
        graph.add_edge(v, u, length=metres, travel_time=20.0)
    points = [(31.0, 121.0), (31.0 + 200 * m, 121.0)]  # on nodes 1 and 3
    for engine in ("cch", "dijkstra"):
        result = travel_matrix(graph, points, engine=engine)
        assert result.duration_s.tolist() == [[0, 40], [40, 0]]
        assert result.distance_m.tolist() == [[0, 200], [200, 0]]


def test_wide_span_fallback_sums_lengths_along_the_tree(
    demo_van: nx.MultiDiGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spans too wide for the exact float key use the fastest-path tree and pointer jumping;
    on the demo (no equal-time ties between these points) it gives the same distances."""
    points = random_points(demo_van, 25, seed=4)
    exact = travel_matrix(demo_van, points)
    monkeypatch.setattr(network._engines, "_EXACT_FLOAT", 0.0)
    wide = travel_matrix(demo_van, points)
    assert np.array_equal(wide.duration_s, exact.duration_s)
    assert np.array_equal(wide.distance_m, exact.distance_m)


def test_one_way_asymmetry_van_symmetry_walk(demo_van, demo_walk) -> None:
    points = random_points(demo_van, 30, seed=5)
    van = travel_matrix(demo_van, points).duration_s
    assert np.abs(van - van.T).max() > 30  # one-way streets make some detours
    walk = cost_matrix(demo_walk, points, weight="length")
    np.testing.assert_allclose(walk, walk.T, atol=0.003)


def test_unreachable_pairs_are_inf_and_listed() -> None:
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for node, (x, y) in {1: (121.0, 31.0), 2: (121.001, 31.0), 3: (121.002, 31.0)}.items():
        graph.add_node(node, x=x, y=y)
    graph.add_edge(1, 2, length=95.0, travel_time=10.0, highway="residential")
    graph.add_edge(2, 3, length=95.0, travel_time=10.0, highway="residential")
    points = [(31.0, 121.0002), (31.0, 121.0018)]
    result = travel_matrix(graph, points)
    assert result.unreachable == [(1, 0)]
    assert result.duration_s[1, 0] == np.inf and result.distance_m[1, 0] == np.inf
    assert result.duration_s[0, 1] == pytest.approx(16.0, abs=0.01)


def test_bad_points_are_named(demo_van: nx.MultiDiGraph) -> None:
    good = random_points(demo_van, 2)
    with pytest.raises(SnapError, match=r"point 'sea'.*max_snap_m=500"):
        travel_matrix(demo_van, [*good, (59.9, 24.9)], labels=["a", "b", "sea"])
    with pytest.raises(SnapError, match=r"point 1:.*not a valid coordinate"):
        travel_matrix(demo_van, [good[0], (float("nan"), 24.94)])
    with pytest.raises(SnapError, match="point 0:"):
        snap_points(demo_van, [(95.0, 24.94)])
    with pytest.raises(SnapError, match=r"^point 0: \(60.17, 'east'\) is not a \(lat, lon\) pair"):
        snap_points(demo_van, [(60.17, "east")])
    with pytest.raises(SnapError, match=r"^point 0: \(60.17, 24.94, 3.0\) is not a \(lat, lon\)"):
        snap_points(demo_van, [(60.17, 24.94, 3.0)])
    empty = travel_matrix(demo_van, [])
    assert empty.duration_s.shape == (0, 0) and empty.unreachable == []
    with pytest.raises(SnapError, match="max_snap_m=1"):
        snap_points(demo_van, [(good[0][0] + 0.001, good[0][1])], max_snap_m=1)


def test_snap_errors_name_the_argument_and_refuse_a_bad_limit() -> None:
    graph = synthetic_city(200, seed=0)
    good, far = random_points(graph, 1), [(0.0, 0.0)]
    with pytest.raises(SnapError, match=r"^target 0: .*max_snap_m=500"):
        cost_matrix(graph, good, far)
    with pytest.raises(SnapError, match=r"^source 0: "):
        cost_matrix(graph, far, good)
    with pytest.raises(SnapError, match=r"^target 0: "):
        distances_within(graph, good, far, limit_m=100.0)
    with pytest.raises(SnapError, match=r"^source 0: "):
        distances_within(graph, far, good, limit_m=100.0)
    with pytest.raises(SnapError, match=r"^target 0: \(1.0, 'east'\) is not a \(lat, lon\)"):
        distances_within(graph, good, [(1.0, "east")], limit_m=100.0)
    for bad in (-1.0, float("nan"), "500", None, True):
        with pytest.raises(SnapError, match=r"^max_snap_m=.*expected a number of metres >= 0"):
            travel_matrix(graph, good, max_snap_m=bad)


def test_door_to_door_distances_add_the_walks_to_the_road(demo_walk: nx.MultiDiGraph) -> None:
    # points set back from the streets (about 20 m north): their snap spots may be closer to
    # each other than the points are, and so were "walks" shorter than the crow flies
    sources = [(lat + 0.00018, lon) for lat, lon in random_points(demo_walk, 60, seed=7)]
    targets = [(lat + 0.00018, lon) for lat, lon in random_points(demo_walk, 15, seed=8)]
    legs_s = snap_arrays(demo_walk, sources).snap_m
    legs_t = snap_arrays(demo_walk, targets).snap_m
    assert legs_s.min() > 0
    plain = distances_within(demo_walk, sources, targets, limit_m=600.0).tocoo()
    door = distances_within(demo_walk, sources, targets, limit_m=600.0, access=True).tocoo()
    expected = plain.data + legs_s[plain.row] + legs_t[plain.col]
    kept = expected <= 600.0
    assert 0 < door.nnz == int(kept.sum()) < plain.nnz
    by_pair = dict(zip(zip(plain.row, plain.col, strict=True), expected, strict=True))
    np.testing.assert_allclose(
        door.data, [by_pair[p] for p in zip(door.row, door.col, strict=True)], atol=1e-9
    )
    src, tgt = np.array(sources)[door.row], np.array(targets)[door.col]
    crow = haversine_m(src[:, 0], src[:, 1], tgt[:, 0], tgt[:, 1])
    assert (door.data >= crow - 0.5).all()
    with pytest.raises(NetworkError, match="access=True needs weight='length'"):
        distances_within(
            demo_walk, sources, targets, limit_m=60.0, weight="travel_time", access=True
        )


def test_distances_within_matches_the_full_matrix(demo_walk: nx.MultiDiGraph) -> None:
    sources = random_points(demo_walk, 60, seed=7)
    targets = random_points(demo_walk, 15, seed=8)
    full = cost_matrix(demo_walk, sources + targets, weight="length")[:60, 60:]
    for limit in (300.0, 800.0):
        within = distances_within(demo_walk, sources, targets, limit_m=limit)
        assert within.shape == (60, 15)
        dense = np.full(within.shape, np.inf)
        coo = within.tocoo()
        dense[coo.row, coo.col] = coo.data
        expected = np.where(full <= limit, full, np.inf)
        np.testing.assert_allclose(dense, expected, atol=1e-9)
        assert within.nnz == int((full <= limit).sum()) > 0
    swapped = distances_within(demo_walk, targets, sources, limit_m=500.0)
    assert swapped.shape == (15, 60)
    assert (
        abs(swapped - distances_within(demo_walk, sources, targets, limit_m=500.0).T)
    ).max() < 0.003
    seconds = distances_within(demo_walk, sources, targets, limit_m=240.0, weight="travel_time")
    durations = travel_matrix(demo_walk, sources + targets).duration_s[:60, 60:]
    coo = seconds.tocoo()
    np.testing.assert_allclose(coo.data, durations[coo.row, coo.col], atol=1e-9)
    assert seconds.nnz == int((durations <= 240.0).sum()) > 0


def test_distances_within_no_limit_keeps_every_reachable_pair() -> None:
    graph = synthetic_city(400, seed=3, profile="walk")
    sources, targets = random_points(graph, 12, seed=1), random_points(graph, 5, seed=2)
    full = cost_matrix(graph, sources + targets, weight="length")[:12, 12:]
    assert np.isfinite(full).all()
    for limit in (float("inf"), 1e306):  # 1e306 m overflows to inf in millimetres
        within = distances_within(graph, sources, targets, limit_m=limit).toarray()
        np.testing.assert_allclose(within, full, atol=1e-9)
        door = distances_within(graph, targets, sources, limit_m=limit, access=True)
        assert door.nnz == full.size
    for bad in ("100", None, True, -1.0, float("nan")):
        with pytest.raises(NetworkError, match=r"^limit_m=.*expected a number >= 0"):
            distances_within(graph, sources, targets, limit_m=bad)
