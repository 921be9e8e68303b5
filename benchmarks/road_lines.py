"""Drawing routes on the roads: `network.paths.RoadLines` against a Dijkstra per leg.

A day's routes on the synthetic city (and on the demo map, central Helsinki): every leg joined
along the fastest roads, as the platform draws a batch it timed on its map. The baseline is what
`RoadLines` did before: the nearest node by a linear scan and networkx's bidirectional Dijkstra
per leg. Both run on the same routes in the same run, each timed ``--repeats`` times (median);
each route's travel time along what is drawn must agree.

    .venv/bin/python benchmarks/road_lines.py [--routes 20] [--stops 25] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from itertools import pairwise

import networkx as nx
import numpy as np
from scipy.spatial import cKDTree

from network.graph import build_graph
from network.paths import RoadLines


def dijkstra_lines(graph: nx.MultiDiGraph, routes: list[list[tuple[float, float]]]) -> list:
    """The baseline: linear nearest-node scan, one bidirectional Dijkstra per leg (node paths)."""
    nodes = list(graph.nodes)
    xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes])
    out = []
    for stops in routes:
        ends = []
        for lon, lat in stops:
            scale = np.cos(np.radians(lat))
            d = ((xy[:, 0] - lon) * scale) ** 2 + (xy[:, 1] - lat) ** 2
            ends.append(nodes[int(np.argmin(d))])
        for a, b in pairwise(ends):
            try:
                out.append(nx.bidirectional_dijkstra(graph, a, b, weight="travel_time")[1])
            except nx.NetworkXNoPath:
                out.append([])
    return out


def travel_time(graph: nx.MultiDiGraph, path: list) -> float:
    return sum(min(e["travel_time"] for e in graph[a][b].values()) for a, b in pairwise(path))


def run(label: str, source: str, args: argparse.Namespace) -> None:
    graph = build_graph(source, profile="van")
    rng = np.random.default_rng(args.seed)
    data = [d for _, d in graph.nodes(data=True)]
    routes = []
    for _ in range(args.routes):  # a van's day: stops within a few km of a random first one
        first = data[rng.integers(len(data))]
        near = [
            d for d in data if abs(d["x"] - first["x"]) < 0.02 and abs(d["y"] - first["y"]) < 0.015
        ]
        picks = rng.choice(len(near), size=min(args.stops, len(near)), replace=False)
        routes.append([(near[k]["x"], near[k]["y"]) for k in picks])
    legs = sum(len(r) - 1 for r in routes)
    start = time.perf_counter()
    lines = RoadLines(graph)
    setup = time.perf_counter() - start
    ours, base = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        drawn = [lines.along(r) for r in routes]
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        paths = dijkstra_lines(graph, routes)
        base.append(time.perf_counter() - start)
    # same fastest paths: compare each route's travel time (ties may pick other roads); the
    # stops are road nodes, so every position drawn is a node (to the 6 decimals written)
    nodes = list(graph.nodes)
    tree = cKDTree([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes])
    ours_t = []
    for line in drawn:
        found = [nodes[i] for i in tree.query(line)[1]]
        path = [n for k, n in enumerate(found) if k == 0 or n != found[k - 1]]
        ours_t.append(travel_time(graph, path))
    base_t, k = [], 0
    for stops in routes:
        base_t.append(sum(travel_time(graph, p) for p in paths[k : k + len(stops) - 1]))
        k += len(stops) - 1
    worst = max(abs(a - b) / max(b, 1e-9) for a, b in zip(ours_t, base_t, strict=True))
    points = sum(len(d) for d in drawn)
    mo, mb = statistics.median(ours), statistics.median(base)
    print(
        f"| {label} | {graph.number_of_nodes():,} | {len(routes)} x {args.stops} ({legs} legs) | "
        f"{setup:.2f} | {mo * 1000:.0f} | {mb * 1000:.0f} | {mb / mo:.0f}x | {worst:.1e} | "
        f"{points:,} |",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--routes", type=int, default=20)
    ap.add_argument("--stops", type=int, default=25, help="stops per route")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(
        "| map | nodes | routes x stops | index s (first, shared with the matrices) | "
        "RoadLines ms (median) | Dijkstra per leg ms (median) | speed-up | worst travel-time "
        "difference | points drawn |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    run("synthetic city", "synthetic:10000", args)
    run("demo (central Helsinki)", "demo", args)


if __name__ == "__main__":
    main()
