"""Matrix benchmark: CCH engine vs plain scipy Dijkstra from every source, same run, same points.

Builds the synthetic city (~100k nodes, van profile), snaps 2000 seeded points and computes the
2000 x 2000 duration matrix with the project's engine (`cost_matrix(engine="cch")`) and with the
baseline (`engine="dijkstra"`: scipy.sparse.csgraph.dijkstra from every source over the same
graph plus one virtual node per point). Sources are processed in interleaved chunks so both
engines see the same machine load; the script prints both times, the ratio of the totals and the
median per-chunk ratio, checks exact agreement (both sum integer milliseconds), and reports the
index build time (uncached, and with the CCH order read back from disk) and peak memory.

    .venv/bin/python benchmarks/matrix.py [--nodes 100000] [--points 2000] [--chunks 10]

With `--catchments`: walking catchments for locker siting instead, `distances_within` for
20,000 demand points x 2,000 sites at 500 m on the walk graph of the same city, against a plain
scipy Dijkstra from every site over the whole graph (thresholded afterwards), exact agreement.

    .venv/bin/python benchmarks/matrix.py --catchments [--demand 20000 --sites 2000 --limit 500]

With `--distances`: the cost of `travel_matrix`'s distances along the fastest paths, on top of
its CCH duration matrix, for `--points` points on the synthetic city of `--nodes` (or on the
demo graph with `--demo`): the exact time-then-length Dijkstra the library uses against the
alternative of a time-only Dijkstra whose predecessor tree is summed by pointer jumping (the
library's path for very wide spans), same run, with their agreement, and how much longer the
driven distances are than the shortest ones the matrix used to report.

    .venv/bin/python benchmarks/matrix.py --distances --nodes 20000 --points 1000 [--demo]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import networkx as nx
import numpy as np

import network._engines
from network.graph import build_graph
from network.matrix import cost_matrix, distances_within, prepare, travel_matrix
from network.synthetic import synthetic_city


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seeded_points(graph: nx.MultiDiGraph, count: int, seed: int) -> list[tuple[float, float]]:
    """Points within ~25 m of random junctions: addresses beside the road, not on nodes."""
    rng = np.random.default_rng(seed)
    nodes = list(graph.nodes)
    picks = rng.choice(len(nodes), size=count, replace=False)
    jitter = rng.uniform(-2.2e-4, 2.2e-4, size=(count, 2))
    return [
        (graph.nodes[nodes[i]]["y"] + dy, graph.nodes[nodes[i]]["x"] + dx)
        for i, (dy, dx) in zip(picks, jitter, strict=True)
    ]


def catchments(args: argparse.Namespace) -> None:
    """distances_within vs a full scipy Dijkstra from every site, same points, same run."""
    started = time.perf_counter()
    graph = synthetic_city(args.nodes, seed=args.seed, profile="walk")
    print(
        f"synthetic city (walk): {graph.number_of_nodes()} nodes, {graph.number_of_edges()} "
        f"edges, built in {time.perf_counter() - started:.1f} s"
    )
    demand = seeded_points(graph, args.demand, args.seed + 1)
    sites = seeded_points(graph, args.sites, args.seed + 2)
    timings = []
    for _ in range(2):  # the first call also builds the graph's index (arrays, R-tree)
        started = time.perf_counter()
        within = distances_within(graph, demand, sites, limit_m=args.limit)
        timings.append(time.perf_counter() - started)
    started = time.perf_counter()
    full = cost_matrix(graph, sites, demand, weight="length", engine="dijkstra").T
    base_s = time.perf_counter() - started
    rows, cols = np.nonzero(full <= args.limit)
    coo = within.tocoo()
    exact = bool(
        within.nnz == len(rows)
        and np.array_equal(np.sort(coo.row * len(sites) + coo.col), rows * len(sites) + cols)
        and np.array_equal(within.toarray()[rows, cols], full[rows, cols])
    )
    print(f"{args.demand} demand x {args.sites} sites within {args.limit:g} m: {within.nnz} pairs")
    print(f"  distances_within: {timings[1]:8.2f} s ({timings[0]:.2f} s on the first call, index)")
    print(f"  baseline (scipy dijkstra from every site, whole graph): {base_s:8.2f} s")
    print(f"  ratio: {base_s / timings[1]:.1f}x   exact agreement: {exact}")
    print(f"  peak RSS: {peak_rss_mb():.0f} MB")
    if not exact:
        sys.exit(1)


def distances(args: argparse.Namespace) -> None:
    """travel_matrix (durations + distances driven) against its duration matrix alone, and the
    exact key Dijkstra against the predecessor-tree alternative, same graph, same points."""
    if args.demo:
        graph, name = build_graph("demo", profile="van"), "demo (Helsinki)"
    else:
        graph, name = synthetic_city(args.nodes, seed=args.seed, profile="van"), "synthetic city"
    prepare(graph)
    points = seeded_points(graph, args.points, args.seed)
    print(f"{name} (van): {graph.number_of_nodes()} nodes, {args.points} points")
    runs: dict[str, list[float]] = {"durations": [], "travel_matrix": [], "tree": []}
    for _ in range(args.repeat):
        started = time.perf_counter()
        durations = cost_matrix(graph, points)
        runs["durations"].append(time.perf_counter() - started)
        started = time.perf_counter()
        result = travel_matrix(graph, points)
        runs["travel_matrix"].append(time.perf_counter() - started)
        with mock.patch.object(network._engines, "_EXACT_FLOAT", 0.0):  # the wide-span path
            started = time.perf_counter()
            tree = travel_matrix(graph, points)
            runs["tree"].append(time.perf_counter() - started)
    base, full, alt = (statistics.median(runs[k]) for k in ("durations", "travel_matrix", "tree"))
    shortest = cost_matrix(graph, points, weight="length")
    finite = np.isfinite(shortest)
    longer = result.distance_m[finite] > shortest[finite] + 0.001
    extra = result.distance_m[finite].sum() / shortest[finite].sum() - 1
    print(f"  duration matrix alone (CCH):                 {base:7.2f} s")
    print(f"  travel_matrix (+ exact time/length Dijkstra): {full:7.2f} s "
          f"(distances {full - base:.2f} s)")  # fmt: skip
    slower = (alt - base) / (full - base)
    print(f"  alternative (+ time tree, pointer jumping):   {alt:7.2f} s "
          f"(distances {alt - base:.2f} s, {slower:.1f}x the exact Dijkstra's)")  # fmt: skip
    same = bool(np.array_equal(result.duration_s, durations))
    ties = int((result.distance_m != tree.distance_m).sum())
    print(f"  durations unchanged: {same}; pairs where the tree's equal-time tie differs: {ties}")
    print(f"  driven distance > shortest for {longer.mean():.1%} of pairs, "
          f"+{extra:.1%} in total; peak RSS {peak_rss_mb():.0f} MB")  # fmt: skip
    if not same:
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--catchments", action="store_true")
    parser.add_argument("--demand", type=int, default=20_000)
    parser.add_argument("--sites", type=int, default=2000)
    parser.add_argument("--limit", type=float, default=500.0)
    parser.add_argument("--distances", action="store_true")
    parser.add_argument("--demo", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.catchments:
        catchments(args)
        return
    if args.distances:
        distances(args)
        return

    started = time.perf_counter()
    graph = synthetic_city(args.nodes, seed=args.seed, profile="van")
    build_s = time.perf_counter() - started
    print(
        f"synthetic city: {graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges, "
        f"built in {build_s:.1f} s; peak RSS {peak_rss_mb():.0f} MB"
    )
    points = seeded_points(graph, args.points, args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        graph.graph["index_file"] = str(Path(tmp) / "cch-order.npy")
        started = time.perf_counter()
        prepare(graph)
        index_s = time.perf_counter() - started
        reloaded = graph.copy()  # a new graph object: index rebuilt, CCH order read from disk
        started = time.perf_counter()
        prepare(reloaded)
        cached_s = time.perf_counter() - started
    print(
        f"index build (arrays, R-tree, CCH order + contraction + customisation): {index_s:.1f} s "
        f"uncached, {cached_s:.1f} s with the order cached on disk; peak RSS {peak_rss_mb():.0f} MB"
    )

    chunks = np.array_split(np.arange(args.points), args.chunks)
    cch_s, base_s, ratios = [], [], []
    cch_rows, base_rows = [], []
    for rows in chunks:
        sources = [points[i] for i in rows]
        started = time.perf_counter()
        cch_rows.append(cost_matrix(graph, sources, points, engine="cch"))
        cch_s.append(time.perf_counter() - started)
        started = time.perf_counter()
        base_rows.append(cost_matrix(graph, sources, points, engine="dijkstra"))
        base_s.append(time.perf_counter() - started)
        ratios.append(base_s[-1] / cch_s[-1])
        print(
            f"  sources {rows[0]:4d}-{rows[-1]:4d}: cch {cch_s[-1]:6.2f} s   "
            f"scipy dijkstra {base_s[-1]:6.2f} s   ratio {ratios[-1]:5.1f}x",
            flush=True,
        )
    cch, base = np.vstack(cch_rows), np.vstack(base_rows)
    exact = bool(np.array_equal(cch, base))
    finite = int(np.isfinite(cch).sum())
    print(f"{args.points} x {args.points} duration matrix ({finite} finite entries)")
    print(f"  project engine (CCH, routingkit-cch): {sum(cch_s):8.2f} s")
    print(f"  baseline (scipy dijkstra, every src): {sum(base_s):8.2f} s")
    print(f"  ratio of totals: {sum(base_s) / sum(cch_s):.1f}x   median chunk ratio: "
          f"{statistics.median(ratios):.1f}x   (target >= 5x)")  # fmt: skip
    print(f"  exact agreement (integer milliseconds): {exact}")
    print(f"  peak RSS: {peak_rss_mb():.0f} MB")
    if not exact:
        sys.exit(1)


if __name__ == "__main__":
    main()
