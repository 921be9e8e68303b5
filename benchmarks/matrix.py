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

With `--memory`: `gongpei network matrix` at scale. Saves the synthetic city as a built-graph
folder, then for each of `--sizes` seeded points runs, each in a process of its own, the command
itself and the in-memory path it replaced (`travel_matrix`, `np.savez` into memory, then an
atomic write: two full matrices plus the file's bytes in memory), and prints their peak RSS
(`os.wait4`), wall time and whether the two .npz files hold the same arrays (CRC of each member).
The in-memory path is skipped above `--old-max` points (about 17 GB at 20,000).

    .venv/bin/python benchmarks/matrix.py --memory [--sizes 2000,5000,10000,20000 --old-max 10000]

With `--export`: the GraphML file of `gongpei network build` for the synthetic city of `--nodes`,
written as osmnx writes it (`ox.save_graphml` of a copy: what the build did) and as the build
now streams it (`network.store`), each in a process of its own after loading the graph: memory
added by the export (peak RSS over RSS before it), time, and whether the files are identical.

    .venv/bin/python benchmarks/matrix.py --export --nodes 84000
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
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


def _run_child(command: list[str]) -> tuple[float, float, str]:
    """(peak RSS in MB, wall seconds, stdout) of one command run in its own process: `os.wait4`
    gives that child's own peak, not the running maximum over all children."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err)  # files: no pipe to drain
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            sys.exit(f"{' '.join(command)} failed:\n{err.read()}")
        return usage.ru_maxrss / 1024, wall, out.read()


def _members(path: Path) -> dict[str, tuple[int, int]]:
    """(size, CRC-32) of each array in an .npz: equal CRCs of equal-size members mean equal
    bytes, without loading two 3 GB matrices to compare them."""
    with zipfile.ZipFile(path) as archive:
        return {info.filename: (info.file_size, info.CRC) for info in archive.infolist()}


def in_memory_matrix(folder: str, points: str, out: str) -> None:
    """The command's former path, for `--memory`: the whole result in memory, then the whole
    file's bytes in memory again, then written atomically."""
    from network.cache import atomic_write_bytes
    from network.points import read_points_csv
    from network.store import load_graph_dir

    ids, coords = read_points_csv(points)
    graph = load_graph_dir(folder)
    started = time.perf_counter()
    result = travel_matrix(graph, coords, labels=ids)
    buffer = io.BytesIO()
    np.savez(
        buffer, ids=np.array(ids), duration_s=result.duration_s, distance_m=result.distance_m,
        snap_m=result.snap_m,
    )  # fmt: skip
    atomic_write_bytes(Path(out), buffer.getvalue())
    print(f"{len(result.unreachable)} unreachable pairs; in {time.perf_counter() - started:.2f} s")


def load_only(folder: str) -> None:
    """For `--memory`: what loading the folder and building its index cost before any matrix."""
    from network.store import load_graph_dir

    prepare(load_graph_dir(folder))


def setup(folder: str, nodes: str, seed: str, sizes: str) -> None:
    """For `--memory`, in a process of its own: the synthetic city's graph folder and one
    points CSV per size beside it (points-SIZE.csv)."""
    from network.store import save_graph_dir

    graph = synthetic_city(int(nodes), seed=int(seed), profile="van")
    save_graph_dir(graph, folder)
    for size in (int(part) for part in sizes.split(",") if part):
        rows = seeded_points(graph, size, int(seed))
        Path(folder).with_name(f"points-{size}.csv").write_text("id,lat,lon\n" + "".join(
            f"p{i},{float(lat)!r},{float(lon)!r}\n" for i, (lat, lon) in enumerate(rows)
        ))  # fmt: skip
    print(f"{graph.number_of_nodes()} nodes")


def _rss_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in MB."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M).group(1)) / 1024


def export_graphml(way: str, folder: str, out: str) -> None:
    """For `--export`: one GraphML export of the folder's graph, its memory and time printed.
    Peak RSS is reset after loading the graph (/proc/self/clear_refs), so it is the export's."""
    import json

    import osmnx as ox

    from network.store import _NOT_GRAPHML, _write_graphml, load_graph_dir

    graph = load_graph_dir(folder)
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
    before = _rss_mb("VmRSS")
    started = time.perf_counter()
    attributes = {k: v for k, v in graph.graph.items() if k not in _NOT_GRAPHML}
    attributes["report"] = json.dumps(graph.graph.get("report", {}), ensure_ascii=False)
    if way == "osmnx":  # what the build did: a copy, then osmnx's export
        export = graph.copy()
        export.graph.clear()
        export.graph.update(attributes)
        ox.save_graphml(export, out)
    else:
        _write_graphml(graph, attributes, Path(out))
    print(f"+{_rss_mb('VmHWM') - before:.0f} MB in {time.perf_counter() - started:.2f} s")


def export(args: argparse.Namespace) -> None:
    """GraphML export: osmnx's (the former build) against the streamed one, same graph."""
    import filecmp

    me = [sys.executable, str(Path(__file__).resolve()), "--child"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "graph"
        _, _, said = _run_child([*me, "setup", str(folder), str(args.nodes), str(args.seed), ""])
        print(f"synthetic city (van): {said.strip()}")
        files = {}
        for way in ("osmnx", "streamed"):
            files[way] = Path(tmp) / f"{way}.graphml"
            _, _, said = _run_child([*me, "export", way, str(folder), str(files[way])])
            size = files[way].stat().st_size / 2**20
            print(f"  {way:9s} export: {said.strip()} ({size:.0f} MB file)")
        same = filecmp.cmp(files["osmnx"], files["streamed"], shallow=False)
        print(f"  identical files: {same}")
        if not same:
            sys.exit(1)


def memory(args: argparse.Namespace) -> None:
    """`gongpei network matrix` against the in-memory path it replaced: peak RSS, time, same
    output, each size in fresh processes on the same graph folder and points.

    Everything big runs in a child, the graph too: Linux counts a child's peak from the
    parent's memory at the fork, so this process stays small."""
    me = [sys.executable, str(Path(__file__).resolve()), "--child"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "graph"
        setup_args = (str(folder), str(args.nodes), str(args.seed), args.sizes)
        _, setup_s, said = _run_child([*me, "setup", *setup_args])
        load_mb, load_s, _ = _run_child([*me, "load", str(folder)])
        print(f"synthetic city: {said.strip()}, folder written in {setup_s:.0f} s; "
              f"loading it and its index: peak RSS {load_mb:.0f} MB, {load_s:.1f} s "
              f"(in every figure below); parent {peak_rss_mb():.0f} MB")  # fmt: skip
        print(f"{'points':>7} {'output':>8} | {'in-memory path':>22} | "
              f"{'gongpei network matrix':>22} | same arrays")  # fmt: skip
        for size in map(int, args.sizes.split(",")):
            csv = folder.with_name(f"points-{size}.csv")
            new = Path(tmp) / "new.npz"
            cli = [sys.executable, "-m", "api.cli.main", "network", "matrix"]
            new_mb, _, said = _run_child([*cli, str(folder), str(csv), "-o", str(new)])
            new_s = float(re.findall(r"in ([0-9.]+) s", said)[-1])
            old_txt, same = f"{'skipped':>22}", "n/a"
            if size <= args.old_max:
                old = Path(tmp) / "old.npz"
                old_mb, _, said = _run_child([*me, "old", *map(str, (folder, csv, old))])
                old_s = float(re.findall(r"in ([0-9.]+) s", said)[-1])
                old_txt = f"{old_mb:8.0f} MB {old_s:8.1f} s"
                same = str(_members(old) == _members(new))
                old.unlink()
            output_mb = 2 * size * size * 8 / 2**20
            print(f"{size:7d} {output_mb:6.0f}MB | {old_txt} | {new_mb:8.0f} MB {new_s:8.1f} s"
                  f" | {same}", flush=True)  # fmt: skip
            new.unlink()
            if same == "False":
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
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--sizes", default="2000,5000,10000")
    parser.add_argument("--old-max", type=int, default=10_000)
    parser.add_argument("--export", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)  # --memory's own runs
    args = parser.parse_args()
    if args.child:
        children = {
            "old": in_memory_matrix, "load": load_only, "setup": setup, "export": export_graphml
        }
        children[args.child[0]](*args.child[1:])
        return
    if args.memory:
        memory(args)
        return
    if args.export:
        export(args)
        return
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
