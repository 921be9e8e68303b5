"""Routes drawn on the roads: each leg follows a fastest path of the graph."""

from __future__ import annotations

from itertools import pairwise

import networkx as nx
import pytest

from network.graph import build_graph
from network.paths import RoadLines


def _xy(graph, node) -> tuple[float, float]:
    return graph.nodes[node]["x"], graph.nodes[node]["y"]


def test_each_leg_follows_a_fastest_path_between_its_stops():
    graph = build_graph("synthetic:60")
    nodes = list(graph.nodes)
    stops = [nodes[0], nodes[len(nodes) // 2], nodes[-1]]
    line = RoadLines(graph).along([_xy(graph, n) for n in stops])
    at = {(round(d["x"], 6), round(d["y"], 6)): n for n, d in graph.nodes(data=True)}
    drawn = [at[tuple(c)] for c in line]  # every point is a stop or a road node
    assert drawn[0] == stops[0] and drawn[-1] == stops[-1]
    # the stop is written, then its leg from the stop's node to the next stop's node
    first = drawn[1 : drawn.index(stops[1], 2) + 1]
    assert first[0] == stops[0] and first[-1] == stops[1]
    cost = sum(
        min(e["travel_time"] for e in graph.get_edge_data(a, b).values())
        for a, b in pairwise(first)
    )
    best = nx.shortest_path_length(graph, stops[0], stops[1], weight="travel_time")
    assert cost == pytest.approx(best)
    assert len(line) > len(stops) + 2  # along the roads, not stop to stop


def test_a_leg_without_a_road_between_its_stops_stays_straight():
    graph = nx.MultiDiGraph()
    graph.add_node(1, x=120.0, y=36.0)
    graph.add_node(2, x=120.01, y=36.0)
    graph.add_node(3, x=121.0, y=37.0)  # no road to it
    graph.add_edge(1, 2, travel_time=60.0, length=900.0)
    line = RoadLines(graph).along([(120.0, 36.0), (120.01, 36.0), (121.0, 37.0)])
    assert line == [[120.0, 36.0], [120.0, 36.0], [120.01, 36.0], [120.01, 36.0], [121.0, 37.0]]


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
    node = lines.nearest(*stops[0])
    node_xy = [round(float(lines.index.x[node]), 6), round(float(lines.index.y[node]), 6)]
    assert one == [stops[0], node_xy, stops[0]] == lines.along(stops[:1] * 2)
    assert lines.along([]) == []
