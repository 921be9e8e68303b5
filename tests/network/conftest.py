"""Fixtures for the road-network tests: demo graphs, shared extracts, an independent checker."""

from __future__ import annotations

import itertools
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from network.graph import build_graph
from network.snap import snap_points


@pytest.fixture(scope="session")
def demo_van() -> nx.MultiDiGraph:
    return build_graph("demo", profile="van")


@pytest.fixture(scope="session")
def demo_walk() -> nx.MultiDiGraph:
    return build_graph("demo", profile="walk")


@pytest.fixture(scope="session")
def osm_dir(shared_dir: Path) -> Path:
    return shared_dir / "data" / "osm"


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
    """Independent check: split each snapped segment at its points (new nodes, weights shared
    in proportion), then run networkx Dijkstra from every point node."""
    snaps = snap_points(graph, points)
    simple = nx.DiGraph()
    for u, v, data in graph.edges(data=True):
        if u != v and (not simple.has_edge(u, v) or data[weight] < simple[u][v]["w"]):
            simple.add_edge(u, v, w=data[weight])
    by_segment: dict[tuple, list[tuple[float, int]]] = {}
    for i, s in enumerate(snaps):
        by_segment.setdefault((s.u, s.v), []).append((s.fraction, i))
    for (a, b), members in by_segment.items():
        members.sort()
        for tail, head, reverse in ((a, b, False), (b, a, True)):
            if not simple.has_edge(tail, head):
                continue
            w = simple[tail][head]["w"]
            chain = [(0.0, tail)]
            chain += [((1 - f) if reverse else f, ("p", i)) for f, i in members]
            chain.sort(key=lambda item: item[0])
            chain.append((1.0, head))
            for (f1, n1), (f2, n2) in itertools.pairwise(chain):
                simple.add_edge(n1, n2, w=(f2 - f1) * w)
    out = np.full((len(points), len(points)), np.inf)
    for i in range(len(points)):
        lengths = nx.single_source_dijkstra_path_length(simple, ("p", i), weight="w")
        for j in range(len(points)):
            out[i, j] = lengths.get(("p", j), np.inf)
    return out
