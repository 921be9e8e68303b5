"""Independent checks of the network matrices (networkx Dijkstra) and random test points."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np

from network.snap import Snap, snap_points


def random_points(graph: nx.MultiDiGraph, n: int, seed: int = 0) -> list[tuple[float, float]]:
    """Points scattered near the graph's nodes (within ~30 m), as (lat, lon)."""
    rng = np.random.default_rng(seed)
    nodes = list(graph.nodes)
    picks = rng.choice(len(nodes), size=n, replace=False)
    out = []
    for i in picks:
        data = graph.nodes[nodes[i]]
        out.append(
            (data["y"] + rng.uniform(-2.5e-4, 2.5e-4), data["x"] + rng.uniform(-2.5e-4, 2.5e-4))
        )
    return out


def networkx_matrix(graph: nx.MultiDiGraph, points, weight: str) -> np.ndarray:
    """Independent check: each point becomes a node of the graph, then networkx Dijkstra runs
    from every point. A point whose snap spot is a road node (fraction 0 or 1) is that node;
    any other splits its segment at its spot (new nodes, weights shared in proportion), one
    node per spot, so points sharing a spot are 0 apart both ways."""
    snaps = snap_points(graph, points)
    simple = nx.DiGraph()
    for u, v, data in graph.edges(data=True):
        if u != v and (not simple.has_edge(u, v) or data[weight] < simple[u][v]["w"]):
            simple.add_edge(u, v, w=data[weight])
    spots = []
    for s in snaps:
        node = _node_at(s)
        spots.append(("p", s.u, s.v, s.fraction) if node is None else node)
    by_segment: dict[tuple, set[float]] = {}
    for s in snaps:
        if 0.0 < s.fraction < 1.0:
            by_segment.setdefault((s.u, s.v), set()).add(s.fraction)
    for (a, b), fractions in by_segment.items():
        for tail, head, reverse in ((a, b, False), (b, a, True)):
            if not simple.has_edge(tail, head):
                continue
            w = simple[tail][head]["w"]
            chain = [(0.0, tail)]
            chain += sorted(((1 - f) if reverse else f, ("p", a, b, f)) for f in fractions)
            chain.append((1.0, head))
            for (f1, n1), (f2, n2) in itertools.pairwise(chain):
                simple.add_edge(n1, n2, w=(f2 - f1) * w)
    out = np.full((len(points), len(points)), np.inf)
    for i, origin in enumerate(spots):
        lengths = nx.single_source_dijkstra_path_length(simple, origin, weight="w")
        out[i] = [lengths.get(spot, np.inf) for spot in spots]
    return out


def _node_at(snap: Snap) -> object | None:
    """The road node a snapped point's spot is (fraction 0 or 1), or None for a spot between."""
    if snap.fraction == 0.0:
        return snap.u
    if snap.fraction == 1.0:
        return snap.v
    return None


def networkx_fastest(graph: nx.MultiDiGraph, points) -> tuple[np.ndarray, np.ndarray]:
    """Independent check of travel_matrix: (duration_s, distance_m) of the fastest paths, the
    shorter on equal times. Same integer units as the engines (ms, mm; a partial edge gets its
    share of the edge, rounded); each point becomes an exit and an entry node on its segment
    (and a direct arc to later points on it), joined at no cost to the road node its spot is,
    if it is one (fraction 0 or 1); networkx Dijkstra then runs on the exact key
    time·2**40 + length (Python ints), so a path is fastest first and shortest second."""
    arcs: dict[tuple, tuple[int, int]] = {}
    for u, v, data in graph.edges(data=True):
        if u != v:
            w = (round(data["travel_time"] * 1000), round(data["length"] * 1000))
            arcs[u, v] = min(arcs.get((u, v), w), w)
    simple = nx.DiGraph()
    simple.add_weighted_edges_from((u, v, w) for (u, v), w in arcs.items())

    def part(w: tuple[int, int], share: float) -> tuple[int, int]:
        return round(share * w[0]), round(share * w[1])

    snaps = snap_points(graph, points)
    for i, s in enumerate(snaps):
        for tail, head, f in ((s.u, s.v, s.fraction), (s.v, s.u, 1.0 - s.fraction)):
            if (tail, head) in arcs:
                simple.add_edge(("out", i), head, weight=part(arcs[tail, head], 1.0 - f))
                simple.add_edge(tail, ("in", i), weight=part(arcs[tail, head], f))
        node = _node_at(s)
        if node is not None:  # the spot is a road node: every arc of it is the point's
            simple.add_edge(("out", i), node, weight=(0, 0))
            simple.add_edge(node, ("in", i), weight=(0, 0))
        for j, o in enumerate(snaps):
            if (o.u, o.v) != (s.u, s.v):
                continue
            for tail, head, fi, fj in (
                (s.u, s.v, s.fraction, o.fraction),
                (s.v, s.u, 1.0 - s.fraction, 1.0 - o.fraction),
            ):
                if (tail, head) in arcs and fj >= fi:
                    near, far = part(arcs[tail, head], fi), part(arcs[tail, head], fj)
                    step = (far[0] - near[0], far[1] - near[1])
                    simple.add_edge(("out", i), ("in", j), weight=step)
    for _, _, data in simple.edges(data=True):
        data["key"] = (data["weight"][0] << 40) + data["weight"][1]
    duration = np.full((len(points), len(points)), np.inf)
    distance = np.full((len(points), len(points)), np.inf)
    for i in range(len(points)):
        keys = nx.single_source_dijkstra_path_length(simple, ("out", i), weight="key")
        for j in range(len(points)):
            if ("in", j) in keys:
                key = keys["in", j]
                duration[i, j], distance[i, j] = (key >> 40) / 1000, (key & (2**40 - 1)) / 1000
    return duration, distance
