"""`max_snap_m` is decided on the distance the message states: great-circle metres
(`network.geo`), not the local projection's, which on the WGS 84 ellipsoid reads north-south
metres 0.56 % short at the equator and east-west ones 0.36 % long at 60 degrees north."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
import shapely

from network._index import road_index
from network.errors import SnapError
from network.geo import EARTH_RADIUS_M, haversine_m
from network.snap import snap_arrays, snap_points

LIMIT_M = 250.0


def _road(a: tuple[float, float], b: tuple[float, float]) -> nx.MultiDiGraph:
    """One two-way street from (lat, lon) `a` to `b`."""
    graph = nx.MultiDiGraph(crs="epsg:4326")
    for node, (lat, lon) in enumerate((a, b)):
        graph.add_node(node, x=lon, y=lat)
    length = float(haversine_m(*a, *b))
    for u, v in ((0, 1), (1, 0)):
        graph.add_edge(u, v, length=length, travel_time=length / 10.0)
    return graph


def _projected_m(graph: nx.MultiDiGraph, lat: float, lon: float) -> float:
    """The point's distance to the street in the graph's local projection (what decided)."""
    index = road_index(graph)
    x, y = index.project.transform(lon, lat)
    return float(shapely.distance(shapely.Point(x, y), index.seg_lines[0]))


def test_a_point_beyond_the_limit_in_true_metres_is_refused():
    # 250.5 m north of an east-west street on the equator: 249.1 m in the projection, so it
    # was taken, though its message would have said more than the limit
    graph = _road((0.0, -0.01), (0.0, 0.01))
    lat = math.degrees(250.5 / EARTH_RADIUS_M)
    assert _projected_m(graph, lat, 0.0) < LIMIT_M
    with pytest.raises(SnapError) as err:
        snap_arrays(graph, [(lat, 0.0)], max_snap_m=LIMIT_M, labels=["kiosk"])
    assert str(err.value) == (
        f"point 'kiosk': (lat={lat}, lon=0.0) is 250.5 m from the nearest usable road, more "
        "than max_snap_m=250 (off the map or in the sea?)"
    )


def test_a_point_within_the_limit_in_true_metres_is_snapped_at_that_distance():
    # 249.6 m east of a north-south street at 60 N: 250.5 m in the projection, so it was
    # refused as "250 m from the nearest usable road, more than max_snap_m=250"
    graph = _road((60.16, 24.94), (60.18, 24.94))
    lon = 24.94 + math.degrees(249.6 / (EARTH_RADIUS_M * math.cos(math.radians(60.17))))
    assert _projected_m(graph, 60.17, lon) > LIMIT_M
    (snap,) = snap_points(graph, [(60.17, lon)], max_snap_m=LIMIT_M)
    assert snap.snap_m == pytest.approx(249.6, abs=0.01)
    assert snap.snap_m == pytest.approx(float(haversine_m(60.17, lon, snap.lat, snap.lon)))


def test_snap_distances_are_great_circle_metres_to_the_spot(demo_walk: nx.MultiDiGraph):
    index = road_index(demo_walk)
    rng = np.random.default_rng(3)
    lat = rng.uniform(index.y.min(), index.y.max(), 200)
    lon = rng.uniform(index.x.min(), index.x.max(), 200)
    snaps = snap_points(demo_walk, list(zip(lat, lon, strict=True)))
    got = np.array([s.snap_m for s in snaps])
    spots = np.array([(s.lat, s.lon) for s in snaps])
    np.testing.assert_allclose(got, haversine_m(lat, lon, spots[:, 0], spots[:, 1]), rtol=1e-12)
