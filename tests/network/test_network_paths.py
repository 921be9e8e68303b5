"""Routes drawn on the roads: each leg follows the fastest path the matrices time, from its
stop's snap spot to the next stop's."""

from __future__ import annotations

from itertools import pairwise

import networkx as nx
import pytest

from network.graph import build_graph
from network.matrix import travel_matrix
from network.paths import RoadLines
from network.snap import snap_points


def _xy(graph, node) -> tuple[float, float]:
    return graph.nodes[node]["x"], graph.nodes[node]["y"]


def test_each_leg_follows_a_fastest_path_between_its_stops():
    graph = build_graph("synthetic:60")
    nodes = list(graph.nodes)
    stops = [nodes[0], nodes[len(nodes) // 2], nodes[-1]]
    line = RoadLines(graph).along([_xy(graph, n) for n in stops])
    at = {(round(d["x"], 6), round(d["y"], 6)): n for n, d in graph.nodes(data=True)}
    drawn = [at[tuple(c)] for c in line]  # stops on road nodes: every point is a node
    assert drawn[0] == stops[0] and drawn[-1] == stops[-1]
    assert all(a != b for a, b in pairwise(drawn))  # each position once
    first = drawn[: drawn.index(stops[1]) + 1]
    cost = sum(
        min(e["travel_time"] for e in graph.get_edge_data(a, b).values())
        for a, b in pairwise(first)
    )
    best = nx.shortest_path_length(graph, stops[0], stops[1], weight="travel_time")
    assert cost == pytest.approx(best)
    assert len(line) > len(stops) + 2  # along the roads, not stop to stop


def _block() -> nx.MultiDiGraph:
    """A block of four corners 1 (south-west), 2 (south-east), 3 (north-east), 4 (north-west):
    the south side one-way eastwards (1 -> 2), the others two-way."""
    graph = nx.MultiDiGraph(crs="EPSG:4326")
    corners = {1: (120.000, 36.000), 2: (120.010, 36.000), 3: (120.010, 36.005),
               4: (120.000, 36.005)}  # fmt: skip
    for node, (x, y) in corners.items():
        graph.add_node(node, x=x, y=y)
    metres = {(1, 2): 900.0, (2, 3): 555.0, (3, 4): 900.0, (4, 1): 555.0}
    for (a, b), m in metres.items():
        graph.add_edge(a, b, travel_time=m / 10, length=m)
        if (a, b) != (1, 2):
            graph.add_edge(b, a, travel_time=m / 10, length=m)
    return graph


def _drawn_seconds(graph: nx.MultiDiGraph, line: list[list[float]]) -> float:
    """The time along a drawn line whose positions lie on the block's sides (10 m/s)."""
    metres = 0.0
    for (x1, y1), (x2, y2) in pairwise(line):
        metres += abs(x2 - x1) * 90_000 + abs(y2 - y1) * 111_000  # this block's scale
    return metres / 10


def test_a_stop_on_a_one_way_street_leaves_it_the_way_it_runs():
    """A stop a tenth of the way along the one-way south side, going to the north-west corner:
    the van drives on east (2, 3, 4: 2,265 m), as the matrix times it. From the nearest node
    (1, behind it) the line went straight up the west side, a drive against the one-way."""
    graph = _block()
    a, b = (36.0, 120.001), (36.005, 120.0)  # (lat, lon)
    line = RoadLines(graph).along([(a[1], a[0]), (b[1], b[0])])
    assert line[:2] == [[120.001, 36.0], [120.01, 36.0]]  # on along the one-way, east
    assert [120.01, 36.005] in line and [120.0, 36.0] not in line
    seconds = travel_matrix(graph, [a, b]).duration_s[0, 1]
    assert seconds == pytest.approx((810 + 555 + 900) / 10)
    assert _drawn_seconds(graph, line) == pytest.approx(seconds, rel=0.01)


def test_two_stops_on_one_segment_are_joined_along_it():
    graph = _block()
    line = RoadLines(graph).along([(120.002, 36.0), (120.006, 36.0)])
    assert line == [[120.002, 36.0], [120.006, 36.0]]
    back = RoadLines(graph).along([(120.006, 36.0), (120.002, 36.0)])  # against the one-way
    assert [120.0, 36.005] in back and len(back) == 6  # round the block: 2, 3, 4, 1


def test_a_leg_without_a_road_between_its_stops_stays_straight():
    graph = nx.MultiDiGraph()
    graph.add_node(1, x=120.0, y=36.0)
    graph.add_node(2, x=120.01, y=36.0)
    graph.add_node(3, x=120.02, y=36.0)
    graph.add_edge(1, 2, travel_time=60.0, length=900.0)
    graph.add_edge(3, 2, travel_time=60.0, length=900.0)
    line = RoadLines(graph).along([(120.0, 36.0), (120.01, 36.0), (120.02, 36.0)])
    assert line == [[120.0, 36.0], [120.01, 36.0], [120.02, 36.0]]  # 2 cannot reach 3


def test_the_line_ends_at_the_last_stop_and_one_stop_goes_there_and_back():
    graph = build_graph("synthetic:60")
    lines = RoadLines(graph)
    nodes = list(graph.nodes)
    # stops set back from their road nodes, as doors are: the line must still end at them
    stops = [
        [round(x + 1e-4, 6), round(y + 1e-4, 6)]
        for x, y in (
            _xy(graph, nodes[0]),
            _xy(graph, nodes[len(nodes) // 2]),
            _xy(graph, nodes[-1]),
        )
    ]
    line = lines.along(stops)
    assert line[0] == stops[0] and line[-1] == stops[-1]
    one = lines.along(stops[:1])
    (spot,) = snap_points(graph, [(stops[0][1], stops[0][0])])
    assert one == [stops[0], [round(spot.lon, 6), round(spot.lat, 6)], stops[0]]
    # two stops at one door (two drops into one locker) walk nowhere: no leg to the road and
    # back, which the route's walked_m would not count (the README audit's lockers routes)
    assert lines.along(stops[:1] * 2) == [stops[0], stops[0]]
    twice = lines.along([stops[0], stops[1], stops[1], stops[2]])
    assert twice == lines.along([stops[0], stops[1], stops[2]])
    assert lines.along([]) == []
